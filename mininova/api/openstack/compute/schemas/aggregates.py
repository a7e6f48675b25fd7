"""Schemas of the os-aggregates API bodies (v2.1; mirrors
``nova/api/openstack/compute/schemas/aggregates.py``)."""

import copy

from mininova.api.validation import parameter_types

# A compute host's name, as the services register it (Nova's
# parameter_types.hostname).
hostname = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "pattern": r"^[a-zA-Z0-9-._]*\Z",
}

# null is accepted where Nova accepts it; the API then refuses an empty
# zone with Nova's message rather than with a schema error. (A type list,
# not a oneOf, so that an error still names the field: the string rules
# ignore a null.)
_availability_zone_or_null = dict(parameter_types.availability_zone, type=["string", "null"])

create = {
    "type": "object",
    "properties": {
        "aggregate": {
            "type": "object",
            "properties": {
                "name": parameter_types.name,
                "availability_zone": _availability_zone_or_null,
            },
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "required": ["aggregate"],
    "additionalProperties": False,
}

update = {
    "type": "object",
    "properties": {
        "aggregate": {
            "type": "object",
            "properties": {
                "name": parameter_types.name,
                "availability_zone": _availability_zone_or_null,
            },
            "additionalProperties": False,
            # Something to update: the name, the zone or both.
            "anyOf": [{"required": ["name"]}, {"required": ["availability_zone"]}],
        },
    },
    "required": ["aggregate"],
    "additionalProperties": False,
}


def _host_action(action):
    return {
        "type": "object",
        "properties": {
            action: {
                "type": "object",
                "properties": {"host": hostname},
                "required": ["host"],
                "additionalProperties": False,
            },
        },
        "required": [action],
        "additionalProperties": False,
    }


add_host = _host_action("add_host")
remove_host = _host_action("remove_host")

# Metadata as servers have it, except that a null value removes the key.
_metadata_with_null = copy.deepcopy(parameter_types.metadata)
for _value_schema in _metadata_with_null["patternProperties"].values():
    _value_schema["type"] = ["string", "null"]

set_metadata = {
    "type": "object",
    "properties": {
        "set_metadata": {
            "type": "object",
            "properties": {"metadata": _metadata_with_null},
            "required": ["metadata"],
            "additionalProperties": False,
        },
    },
    "required": ["set_metadata"],
    "additionalProperties": False,
}
