"""The VXLAN type driver: which VNI a network gets, and where the tunnel
endpoints are (mirrors ``neutron/plugins/ml2/drivers/type_vxlan.py`` and
``type_tunnel.py``: ``TunnelTypeDriver``, ``EndpointTunnelTypeDriver`` and
the ``TunnelRpcCallbackMixin``'s ``tunnel_sync``).

A network made while ``[ml2_type_vxlan] vni_ranges`` is set is a *vxlan*
network: a row in ``networksegments`` with ``network_type = vxlan`` and
``segmentation_id`` = the lowest VNI of the ranges no other network holds.
Its MTU is ``global_physnet_mtu - 50``: a guest's Ethernet frame travels
inside IPv4 + UDP + VXLAN headers (20 + 8 + 8) plus its own Ethernet
header (14) on the wire between the hosts, as Neutron's type driver
computes it.

Each L2 agent with a ``[vxlan] local_ip`` calls ``tunnel_sync`` when it
starts: the server records (address, host) in ``ml2_vxlan_endpoints``
(a host whose address changed loses its old row), answers with every
endpoint, and casts ``tunnel_update`` to the other agents, which add the
new address to their vxlan devices' forwarding tables.

Left out: Neutron's ``ml2_vxlan_allocations`` table (one row per VNI with
an ``allocated`` flag, filled from the ranges at start): here a VNI is
taken exactly when a segment row holds it, found by a query and guarded by
a unique constraint; provider networks made by an admin with a chosen
``provider:segmentation_id``; multicast groups (``vxlan_group``); IPv6
endpoints; ``tunnel_delete`` when an agent is deleted (there is no agents
API).
"""

import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging

from mininova.network import constants, exceptions
from mininova.network import models as m

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# IPv4 (20) + UDP (8) + VXLAN (8) + the inner Ethernet header (14).
VXLAN_ENCAP_OVERHEAD = 50
MAX_VXLAN_VNI = 2 ** 24 - 1


def parse_vni_ranges(entries):
    """``["1:1000", "2000:2010"]`` -> ``[(1, 1000), (2000, 2010)]``; a
    wrong entry is a ValueError naming it (the service refuses to start)."""
    ranges = []
    for entry in entries:
        try:
            first, last = (int(part) for part in entry.strip().split(":"))
        except ValueError:
            raise ValueError(f"[ml2_type_vxlan] vni_ranges: {entry!r} is not "
                             "<first>:<last>") from None
        if not 1 <= first <= last <= MAX_VXLAN_VNI:
            raise ValueError(f"[ml2_type_vxlan] vni_ranges: {entry!r} must satisfy "
                             f"1 <= first <= last <= {MAX_VXLAN_VNI}")
        ranges.append((first, last))
    return ranges


def enabled():
    return bool(CONF.ml2_type_vxlan.vni_ranges)


def network_mtu(network_type):
    if network_type == constants.NETWORK_TYPE_VXLAN:
        return CONF.network.global_physnet_mtu - VXLAN_ENCAP_OVERHEAD
    return CONF.network.global_physnet_mtu


def first_free_vni(taken, ranges):
    """The lowest VNI of ``ranges`` not in ``taken`` (None: all taken)."""
    for first, last in ranges:
        for vni in range(first, last + 1):
            if vni not in taken:
                return vni
    return None


def allocate_segment(session, network_id):
    """The new network's segment: a free VNI when VXLAN is on (raises
    NoNetworkAvailable when the ranges are used up), else None (local)."""
    if not enabled():
        return None
    ranges = parse_vni_ranges(CONF.ml2_type_vxlan.vni_ranges)
    taken = set(session.scalars(
        sa.select(m.NetworkSegment.segmentation_id)
        .where(m.NetworkSegment.network_type == constants.NETWORK_TYPE_VXLAN)))
    vni = first_free_vni(taken, ranges)
    if vni is None:
        raise exceptions.NoNetworkAvailable()
    segment = m.NetworkSegment(id=network_id, network_id=network_id,
                               network_type=constants.NETWORK_TYPE_VXLAN,
                               physical_network=None, segmentation_id=vni)
    session.add(segment)
    LOG.debug("Allocated VNI %s to network %s", vni, network_id)
    return segment


def segments_of(session, network_ids):
    """``{network id: (network_type, segmentation_id)}``; a network without
    a segment row is ``("local", None)``."""
    found = {}
    if network_ids:
        query = sa.select(m.NetworkSegment).where(
            m.NetworkSegment.network_id.in_(list(network_ids)))
        for row in session.scalars(query):
            found[row.network_id] = (row.network_type, row.segmentation_id)
    return {network_id: found.get(network_id, (constants.NETWORK_TYPE_LOCAL, None))
            for network_id in network_ids}


# --- tunnel endpoints ------------------------------------------------------------

def add_endpoint(session, ip_address, host, udp_port):
    """Record ``host``'s tunnel address; returns the address the host had
    before when it changed (its peers must forget it), else None."""
    old = session.scalars(sa.select(m.VxlanEndpoint)
                          .where(m.VxlanEndpoint.host == host)).first()
    replaced = None
    if old is not None and old.ip_address != ip_address:
        replaced = old.ip_address
        session.delete(old)
        session.flush()
    # Another host announcing this address takes it over (a host renamed).
    same_ip = session.get(m.VxlanEndpoint, ip_address)
    if same_ip is not None:
        same_ip.host, same_ip.udp_port = host, udp_port
    elif old is None or replaced:
        session.add(m.VxlanEndpoint(ip_address=ip_address, host=host, udp_port=udp_port))
    return replaced


def endpoints(session):
    return [{"ip_address": row.ip_address, "host": row.host, "udp_port": row.udp_port}
            for row in session.scalars(sa.select(m.VxlanEndpoint)
                                       .order_by(m.VxlanEndpoint.ip_address))]
