"""Reading rows and turning them into the API's dicts (mirrors the
``_make_*_dict`` functions and queries of ``neutron/db/db_base_plugin_common.py``
and ``neutron/db/db_base_plugin_v2.py``).

Every function takes an open session (:func:`mininova.network.models.session`):
the plugin (:mod:`mininova.network.plugin`) decides where a transaction
begins and ends, as Neutron's plugin does. What comes out is a plain dict
with the keys and values of the Networking API, before the policy decides
which of them a caller may see (:mod:`mininova.network.api.base`).

Here too, :func:`retry_db_errors`, with which the plugin runs an operation
again when its transaction lost a race (Neutron's decorator of the same
name, in ``neutron_lib/db/api.py``).
"""

import collections
import functools

import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging

from mininova.network import constants, exceptions, type_vxlan, utils
from mininova.network import models as m

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

DB_RETRIES = 10


def retry_db_errors(function):
    """Run the operation again when its transaction lost a race.

    Two ports created at once may pick the same random address or MAC; the
    database refuses the second insert (primary key of ``ipallocations``,
    unique MAC per network). Starting over sees the first one's row and
    picks another; an address the request asked for by name is then
    reported as ``IpAddressAlreadyAllocated`` by the checks themselves.
    Neutron does the same with its ``retry_db_errors`` decorator.
    """
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        for attempt in range(DB_RETRIES):
            try:
                return function(*args, **kwargs)
            except sa.exc.IntegrityError:
                if attempt == DB_RETRIES - 1:
                    raise
                LOG.debug("%s lost a race in the database; trying again", function.__name__)
    return wrapper


def _timestamp(value):
    """Neutron's format: ``2024-05-01T12:00:00Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _standard_attributes(row):
    return {"description": row.description,
            "created_at": _timestamp(row.created_at),
            "updated_at": _timestamp(row.updated_at),
            "revision_number": row.revision_number,
            "tags": []}


def _owner(row):
    # tenant_id is the older name of project_id; clients still read both.
    return {"tenant_id": row.project_id, "project_id": row.project_id}


def _apply_filters(query, model, filters):
    """``filters``: ``{column: [values]}`` (any of the values matches)."""
    for column, values in (filters or {}).items():
        query = query.where(getattr(model, column).in_(values))
    return query


# --- networks -----------------------------------------------------------------

def get_network_row(session, network_id):
    row = session.get(m.Network, network_id)
    if row is None:
        raise exceptions.NetworkNotFound(net_id=network_id)
    return row


def network_rows(session, filters=None):
    query = _apply_filters(sa.select(m.Network), m.Network, filters)
    return list(session.scalars(query.order_by(m.Network.created_at, m.Network.id)))


def make_network_dicts(session, rows):
    subnet_ids = collections.defaultdict(list)
    if rows:
        query = (sa.select(m.Subnet.network_id, m.Subnet.id)
                 .where(m.Subnet.network_id.in_([r.id for r in rows]))
                 .order_by(m.Subnet.created_at, m.Subnet.id))
        for network_id, subnet_id in session.execute(query):
            subnet_ids[network_id].append(subnet_id)
    segments = type_vxlan.segments_of(session, [row.id for row in rows])
    return [_network_dict(row, subnet_ids[row.id], segments[row.id]) for row in rows]


# What a network dict has from other tables than its own row.
NETWORK_JOINED_FIELDS = frozenset({"subnets", "provider:network_type",
                                   "provider:segmentation_id"})


def network_row_dict(row):
    """A network's attributes from its own row: all but
    :data:`NETWORK_JOINED_FIELDS`."""
    return {
        "id": row.id, "name": row.name, **_owner(row),
        "admin_state_up": row.admin_state_up, "status": row.status,
        "shared": row.shared, "router:external": row.external, "mtu": row.mtu,
        "provider:physical_network": None,
        "availability_zone_hints": [], "availability_zones": [],
        "ipv4_address_scope": None, "ipv6_address_scope": None,
        "l2_adjacency": True, "is_default": False,
        **_standard_attributes(row),
    }


def _network_dict(row, subnet_ids, segment):
    network_type, segmentation_id = segment
    return {**network_row_dict(row), "subnets": subnet_ids,
            "provider:network_type": network_type,
            "provider:segmentation_id": segmentation_id}


# --- subnets ------------------------------------------------------------------

def get_subnet_row(session, subnet_id):
    row = session.get(m.Subnet, subnet_id)
    if row is None:
        raise exceptions.SubnetNotFound(subnet_id=subnet_id)
    return row


def subnet_rows(session, filters=None):
    query = _apply_filters(sa.select(m.Subnet), m.Subnet, filters)
    return list(session.scalars(query.order_by(m.Subnet.created_at, m.Subnet.id)))


def pools_of(session, subnet_ids):
    """``{subnet id: [(first, last) as strings]}``, lowest first."""
    pools = collections.defaultdict(list)
    if subnet_ids:
        query = (sa.select(m.IPAllocationPool)
                 .where(m.IPAllocationPool.subnet_id.in_(subnet_ids))
                 .order_by(m.IPAllocationPool.id))
        for pool in session.scalars(query):
            pools[pool.subnet_id].append((pool.first_ip, pool.last_ip))
    return pools


def make_subnet_dicts(session, rows):
    pools = pools_of(session, [r.id for r in rows])
    return [_subnet_dict(row, pools[row.id]) for row in rows]


def _subnet_dict(row, pools):
    return {
        "id": row.id, "name": row.name, **_owner(row),
        "network_id": row.network_id, "ip_version": row.ip_version,
        "cidr": row.cidr, "gateway_ip": row.gateway_ip,
        "allocation_pools": [{"start": first, "end": last} for first, last in pools],
        "dns_nameservers": list(row.dns_nameservers or []),
        "host_routes": list(row.host_routes or []),
        "enable_dhcp": row.enable_dhcp,
        "ipv6_ra_mode": None, "ipv6_address_mode": None,
        "subnetpool_id": None, "service_types": [], "segment_id": None,
        **_standard_attributes(row),
    }


# --- ports --------------------------------------------------------------------

def get_port_row(session, port_id):
    row = session.get(m.Port, port_id)
    if row is None:
        raise exceptions.PortNotFound(port_id=port_id)
    return row


def port_rows(session, filters=None, fixed_ips=None):
    """Ports matching ``filters`` (columns of ``ports``, plus
    ``binding:host_id``) and ``fixed_ips`` (``[{"ip_address"|"subnet_id": v}]``:
    a port matches when one of its addresses matches every key of one entry)."""
    filters = dict(filters or {})
    query = sa.select(m.Port)
    hosts = filters.pop("binding:host_id", None)
    if hosts is not None:
        query = query.join(m.PortBinding, m.PortBinding.port_id == m.Port.id).where(
            m.PortBinding.host.in_(hosts))
    query = _apply_filters(query, m.Port, filters)
    for wanted in fixed_ips or []:
        matching = sa.select(m.IPAllocation.port_id)
        for key, value in wanted.items():
            matching = matching.where(getattr(m.IPAllocation, key) == value)
        query = query.where(m.Port.id.in_(matching))
    return list(session.scalars(query.order_by(m.Port.created_at, m.Port.id)))


def find_port_by_device(session, device_name):
    """The port a tap (or ns-) device belongs to, from the 11 characters of
    its id the name carries; None when no port's id starts with them."""
    prefix = utils.port_id_prefix(device_name)
    if not prefix:
        return None
    query = sa.select(m.Port).where(m.Port.id.startswith(prefix, autoescape=True))
    return session.scalars(query).first()


def allocations_of(session, port_ids):
    """``{port id: [{"subnet_id", "ip_address"}]}``."""
    allocations = collections.defaultdict(list)
    if port_ids:
        query = (sa.select(m.IPAllocation)
                 .where(m.IPAllocation.port_id.in_(port_ids)))
        for row in session.scalars(query):
            allocations[row.port_id].append({"subnet_id": row.subnet_id,
                                             "ip_address": row.ip_address})
    return allocations


def make_port_dicts(session, rows):
    ids = [r.id for r in rows]
    allocations = allocations_of(session, ids)
    bindings = {}
    groups = collections.defaultdict(list)
    if ids:
        for binding in session.scalars(sa.select(m.PortBinding)
                                       .where(m.PortBinding.port_id.in_(ids))):
            bindings[binding.port_id] = binding
        for row in session.scalars(sa.select(m.SecurityGroupPortBinding)
                                   .where(m.SecurityGroupPortBinding.port_id.in_(ids))):
            groups[row.port_id].append(row.security_group_id)
    return [_port_dict(row, allocations[row.id], bindings.get(row.id), groups[row.id])
            for row in rows]


def _port_dict(row, fixed_ips, binding, security_groups):
    fixed_ips = sorted(fixed_ips, key=lambda ip: (ip["subnet_id"], ip["ip_address"]))
    return {
        "id": row.id, "name": row.name, **_owner(row),
        "network_id": row.network_id, "mac_address": row.mac_address,
        "admin_state_up": row.admin_state_up, "status": row.status,
        "device_id": row.device_id, "device_owner": row.device_owner,
        "fixed_ips": fixed_ips,
        "allowed_address_pairs": [], "extra_dhcp_opts": [],
        "security_groups": sorted(security_groups),
        "port_security_enabled": True,
        "binding:host_id": binding.host if binding else "",
        "binding:vif_type": binding.vif_type if binding else constants.VIF_TYPE_UNBOUND,
        "binding:vif_details": dict(binding.vif_details or {}) if binding else {},
        "binding:vnic_type": binding.vnic_type if binding else constants.VNIC_NORMAL,
        "binding:profile": dict(binding.profile or {}) if binding else {},
        "dns_name": row.dns_name,
        "dns_assignment": dns_assignment(row.dns_name, fixed_ips),
        **_standard_attributes(row),
    }


def dns_assignment(dns_name, fixed_ips):
    """The names the network's DNS (dnsmasq) gives the port's addresses:
    its ``dns_name`` if it has one, else ``host-10-0-0-5``; fqdn with
    ``[network] dns_domain`` and the trailing dot, as Neutron shows it."""
    assignment = []
    for ip in fixed_ips:
        hostname = dns_name or utils.dns_hostname(ip["ip_address"])
        assignment.append({"hostname": hostname, "ip_address": ip["ip_address"],
                           "fqdn": f"{hostname}.{CONF.network.dns_domain}."})
    return assignment


def allocated_addresses(session, subnet_id):
    query = sa.select(m.IPAllocation.ip_address).where(m.IPAllocation.subnet_id == subnet_id)
    return set(session.scalars(query))


def mac_in_use(session, network_id, mac_address):
    query = sa.select(m.Port.id).where(m.Port.network_id == network_id,
                                       m.Port.mac_address == mac_address)
    return session.scalars(query).first() is not None


# --- security groups ----------------------------------------------------------

def security_group_rows(session, filters=None):
    query = _apply_filters(sa.select(m.SecurityGroup), m.SecurityGroup, filters)
    return list(session.scalars(query.order_by(m.SecurityGroup.created_at,
                                               m.SecurityGroup.id)))


def security_group_rule_rows(session, filters=None):
    query = _apply_filters(sa.select(m.SecurityGroupRule), m.SecurityGroupRule, filters)
    return list(session.scalars(query.order_by(m.SecurityGroupRule.created_at,
                                               m.SecurityGroupRule.id)))


def make_security_group_dicts(session, rows):
    rules = collections.defaultdict(list)
    if rows:
        for rule in security_group_rule_rows(
                session, {"security_group_id": [r.id for r in rows]}):
            rules[rule.security_group_id].append(make_security_group_rule_dict(rule))
    return [{"id": row.id, "name": row.name, **_owner(row), "stateful": row.stateful,
             "shared": False, "security_group_rules": rules[row.id],
             **_standard_attributes(row)} for row in rows]


def make_security_group_rule_dict(row):
    return {"id": row.id, **_owner(row), "security_group_id": row.security_group_id,
            "direction": row.direction, "ethertype": row.ethertype,
            "protocol": row.protocol, "port_range_min": row.port_range_min,
            "port_range_max": row.port_range_max,
            "remote_ip_prefix": row.remote_ip_prefix,
            "remote_group_id": row.remote_group_id,
            "remote_address_group_id": None, "normalized_cidr": row.remote_ip_prefix,
            "belongs_to_default_sg": True,
            **_standard_attributes(row)}


def default_security_group_id(session, project_id):
    row = session.get(m.DefaultSecurityGroup, project_id)
    return row.security_group_id if row else None
