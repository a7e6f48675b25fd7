"""IP address management: which addresses a subnet hands out (mirrors
``neutron/ipam/utils.py``, the checks of
``neutron/db/ipam_backend_mixin.py`` and the choice of address of
``neutron/ipam/drivers/neutrondb_ipam/driver.py``).

Pure functions over :mod:`ipaddress` objects: no database here. The
database keeps the allocation pools and the allocations
(:mod:`mininova.network.models`); the plugin's
:mod:`mininova.network.ipam_backend` asks this module what is valid and
what is free.

The rules, as Neutron's:

- a subnet's addresses for ports are its *allocation pools*; by default one
  pool from the first usable address to the last, without the gateway
  (``10.0.0.0/24`` with gateway ``10.0.0.1``: ``10.0.0.2 - 10.0.0.254``);
- the network and broadcast addresses are never anyone's;
- two subnets of one network may not overlap;
- an address asked for by a port must lie in the subnet (not in a pool: an
  admin may place a port outside the pools on purpose);
- an address chosen for a port is picked at random among the first free
  ones of the pools, except for the DHCP port, which gets the first free
  one (so it is ``10.0.0.2`` on a fresh subnet, as in every devstack).

Left out: IPv6 (SLAAC, DHCPv6, prefix delegation), subnet pools, the
separate IPAM tables of Neutron's pluggable IPAM driver.
"""

import ipaddress
import itertools
import random

from mininova.network import exceptions

# Neutron picks at random among this many first free addresses: concurrent
# creates rarely pick the same one, and addresses are still low in the pool.
RANDOM_WINDOW = 1000


def parse_cidr(value):
    """The network of a CIDR string such as ``10.0.0.0/24``.

    Host bits are allowed and dropped (``10.0.0.5/24`` is 10.0.0.0/24); a
    prefix is required. Raises ValueError with Neutron's reason.
    """
    if not isinstance(value, str) or "/" not in value or value.strip() != value:
        raise ValueError(f"'{value}' is not a valid IP subnet")
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"'{value}' is not a valid IP subnet") from None
    if network.prefixlen == 0:
        raise ValueError("0 is not allowed as CIDR prefix length")
    return network


def parse_ip(value):
    """An IP address object, or ValueError with Neutron's reason."""
    try:
        return ipaddress.ip_address(value)
    except (ValueError, TypeError):
        raise ValueError(f"'{value}' is not a valid IP address") from None


def usable_range(network):
    """First and last address a host may have: without the network and
    broadcast addresses, except in /31 and /32 (which have none to spare)."""
    if network.num_addresses <= 2:
        return network[0], network[-1]
    return network[1], network[-2]


def default_gateway(network):
    """The first usable address, Neutron's default gateway_ip."""
    return usable_range(network)[0]


def default_pools(network, gateway):
    """Every usable address but the gateway, as ``[(first, last)]`` ranges."""
    first, last = usable_range(network)
    if gateway is None or not first <= gateway <= last:
        return [(first, last)]
    pools = []
    if gateway > first:
        pools.append((first, gateway - 1))
    if gateway < last:
        pools.append((gateway + 1, last))
    return pools


def format_pool(pool):
    return {"start": str(pool[0]), "end": str(pool[1])}


def validate_pools(network, pools):
    """Check pools given by the user, as Neutron does (raises its errors)."""
    first, last = usable_range(network)
    for start, end in pools:
        if start.version != network.version or end.version != network.version or start > end:
            raise exceptions.InvalidAllocationPool(pool=format_pool((start, end)))
        if start < first or end > last:
            raise exceptions.OutOfBoundsAllocationPool(
                pool=format_pool((start, end)), subnet_cidr=str(network))
    ordered = sorted(pools)
    for one, two in zip(ordered, ordered[1:], strict=False):
        if two[0] <= one[1]:
            raise exceptions.OverlappingAllocationPools(
                pool_1=format_pool(one), pool_2=format_pool(two), subnet_cidr=str(network))


def validate_gateway(network, gateway, pools):
    """A gateway must be a host address of the subnet, outside the pools.

    Neutron lets a gateway lie outside its subnet (for an upstream router
    on another segment); mininova puts the gateway on the host's bridge,
    so it must be one of the subnet's own addresses.
    """
    first, last = usable_range(network)
    if gateway.version != network.version or not first <= gateway <= last:
        raise exceptions.InvalidInput(error_message="Gateway is not valid on subnet")
    for pool in pools:
        if pool[0] <= gateway <= pool[1]:
            raise exceptions.GatewayConflictWithAllocationPools(
                ip_address=str(gateway), pool=format_pool(pool))


def overlapping(network, others):
    """The first of ``others`` (networks) that shares an address with ``network``."""
    for other in others:
        if network.overlaps(other):
            return other
    return None


def check_fixed_ip(network, address):
    """Whether ``address`` may be given to a port on this subnet: inside it,
    and neither its network nor its broadcast address."""
    first, last = usable_range(network)
    return address.version == network.version and first <= address <= last


def _free_values(pools, allocated):
    """The pools' free addresses as integers, lowest first, lazily: a new
    port looks at up to RANDOM_WINDOW of them, and an address object for
    each cost more than the rest of its allocation (measured: 1000
    ``ip_address`` per port, ~1 ms)."""
    taken = {int(address) for address in allocated}
    for start, end in sorted(pools):
        for value in range(int(start), int(end) + 1):
            if value not in taken:
                yield value


def choose_address(pools, allocated, prefer_first=False):
    """An address to give a new port, or None when the pools are full.

    ``prefer_first``: the lowest free one (the DHCP port's); otherwise one
    at random among the first free ones.
    """
    window = list(itertools.islice(_free_values(pools, allocated),
                                   1 if prefer_first else RANDOM_WINDOW))
    if not window:
        return None
    value = window[0] if prefer_first else random.choice(window)
    # The pools' own address type: an IPv6 pool's low addresses stay IPv6.
    return type(pools[0][0])(value)
