"""Schemas of the lock and unlock server actions (mirrors
``nova/api/openstack/compute/schemas/lock_server.py``)."""

from mininova.api import validation

# Anything (Nova never restricted it) until 2.73.
lock_v21 = {
    "type": "object",
    "properties": {"lock": {}},
    "required": ["lock"],
    "additionalProperties": False,
}

# 2.73: null, or an object with an optional reason.
lock_v273 = {
    "type": "object",
    "properties": {
        "lock": {
            "type": ["object", "null"],
            "properties": {
                "locked_reason": {"type": "string", "minLength": 1, "maxLength": 255},
            },
            "additionalProperties": False,
        },
    },
    "required": ["lock"],
    "additionalProperties": False,
}

lock = validation.Versioned({"2.1": lock_v21, "2.73": lock_v273})

unlock = {
    "type": "object",
    "properties": {"unlock": {}},
    "required": ["unlock"],
    "additionalProperties": False,
}
