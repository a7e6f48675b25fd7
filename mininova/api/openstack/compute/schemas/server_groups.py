"""Schema of the os-server-groups create body (v2.1; mirrors
``nova/api/openstack/compute/schemas/server_groups.py``)."""

from mininova.api.validation import parameter_types

POLICIES = ["anti-affinity", "affinity"]

create = {
    "type": "object",
    "properties": {
        "server_group": {
            "type": "object",
            "properties": {
                "name": parameter_types.name,
                # Exactly one policy. It is a list only because the v2.1 API
                # was designed for several; later microversions made it a
                # string ("policy").
                "policies": {
                    "type": "array",
                    "items": {"type": "string", "enum": POLICIES},
                    "minItems": 1,
                    "maxItems": 1,
                },
            },
            "required": ["name", "policies"],
            "additionalProperties": False,
        },
    },
    "required": ["server_group"],
    "additionalProperties": False,
}
