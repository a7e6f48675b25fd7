"""``mininova-network-agent``: the linux bridge L2 agent alone, for a compute
host that is not the network node (stands for ``neutron-linuxbridge-agent``).

It needs ``transport_url`` and ``host`` (the name Nova's compute binds
ports to), and no database: everything it learns comes from the server
over RPC. Runs as root."""

import sys

from mininova import config, service
from mininova.network.agent import linuxbridge


def main():
    config.parse_args(sys.argv)
    config.setup_logging("mininova-network-agent")
    agent = linuxbridge.LinuxBridgeAgent()
    agent.start()
    service.wait_for_signal([agent])
