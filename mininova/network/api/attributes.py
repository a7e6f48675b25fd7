"""What each resource's attributes are, for the REST layer (mirrors the
``RESOURCE_ATTRIBUTE_MAP`` of ``neutron_lib/api/definitions/network.py``,
``subnet.py``, ``port.py``, ``portbindings.py``, ``security_groups.py``
... and the validators of ``neutron_lib/api/validators``).

Neutron's API layer is generic: one controller for every resource, driven
by a table per resource saying, for each attribute, whether a POST or a
PUT may set it, its default, how to check and convert it, whether a GET
shows it and whether a list may filter on it. :mod:`.base` is that
controller; this module is the tables.

A validator returns None when the value is fine, or the reason it is not
(which becomes ``Invalid input for <attribute>. Reason: <reason>.``, a 400
``HTTPBadRequest``, as in Neutron).
"""

import dataclasses
import ipaddress
import re
import uuid

from mininova.network import constants, ipam

# Defaults that are not values:
REQUIRED = object()       # a POST must give it
DERIVED = object()        # left out of a POST: the plugin decides (a port's MAC)
FROM_CONTEXT = object()   # left out of a POST: the caller's project
NAME_MAX_LEN = 255
DESCRIPTION_MAX_LEN = 255
DNS_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAC_RE = re.compile(r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")


@dataclasses.dataclass(frozen=True)
class Attr:
    post: bool = False            # a POST may set it
    put: bool = False             # a PUT may change it
    default: object = None        # the value when a POST leaves it out
    validate: object = None       # value -> None or the reason it is wrong
    convert: object = None        # value -> value, before validation
    filter: bool = True           # ?attr=value filters a list
    visible: bool = True          # a GET shows it


# --- converters (they raise ValueError with the reason) ---------------------------

def to_boolean(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0"):
        return False
    if value in (0, 1):
        return bool(value)
    raise ValueError(f"'{value}' cannot be converted to boolean")


def to_int(value):
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"'{value}' is not an integer") from None


def to_list(value):
    return value if isinstance(value, list) else [value]


# --- validators --------------------------------------------------------------------

def string(max_len):
    def validate(value):
        if not isinstance(value, str):
            return f"'{value}' is not a valid string"
        if len(value) > max_len:
            return f"'{value}' exceeds maximum length of {max_len}"
        return None
    return validate


def string_or_none(max_len):
    check = string(max_len)
    return lambda value: None if value is None else check(value)


def uuid_value(value):
    try:
        uuid.UUID(str(value))
    except ValueError:
        return f"'{value}' is not a valid UUID"
    if not isinstance(value, str):
        return f"'{value}' is not a valid UUID"
    return None


def uuid_list(value):
    if not isinstance(value, list):
        return f"'{value}' is not a list"
    for item in value:
        reason = uuid_value(item)
        if reason:
            return reason
    return None


def one_of(*values):
    def validate(value):
        if value not in values:
            return f"{value} is not in {list(values)}"
        return None
    return validate


def cidr(value):
    try:
        ipam.parse_cidr(value)
    except ValueError as exc:
        return str(exc)
    return None


def ip_address(value):
    try:
        ipam.parse_ip(value)
    except ValueError as exc:
        return str(exc)
    return None


def ip_address_or_none(value):
    return None if value is None else ip_address(value)


def mac_address(value):
    if not isinstance(value, str) or not MAC_RE.match(value):
        return f"'{value}' is not a valid MAC address"
    if int(value.split(":")[0], 16) & 1:
        return f"'{value}' is not a valid MAC address: a multicast address"
    return None


def dict_or_empty(value):
    if value is not None and not isinstance(value, dict):
        return f"'{value}' is not a dictionary"
    return None


def dns_name(value):
    if not isinstance(value, str):
        return f"'{value}' is not a valid string"
    if value and not all(DNS_LABEL_RE.match(label) for label in value.rstrip(".").split(".")):
        return (f"'{value}' not a valid PQDN or FQDN. Reason: labels are lowercase "
                "letters, digits and hyphens, 1-63 characters, not starting or ending "
                "with a hyphen")
    return None


def _dict_list(value, keys, what, required=()):
    """A list of dicts with only ``keys`` (``required`` among them)."""
    if not isinstance(value, list):
        return f"Invalid data format for {what}: '{value}'"
    for item in value:
        if not isinstance(item, dict) or set(item) - set(keys) or \
                any(key not in item for key in required):
            return f"Invalid data format for {what}: '{item}'"
    return None


def allocation_pools(value):
    reason = _dict_list(value, ("start", "end"), "IP pool", required=("start", "end"))
    if reason:
        return reason
    for pool in value:
        for key in ("start", "end"):
            reason = ip_address(pool[key])
            if reason:
                return reason
    return None


def nameservers(value):
    if not isinstance(value, list):
        return f"Invalid data format for nameserver: '{value}'"
    for server in value:
        if ip_address(server):
            return f"'{server}' is not a valid nameserver"
    duplicates = {server for server in value if value.count(server) > 1}
    if duplicates:
        return f"Duplicate nameserver '{sorted(duplicates)[0]}'"
    return None


def host_routes(value):
    reason = _dict_list(value, ("destination", "nexthop"), "hostroute",
                        required=("destination", "nexthop"))
    if reason:
        return reason
    for route in value:
        try:
            ipaddress.ip_network(route["destination"])
        except (ValueError, TypeError):
            return f"'{route['destination']}' is not a valid CIDR"
        reason = ip_address(route["nexthop"])
        if reason:
            return reason
    return None


def fixed_ips(value):
    reason = _dict_list(value, ("ip_address", "subnet_id"), "fixed IP")
    if reason:
        return reason
    for entry in value:
        if "ip_address" in entry and ip_address(entry["ip_address"]):
            return ip_address(entry["ip_address"])
        if "subnet_id" in entry and uuid_value(entry["subnet_id"]):
            return uuid_value(entry["subnet_id"])
    return None


# --- the tables --------------------------------------------------------------------

COMMON = {
    "id": Attr(validate=uuid_value),
    # Given in a POST only to make something for another project (an
    # admin), or to say one's own (Nova does, for the server's project).
    "tenant_id": Attr(post=True, default=FROM_CONTEXT, validate=string(NAME_MAX_LEN)),
    "project_id": Attr(post=True, default=FROM_CONTEXT, validate=string(NAME_MAX_LEN)),
    "description": Attr(post=True, put=True, default="",
                        validate=string(DESCRIPTION_MAX_LEN)),
    "created_at": Attr(filter=False),
    "updated_at": Attr(filter=False),
    "revision_number": Attr(convert=to_int),
    "tags": Attr(filter=False),
}

NETWORKS = {
    **COMMON,
    "name": Attr(post=True, put=True, default="", validate=string(NAME_MAX_LEN)),
    "admin_state_up": Attr(post=True, put=True, default=True, convert=to_boolean),
    "status": Attr(),
    "subnets": Attr(filter=False),
    "shared": Attr(post=True, put=True, default=False, convert=to_boolean),
    "router:external": Attr(post=True, put=True, default=False, convert=to_boolean),
    "mtu": Attr(convert=to_int),
    "availability_zone_hints": Attr(filter=False),
    "availability_zones": Attr(filter=False),
    "ipv4_address_scope": Attr(filter=False),
    "ipv6_address_scope": Attr(filter=False),
    "l2_adjacency": Attr(filter=False),
    "is_default": Attr(filter=False),
    # The provider extension: shown (to admins), never set through the API.
    "provider:network_type": Attr(),
    "provider:physical_network": Attr(),
    "provider:segmentation_id": Attr(convert=to_int),
}

SUBNETS = {
    **COMMON,
    "name": Attr(post=True, put=True, default="", validate=string(NAME_MAX_LEN)),
    "network_id": Attr(post=True, default=REQUIRED, validate=uuid_value),
    "ip_version": Attr(post=True, default=REQUIRED, convert=to_int, validate=one_of(4, 6)),
    "cidr": Attr(post=True, default=REQUIRED, validate=cidr),
    # Left out of a POST: the first address. null: no gateway.
    "gateway_ip": Attr(post=True, put=True, default=DERIVED, validate=ip_address_or_none),
    "allocation_pools": Attr(post=True, put=True, default=DERIVED, validate=allocation_pools,
                             filter=False),
    "dns_nameservers": Attr(post=True, put=True, default=[], validate=nameservers,
                            filter=False),
    "host_routes": Attr(post=True, put=True, default=[], validate=host_routes, filter=False),
    "enable_dhcp": Attr(post=True, put=True, default=True, convert=to_boolean),
    "ipv6_ra_mode": Attr(post=True, default=None, validate=one_of(None)),
    "ipv6_address_mode": Attr(post=True, default=None, validate=one_of(None)),
    "subnetpool_id": Attr(post=True, default=None, validate=one_of(None)),
    "service_types": Attr(filter=False),
    "segment_id": Attr(filter=False),
}
PORTS = {
    **COMMON,
    "name": Attr(post=True, put=True, default="", validate=string(NAME_MAX_LEN)),
    "network_id": Attr(post=True, default=REQUIRED, validate=uuid_value),
    "admin_state_up": Attr(post=True, put=True, default=True, convert=to_boolean),
    "mac_address": Attr(post=True, put=True, default=DERIVED, validate=mac_address),
    "fixed_ips": Attr(post=True, put=True, default=DERIVED, validate=fixed_ips),
    "device_id": Attr(post=True, put=True, default="", validate=string(NAME_MAX_LEN)),
    "device_owner": Attr(post=True, put=True, default="", validate=string(NAME_MAX_LEN)),
    "status": Attr(),
    "security_groups": Attr(post=True, put=True, default=DERIVED, convert=to_list,
                            validate=uuid_list),
    "allowed_address_pairs": Attr(filter=False),
    "extra_dhcp_opts": Attr(filter=False),
    "port_security_enabled": Attr(filter=False),
    "binding:host_id": Attr(post=True, put=True, default="",
                            validate=string_or_none(NAME_MAX_LEN)),
    "binding:profile": Attr(post=True, put=True, default={}, validate=dict_or_empty,
                            filter=False),
    "binding:vnic_type": Attr(post=True, put=True, default=constants.VNIC_NORMAL,
                              validate=one_of(constants.VNIC_NORMAL)),
    "binding:vif_type": Attr(),
    "binding:vif_details": Attr(filter=False),
    "dns_name": Attr(post=True, put=True, default="", validate=dns_name),
    "dns_assignment": Attr(filter=False),
}

SECURITY_GROUPS = {
    **COMMON,
    "name": Attr(),
    "stateful": Attr(convert=to_boolean),
    "shared": Attr(convert=to_boolean),
    "security_group_rules": Attr(filter=False),
}

SECURITY_GROUP_RULES = {
    **COMMON,
    "security_group_id": Attr(),
    "remote_group_id": Attr(),
    "remote_address_group_id": Attr(),
    "direction": Attr(),
    "ethertype": Attr(),
    "protocol": Attr(),
    "port_range_min": Attr(convert=to_int),
    "port_range_max": Attr(convert=to_int),
    "remote_ip_prefix": Attr(),
    "normalized_cidr": Attr(filter=False),
    "belongs_to_default_sg": Attr(filter=False),
}
