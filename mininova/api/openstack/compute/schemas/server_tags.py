"""Schemas of the server tags API (mirrors
``nova/api/openstack/compute/schemas/server_tags.py``)."""

from mininova.api.validation import parameter_types

# PUT /servers/<id>/tags: every tag of the server, replacing the old ones.
update_all = {
    "type": "object",
    "properties": {
        "tags": {"type": "array", "items": parameter_types.tag, "maxItems": 50},
    },
    "required": ["tags"],
    "additionalProperties": False,
}

# PUT /servers/<id>/tags/<tag>: the tag is in the URL; no body.
update = {"type": "null"}
