"""The body of ``POST /os-server-external-events`` (mirrors
``nova/api/openstack/compute/schemas/server_external_events.py``)."""

EVENT_NAMES = ["network-changed", "network-vif-plugged", "network-vif-unplugged",
               "network-vif-deleted"]

create = {
    "type": "object",
    "properties": {
        "events": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "enum": EVENT_NAMES},
                    "server_uuid": {"type": "string", "format": "uuid"},
                    "status": {"type": "string",
                               "enum": ["failed", "completed", "in-progress"]},
                    "tag": {"type": "string", "maxLength": 255},
                },
                "required": ["name", "server_uuid"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["events"],
    "additionalProperties": False,
}
