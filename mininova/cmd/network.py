"""``mininova-network``: the Neutron-like network service on port 9696 (stands
for ``neutron-server``, and on a single host for its DHCP and linux bridge
agents too; see :mod:`mininova.network.service`). Runs as root: its agents
make namespaces, bridges and iptables rules."""

import sys

from mininova import config, service
from mininova.network import service as network_service


def main():
    config.parse_args(sys.argv)
    config.setup_logging("mininova-network")
    server = network_service.NetworkService().start()
    service.wait_for_signal([server])
