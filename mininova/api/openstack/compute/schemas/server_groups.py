"""Schemas of os-server-groups (mirrors
``nova/api/openstack/compute/schemas/server_groups.py``)."""

import copy

from mininova.api import validation
from mininova.api.validation import parameter_types

POLICIES = ["anti-affinity", "affinity"]
# 2.15: the soft policies, which the scheduler's weighers keep as best it can.
SOFT_POLICIES = ["soft-anti-affinity", "soft-affinity"]

create_v21 = {
    "type": "object",
    "properties": {
        "server_group": {
            "type": "object",
            "properties": {
                "name": parameter_types.name,
                # Exactly one policy. It is a list only because the v2.1 API
                # was designed for several; 2.64 made it a string ("policy").
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

create_v215 = copy.deepcopy(create_v21)
create_v215["properties"]["server_group"]["properties"]["policies"]["items"]["enum"] = (
    POLICIES + SOFT_POLICIES)

# 2.64: one "policy", and "rules" (only max_server_per_host, for anti-affinity).
create_v264 = copy.deepcopy(create_v215)
group_v264 = create_v264["properties"]["server_group"]
del group_v264["properties"]["policies"]
group_v264["properties"]["policy"] = {"type": "string", "enum": POLICIES + SOFT_POLICIES}
group_v264["properties"]["rules"] = {
    "type": "object",
    "properties": {"max_server_per_host": parameter_types.positive_integer},
    "additionalProperties": False,
}
group_v264["required"] = ["name", "policy"]

create = validation.Versioned({"2.1": create_v21, "2.15": create_v215, "2.64": create_v264})

index_query_v21 = {
    "type": "object",
    "properties": {
        "all_projects": parameter_types.common_query_param,
        "limit": parameter_types.multi_params(parameter_types.non_negative_integer),
        "offset": parameter_types.multi_params(parameter_types.non_negative_integer),
    },
    "additionalProperties": True,
}
index_query_v275 = copy.deepcopy(index_query_v21)
index_query_v275["additionalProperties"] = False
index_query = validation.Versioned({"2.1": index_query_v21, "2.75": index_query_v275})
