"""``mininova-conductor`` (mirrors ``nova/cmd/conductor.py``): the database
proxy for computes and the build orchestrator, on the ``conductor`` topic."""

import sys

from mininova import config, service
from mininova.conductor import manager


def build_service(host=None):
    conductor = manager.ConductorManager(host)
    return service.Service.create(
        "mininova-conductor", "conductor", conductor, host=host,
        endpoints=[conductor, manager.ComputeTaskManager(host)])


def main():
    config.parse_args(sys.argv)
    config.setup_logging("mininova-conductor")
    server = build_service()
    server.start()
    service.wait_for_signal([server])
