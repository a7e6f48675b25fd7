"""``mininova-volume``: the Cinder-like block storage service on port 8776
(stands for ``cinder-api`` and ``cinder-volume``; its application is
:mod:`mininova.volume.service.app`)."""

import sys

from mininova import config, service
from mininova.conf import CONF
from mininova.volume.service import app


class VolumeService:
    """The API's WSGI server and the volume manager behind it: stopping
    serves no new request, then waits for the operations under way. The
    NBD exports keep serving the guests (see :mod:`mininova.volume.service.nbd`)."""

    def __init__(self, port=None):
        self.application = app.create_app()
        self.manager = self.application.extensions["mininova-volume"].manager
        self.wsgi = service.WSGIService(
            "mininova-volume", self.application, CONF.volume.osapi_volume_listen,
            CONF.volume.osapi_volume_listen_port if port is None else port,
            CONF.volume.osapi_volume_workers)
        self.port = self.wsgi.port

    def start(self):
        self.wsgi.start()

    def stop(self):
        self.wsgi.stop()
        self.manager.stop()


def build_service(port=None):
    return VolumeService(port)


def main():
    config.parse_args(sys.argv)
    config.setup_logging("mininova-volume")
    server = build_service()
    server.start()
    service.wait_for_signal([server])
