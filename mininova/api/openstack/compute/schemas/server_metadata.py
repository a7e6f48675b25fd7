"""Schemas of the server metadata bodies (mirrors
``nova/api/openstack/compute/schemas/server_metadata.py``)."""

from mininova.api.validation import parameter_types

# POST (merge) and PUT (replace) of the whole metadata.
metadata = {
    "type": "object",
    "properties": {"metadata": parameter_types.metadata},
    "required": ["metadata"],
    "additionalProperties": False,
}

# PUT of one key: exactly one item, whose key must be the URL's.
meta = {
    "type": "object",
    "properties": {
        "meta": dict(parameter_types.metadata, minProperties=1, maxProperties=1),
    },
    "required": ["meta"],
    "additionalProperties": False,
}
