"""Schemas of the servers API bodies and list queries (mirrors
``nova/api/openstack/compute/schemas/servers.py``): one schema per
microversion where a body changed, picked by :class:`validation.Versioned`.

Left out of create and rebuild, and so refused as unknown fields:
``personality`` (file injection, gone from 2.57), ``accessIPv4/6``,
``security_groups``, ``trusted_image_certificates`` (2.63: mininova
verifies no image signatures), ``preserve_ephemeral``.
"""

import copy

from mininova.api import validation
from mininova.api.openstack.compute.schemas.aggregates import hostname
from mininova.api.validation import parameter_types

# ``networks``: before 2.37 only a list of {uuid, port, fixed_ip}; from
# 2.37 also "auto" or "none", and required (Nova's create_v237).
networks_list = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "fixed_ip": {"type": "string", "oneOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
            "port": {"type": ["string", "null"], "format": "uuid"},
            "uuid": {"type": "string"},
        },
        "additionalProperties": False,
    },
}
networks_auto_or_none = {"type": "string", "enum": ["none", "auto"]}


def _networks_check(networks_schema, required):
    """A schema that checks only ``server.networks`` (the create schema has
    checked the rest of the body already)."""
    server = {"type": "object", "properties": {"networks": networks_schema}}
    if required:
        server["required"] = ["networks"]
    return {"type": "object", "properties": {"server": server}}


def _with_tag(request_schema):
    """One ``networks`` entry's schema that also takes a device role ``tag``."""
    tagged = copy.deepcopy(request_schema)
    tagged["properties"]["tag"] = parameter_types.tag
    return tagged


networks_list_v237 = {"type": "array", "items": {
    "type": "object",
    "properties": {
        "fixed_ip": networks_list["items"]["properties"]["fixed_ip"],
        "port": {"type": ["string", "null"], "format": "uuid"},
        "uuid": {"type": "string", "format": "uuid"},
    },
    "additionalProperties": False,
}}

# A NIC's device role ``tag`` (exposed to the guest with the NIC's PCI
# address, see mininova/virt/libvirt/device_metadata.py): from 2.32 to
# 2.36, lost at 2.37 when the networks schema was rewritten without it, back
# at 2.42 (Nova's create_v232, create_v233, create_v237, create_v242; a
# block device's tag was lost at 2.33 already, below). As in Nova, a
# closed schema (additionalProperties false) is what refuses it at the other
# versions: "Additional properties are not allowed ('tag' was unexpected)".
networks_v21 = _networks_check(networks_list, required=False)
networks_v232 = _networks_check(
    dict(networks_list, items=_with_tag(networks_list["items"])), required=False)
networks_v237 = _networks_check({"oneOf": [networks_list_v237, networks_auto_or_none]},
                                required=True)
networks_v242 = _networks_check({"oneOf": [
    dict(networks_list_v237, items=_with_tag(networks_list_v237["items"])),
    networks_auto_or_none,
]}, required=True)
networks = validation.Versioned({"2.1": networks_v21, "2.32": networks_v232,
                                 "2.37": networks_v237, "2.42": networks_v242})

# One entry of the legacy ``block_device_mapping`` (Nova's
# _legacy_block_device_mapping): EC2's virtual_name, volume or snapshot.
legacy_block_device_mapping = {
    "type": "object",
    "properties": {
        "virtual_name": {"type": "string", "maxLength": 255},
        "volume_id": {"type": "string", "format": "uuid"},
        "snapshot_id": parameter_types.image_id,
        "volume_size": {"type": ["integer", "string"], "pattern": r"^[0-9]+\Z",
                        "minimum": 1, "maximum": 0x7FFFFFFF},
        "device_name": {"type": "string", "minLength": 1, "maxLength": 255,
                        "pattern": r"^[a-zA-Z0-9._/-]*\Z"},
        "delete_on_termination": parameter_types.boolean,
        "no_device": {},
        "connection_info": {"type": "string", "maxLength": 16777215},
    },
    "additionalProperties": False,
}

# One entry of ``block_device_mapping_v2``, with every key Nova's schema
# lets through at 2.1 (mininova/block_device.py checks the rest, as Nova's
# BlockDeviceDict does); ``tag`` and ``volume_type`` come with later
# microversions, below.
block_device_mapping_v2 = {
    "type": "object",
    "properties": {
        "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
        "destination_type": {"type": "string", "enum": ["local", "volume"]},
        "uuid": {"type": "string", "minLength": 1, "maxLength": 255,
                 "pattern": r"^[a-zA-Z0-9._-]*\Z"},
        "image_id": parameter_types.image_id,
        "boot_index": {"type": ["integer", "string", "null"], "pattern": r"^-?[0-9]+\Z"},
        "delete_on_termination": parameter_types.boolean,
        "volume_id": {"type": "string"},
        "snapshot_id": {"type": "string"},
        "volume_size": {"type": ["integer", "string", "null"], "pattern": r"^[0-9]+\Z"},
        "device_name": {"type": "string", "minLength": 1, "maxLength": 255,
                        "pattern": r"^[a-zA-Z0-9._/-]*\Z"},
        "device_type": {"type": "string", "maxLength": 255},
        "disk_bus": {"type": "string", "maxLength": 255},
        "guest_format": {"type": "string", "maxLength": 255},
        "no_device": {},
        "connection_info": {"type": "string", "maxLength": 16777215},
        "virtual_name": {"type": "string", "maxLength": 255},
    },
    "additionalProperties": False,
}

base_create = {
    "type": "object",
    "properties": {
        "server": {
            "type": "object",
            "properties": {
                "name": parameter_types.name,
                # "" is allowed, as in Nova, for a boot whose image is in
                # block_device_mapping_v2.
                "imageRef": {"type": "string", "maxLength": 255},
                "flavorRef": parameter_types.flavor_ref,
                "adminPass": {"type": "string", "maxLength": 255},
                "metadata": parameter_types.metadata,
                "availability_zone": parameter_types.availability_zone,
                "min_count": parameter_types.positive_integer,
                "max_count": parameter_types.positive_integer,
                "return_reservation_id": parameter_types.boolean,
                "user_data": {
                    "type": "string",
                    "format": "base64",
                    "maxLength": 65535,
                },
                "key_name": parameter_types.name,
                "config_drive": parameter_types.boolean,
                "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
                # Either form; which one a microversion allows, and what
                # mininova (no networking yet) does with it, is checked in
                # mininova/api/openstack/compute/boot_options.py.
                "networks": {"oneOf": [networks_list, networks_auto_or_none]},
                "block_device_mapping_v2": {
                    "type": "array",
                    "items": block_device_mapping_v2,
                },
                "block_device_mapping": {
                    "type": "array",
                    "items": legacy_block_device_mapping,
                },
            },
            # imageRef may be absent (or ""), when block_device_mapping_v2
            # names the image: see boot_options.image_from_request.
            "required": ["name", "flavorRef"],
            "additionalProperties": False,
        },
    },
    "required": ["server"],
    "additionalProperties": False,
}

# ``os:scheduler_hints``, a sibling of ``server`` in the body. ``group`` (a
# server group's uuid) is what the ServerGroup(Anti)AffinityFilter reads. Nova
# lets any other hint through for out-of-tree filters, and so do we, but only
# as strings or lists of strings (``--hint k=v`` given once or repeated), so
# that a filter never meets a nested object it cannot explain.
scheduler_hints = {
    "type": "object",
    "properties": {
        "group": {"type": "string", "format": "uuid"},
    },
    "additionalProperties": {
        "type": ["string", "array"],
        "items": {"type": "string"},
    },
}

create_v21 = copy.deepcopy(base_create)
create_v21["properties"]["os:scheduler_hints"] = scheduler_hints

# 2.19: a description.
create_v219 = copy.deepcopy(create_v21)
create_v219["properties"]["server"]["properties"]["description"] = parameter_types.description


def _with_bdm_v2_field(create_schema, name, field_schema):
    """``create_schema`` with one more key allowed in block_device_mapping_v2."""
    extended = copy.deepcopy(create_schema)
    extended["properties"]["server"]["properties"]["block_device_mapping_v2"]["items"][
        "properties"][name] = field_schema
    return extended


def _with_networks_tag(create_schema):
    """``create_schema`` with a ``tag`` allowed in each ``networks`` entry
    (the list form; ``check_networks`` checks the rest per version)."""
    extended = copy.deepcopy(create_schema)
    networks_ = extended["properties"]["server"]["properties"]["networks"]
    networks_["oneOf"][0]["items"] = _with_tag(networks_["oneOf"][0]["items"])
    return extended


# 2.32: a device ``tag`` in block_device_mapping_v2, at 2.32 *only*: Nova's
# check was written ``version == '2.32'`` where ``>=`` was meant, so 2.33 to
# 2.41 refuse it again, and 2.42 brought it back (Nova's create_v232,
# create_v233, create_v242). A NIC's tag lasted until 2.36 (see
# networks_v232 above).
create_v232 = _with_networks_tag(_with_bdm_v2_field(create_v219, "tag", parameter_types.tag))
create_v233 = _with_networks_tag(create_v219)
create_v242 = create_v232

# 2.52: tags at boot.
create_v252 = copy.deepcopy(create_v242)
create_v252["properties"]["server"]["properties"]["tags"] = {
    "type": "array", "items": parameter_types.tag, "maxItems": 50,
}

# 2.67: a ``volume_type`` for a volume the mapping makes (Nova's create_v267).
create_v267 = _with_bdm_v2_field(create_v252, "volume_type", parameter_types.volume_type)

# 2.74: a host and/or node asked for (admins), checked by the scheduler's
# filters like any other host.
create_v274 = copy.deepcopy(create_v267)
create_v274["properties"]["server"]["properties"].update(host=hostname,
                                                       hypervisor_hostname=hostname)

create = validation.Versioned({"2.1": create_v21, "2.19": create_v219, "2.32": create_v232,
                               "2.33": create_v233, "2.37": create_v219, "2.42": create_v242,
                               "2.52": create_v252, "2.67": create_v267,
                               "2.74": create_v274})

# PUT /servers/<id>: the name (and, from 2.19, the description).
update_v21 = {
    "type": "object",
    "properties": {
        "server": {
            "type": "object",
            "properties": {
                "name": parameter_types.name,
                "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
            },
            "additionalProperties": False,
        },
    },
    "required": ["server"],
    "additionalProperties": False,
}
update_v219 = copy.deepcopy(update_v21)
update_v219["properties"]["server"]["properties"]["description"] = parameter_types.description
update = validation.Versioned({"2.1": update_v21, "2.19": update_v219})

get_console_output = {
    "type": "object",
    "properties": {
        "os-getConsoleOutput": {
            "type": "object",
            "properties": {
                "length": {
                    "type": ["integer", "string", "null"],
                    "pattern": "^-?[0-9]+$",
                    "minimum": -1,
                },
            },
            "additionalProperties": False,
        },
    },
    "required": ["os-getConsoleOutput"],
    "additionalProperties": False,
}


def _no_body_action(name):
    """``{"<name>": null}``, the body of stop, start, pause..."""
    return {
        "type": "object",
        "properties": {name: {"type": "null"}},
        "required": [name],
        "additionalProperties": False,
    }


stop = _no_body_action("os-stop")
start = _no_body_action("os-start")
pause = _no_body_action("pause")
unpause = _no_body_action("unpause")
suspend = _no_body_action("suspend")
resume = _no_body_action("resume")
confirm_resize = _no_body_action("confirmResize")
revert_resize = _no_body_action("revertResize")
migrate_v21 = _no_body_action("migrate")

# 2.56: null, or a host to migrate to (admins).
migrate_v256 = {
    "type": "object",
    "properties": {
        "migrate": {
            "type": ["object", "null"],
            "properties": {"host": {"oneOf": [hostname, {"type": "null"}]}},
            "additionalProperties": False,
        },
    },
    "required": ["migrate"],
    "additionalProperties": False,
}
migrate = validation.Versioned({"2.1": migrate_v21, "2.56": migrate_v256})

reboot = {
    "type": "object",
    "properties": {
        "reboot": {
            "type": "object",
            "properties": {
                "type": {"type": "string",
                         "enum": ["HARD", "Hard", "hard", "SOFT", "Soft", "soft"]},
            },
            "required": ["type"],
            "additionalProperties": False,
        },
    },
    "required": ["reboot"],
    "additionalProperties": False,
}

resize = {
    "type": "object",
    "properties": {
        "resize": {
            "type": "object",
            "properties": {
                "flavorRef": parameter_types.flavor_ref,
                "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
            },
            "required": ["flavorRef"],
            "additionalProperties": False,
        },
    },
    "required": ["resize"],
    "additionalProperties": False,
}

create_image = {
    "type": "object",
    "properties": {
        "createImage": {
            "type": "object",
            "properties": {
                "name": parameter_types.name,
                "metadata": parameter_types.metadata,
            },
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "required": ["createImage"],
    "additionalProperties": False,
}

rebuild_v21 = {
    "type": "object",
    "properties": {
        "rebuild": {
            "type": "object",
            "properties": {
                "imageRef": parameter_types.image_id,
                "name": parameter_types.name,
                "metadata": parameter_types.metadata,
                "adminPass": {"type": "string"},
                "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
            },
            "required": ["imageRef"],
            "additionalProperties": False,
        },
    },
    "required": ["rebuild"],
    "additionalProperties": False,
}

# 2.19: a description; 2.54: the key pair (null: none); 2.57: the user data
# (null: none).
rebuild_v219 = copy.deepcopy(rebuild_v21)
rebuild_v219["properties"]["rebuild"]["properties"]["description"] = parameter_types.description
rebuild_v254 = copy.deepcopy(rebuild_v219)
rebuild_v254["properties"]["rebuild"]["properties"]["key_name"] = parameter_types.name_or_none
rebuild_v257 = copy.deepcopy(rebuild_v254)
rebuild_v257["properties"]["rebuild"]["properties"]["user_data"] = {
    "type": ["string", "null"], "format": "base64", "maxLength": 65535,
}
rebuild = validation.Versioned({"2.1": rebuild_v21, "2.19": rebuild_v219,
                                "2.54": rebuild_v254, "2.57": rebuild_v257})

# 2.17 (a 404 before: there is no schema for it).
trigger_crash_dump = validation.Versioned({"2.17": _no_body_action("trigger_crash_dump")})


# --- GET /servers and /servers/detail: the query ---------------------------------

_pagination = {
    "limit": parameter_types.multi_params(parameter_types.non_negative_integer),
    "marker": parameter_types.multi_params({"type": "string"}),
}

# Nova's list of the parameters a server list knows. mininova applies the
# ones in servers.FILTERS; the others (sorting, a few admin filters on
# fields it has not) pass the schema but change nothing: docs/api.md says
# which.
_QUERY_PARAMS = [
    "user_id", "project_id", "tenant_id", "launch_index", "image_ref", "image", "kernel_id",
    "ramdisk_id", "hostname", "key_name", "power_state", "vm_state", "task_state", "host",
    "node", "flavor", "reservation_id", "launched_at", "terminated_at", "availability_zone",
    "name", "display_name", "description", "display_description", "locked_by", "uuid",
    "root_device_name", "config_drive", "access_ip_v4", "access_ip_v6", "auto_disk_config",
    "progress", "sort_key", "sort_dir", "all_tenants", "soft_deleted", "deleted", "status",
    "ip", "ip6", "created_at",
    # Nova's joined tables: known, so that they are refused rather than ignored.
    "block_device_mapping", "services", "metadata", "system_metadata", "info_cache",
    "security_groups", "pci_devices",
]
_date_time = parameter_types.multi_params({"type": "string", "format": "date-time"})

index_query_v21 = {
    "type": "object",
    "properties": dict({name: parameter_types.common_query_param for name in _QUERY_PARAMS},
                       **_pagination, **{"changes-since": _date_time}),
    # Open until 2.75: an unknown parameter is dropped, not refused. Names
    # starting with "_" are internal and refused (see servers._list).
    "additionalProperties": True,
    "patternProperties": {"^_": parameter_types.common_query_param},
}
# 2.26: the tag filters; 2.66: changes-before; 2.73: locked.
index_query_v226 = copy.deepcopy(index_query_v21)
index_query_v226["properties"].update({
    name: parameter_types.common_query_regex_param
    for name in ("tags", "tags-any", "not-tags", "not-tags-any")})
index_query_v266 = copy.deepcopy(index_query_v226)
index_query_v266["properties"]["changes-before"] = _date_time
index_query_v273 = copy.deepcopy(index_query_v266)
index_query_v273["properties"]["locked"] = parameter_types.common_query_param
# 2.75: closed, an unknown parameter is a 400.
index_query_v275 = copy.deepcopy(index_query_v273)
index_query_v275["additionalProperties"] = False

index_query = validation.Versioned({"2.1": index_query_v21, "2.26": index_query_v226,
                                    "2.66": index_query_v266, "2.73": index_query_v273,
                                    "2.75": index_query_v275})
