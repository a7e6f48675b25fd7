"""The host's own address on each network (no Neutron counterpart: it
stands for a router's ``qr-`` interface, without the router).

In Neutron, the subnet's ``gateway_ip`` is the address of a router port
(``qr-…`` in a ``qrouter-`` namespace) and a host reaches a guest through
a floating IP. mininova has neither: on the network node, the gateway
address is put on the network's bridge in the root namespace::

    brq<network id[:11]>  inet 10.0.0.1/24      (the subnet's gateway_ip)

so that ``ssh cirros@10.0.0.5`` from the host works, and guests reach the
host (and its DHCP, DNS and, later, metadata service) at their gateway.
They reach nothing beyond: the bridge is isolated
(:mod:`mininova.network.linux.isolation`), no NAT is set up.

Before it adds an address, the gateway checks that the host does not
already route an overlapping prefix through another device: a subnet
that collides with the host's own LAN would otherwise cut the host off
from it. Such a subnet gets no host address (an error in the log says
why), and its guests are reachable only from each other.
"""

import ipaddress

from oslo_log import log as logging

from mininova.network import utils
from mininova.network.linux import bridge_lib, ip_lib

LOG = logging.getLogger(__name__)


def wanted_addresses(network):
    """``["10.0.0.1/24", ...]``: each subnet's gateway with its prefix."""
    wanted = []
    for subnet in network["subnets"]:
        if subnet["gateway_ip"] and subnet["ip_version"] == 4:
            prefix = ipaddress.ip_network(subnet["cidr"]).prefixlen
            wanted.append(f"{subnet['gateway_ip']}/{prefix}")
    return wanted


def conflicting_route(cidr, routes, bridge):
    """A route of the host (``ip -j route`` dicts) through another device
    than ``bridge`` whose destination overlaps ``cidr``; None if there is none.
    The default route overlaps everything and does not count."""
    network = ipaddress.ip_interface(cidr).network
    for route in routes:
        dst = route.get("dst")
        if not dst or dst == "default" or route.get("dev") == bridge:
            continue
        try:
            other = ipaddress.ip_network(dst, strict=False)
        except ValueError:
            continue
        if other.version == network.version and other.overlaps(network):
            return route
    return None


def sync(network):
    """Put the network's gateway addresses on its bridge and take off the
    others. Returns the bridge name when it was (or now is) in use."""
    bridge = utils.bridge_name(network["id"])
    wanted = wanted_addresses(network)
    if not wanted and not bridge_lib.bridge_exists(bridge):
        return None
    bridge_lib.ensure_bridge(bridge, mtu=network.get("mtu"))
    current = ip_lib.ipv4_addresses(bridge)
    routes = ip_lib.ipv4_routes()
    for cidr in wanted:
        if cidr in current:
            continue
        conflict = conflicting_route(cidr, routes, bridge)
        if conflict:
            LOG.error("Not putting %s on %s: the host already routes %s through %s",
                      cidr, bridge, conflict["dst"], conflict.get("dev"))
            continue
        ip_lib.add_address(bridge, cidr)
        LOG.info("Host gateway %s on %s", cidr, bridge)
    for cidr in current:
        if cidr not in wanted:
            ip_lib.delete_address(bridge, cidr)
            LOG.info("Removed host gateway %s from %s", cidr, bridge)
    return bridge


def remove(network_id):
    """The network is gone from this node: its addresses, and its bridge
    when nothing is plugged into it any more."""
    bridge = utils.bridge_name(network_id)
    if not bridge_lib.bridge_exists(bridge):
        bridge_lib.delete_bridge(bridge)   # its isolation rules, should they remain
        return
    for cidr in ip_lib.ipv4_addresses(bridge):
        ip_lib.delete_address(bridge, cidr)
    if not bridge_lib.interfaces(bridge):
        bridge_lib.delete_bridge(bridge)
