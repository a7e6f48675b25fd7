"""Schemas of os-services (mirrors
``nova/api/openstack/compute/schemas/services.py``): the ``PUT`` bodies by
microversion, and the list's query."""

import copy

from mininova.api import validation
from mininova.api.openstack.compute.schemas.aggregates import hostname
from mininova.api.validation import parameter_types

_reason = {"type": "string", "minLength": 1, "maxLength": 255}

# Until 2.52: enable, disable and disable-log-reason send the host and binary.
update_v21 = {
    "type": "object",
    "properties": {
        "host": hostname,
        "binary": {"type": "string", "minLength": 1, "maxLength": 255},
        "disabled_reason": _reason,
    },
    "required": ["host", "binary"],
    "additionalProperties": False,
}

# 2.11: force-down adds forced_down.
update_v211 = copy.deepcopy(update_v21)
update_v211["properties"]["forced_down"] = parameter_types.boolean

# 2.53: the service is in the URL; the body says what changes, none of it
# required (an empty change is refused by the handler).
update_v253 = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["enabled", "disabled"]},
        "disabled_reason": _reason,
        "forced_down": parameter_types.boolean,
    },
    "additionalProperties": False,
}

update = validation.Versioned({"2.1": update_v21, "2.11": update_v211, "2.53": update_v253})

index_query_v21 = {
    "type": "object",
    "properties": {
        "host": parameter_types.common_query_param,
        "binary": parameter_types.common_query_param,
    },
    "additionalProperties": True,
}
index_query_v275 = copy.deepcopy(index_query_v21)
index_query_v275["additionalProperties"] = False
index_query = validation.Versioned({"2.1": index_query_v21, "2.75": index_query_v275})
