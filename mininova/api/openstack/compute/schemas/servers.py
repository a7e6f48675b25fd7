"""Schemas of the servers API bodies (v2.1)."""

import copy

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


networks_v21 = _networks_check(networks_list, required=False)
networks_v237 = _networks_check({"oneOf": [
    {"type": "array", "items": {
        "type": "object",
        "properties": {
            "fixed_ip": networks_list["items"]["properties"]["fixed_ip"],
            "port": {"type": ["string", "null"], "format": "uuid"},
            "uuid": {"type": "string", "format": "uuid"},
        },
        "additionalProperties": False,
    }},
    networks_auto_or_none,
]}, required=True)

# One entry of ``block_device_mapping_v2``, with every key Nova accepts, so
# that a volume request is told "not supported yet", not "unexpected".
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
        "volume_type": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
        "tag": {"type": "string", "minLength": 1, "maxLength": 60,
                "pattern": r"^[^,/]*\Z"},
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

create = copy.deepcopy(base_create)
create["properties"]["os:scheduler_hints"] = scheduler_hints

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
migrate = _no_body_action("migrate")

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

rebuild = {
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
