"""``mininova-api``: the REST API on port 8774 and the metadata API on
port 8775 (mirrors ``nova/cmd/api.py``, whose ``enabled_apis`` chooses
which it serves)."""

import sys

from mininova import config, service
from mininova.api import openstack
from mininova.api.metadata import handler as metadata_handler
from mininova.conf import CONF


def build_service(port=None):
    return service.WSGIService("mininova-api", openstack.create_app(),
                               CONF.osapi_compute_listen,
                               CONF.osapi_compute_listen_port if port is None else port,
                               CONF.osapi_compute_workers)


def build_metadata_service(port=None):
    return service.WSGIService("mininova-metadata", metadata_handler.create_app(),
                               CONF.metadata_listen,
                               CONF.metadata_listen_port if port is None else port,
                               CONF.metadata_workers, keep_forwarded_headers=True)


def main():
    config.parse_args(sys.argv)
    config.setup_logging("mininova-api")
    builders = {"osapi_compute": build_service, "metadata": build_metadata_service}
    servers = [builders[api]() for api in dict.fromkeys(CONF.enabled_apis)]
    for server in servers:
        server.start()
    service.wait_for_signal(servers)
