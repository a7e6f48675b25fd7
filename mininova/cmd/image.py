"""``mininova-image``: the Glance-like image service on port 9292 (stands for
``glance-api``; its application is :mod:`mininova.image.service.app`)."""

import sys

from mininova import config, service
from mininova.conf import CONF
from mininova.image.service import app


def build_service(port=None):
    return service.WSGIService("mininova-image", app.create_app(),
                               CONF.image_service.bind_host,
                               CONF.image_service.bind_port if port is None else port,
                               CONF.image_service.workers,
                               max_request_body_size=CONF.image_service.image_size_cap)


def main():
    config.parse_args(sys.argv)
    config.setup_logging("mininova-image")
    server = build_service()
    server.start()
    service.wait_for_signal([server])
