"""``mininova-api``: the REST API on port 8774 (mirrors ``nova/cmd/api.py``)."""

import sys

from mininova import config, service
from mininova.api import openstack
from mininova.conf import CONF


def build_service(port=None):
    return service.WSGIService("mininova-api", openstack.create_app(),
                               CONF.osapi_compute_listen,
                               CONF.osapi_compute_listen_port if port is None else port,
                               CONF.osapi_compute_workers)


def main():
    config.parse_args(sys.argv)
    config.setup_logging("mininova-api")
    server = build_service()
    server.start()
    service.wait_for_signal([server])
