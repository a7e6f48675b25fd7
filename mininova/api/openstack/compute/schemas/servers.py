"""Schemas of the servers API bodies (v2.1)."""

import copy

from mininova.api.validation import parameter_types

base_create = {
    "type": "object",
    "properties": {
        "server": {
            "type": "object",
            "properties": {
                "name": parameter_types.name,
                "imageRef": parameter_types.image_id,
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
                # Accepted for client compatibility; mininova has no networks yet.
                "networks": {"type": "string", "enum": ["auto", "none"]},
            },
            "required": ["name", "flavorRef", "imageRef"],
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
