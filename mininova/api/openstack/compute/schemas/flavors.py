"""Schemas of the flavor bodies: create (os-flavor-manage), the 2.55
description update, and the tenant access actions (os-flavor-access)
(mirrors ``nova/api/openstack/compute/schemas/flavors.py`` and
``flavor_access.py``)."""

import copy

from mininova.api.validation import parameter_types

# Any printable text, spaces included, up to a TEXT column's size (2.55).
_description = {
    "type": ["string", "null"],
    "maxLength": 65535,
    "pattern": r"^[^\x00-\x1f\x7f]*\Z",
}

create = {
    "type": "object",
    "properties": {
        "flavor": {
            "type": "object",
            "properties": {
                "name": parameter_types.name,
                # Absent or null: a UUID is made up. Letters, digits, ". _-",
                # no space at either end; a number is taken as its digits.
                "id": {
                    "type": ["string", "number", "null"],
                    "minLength": 1,
                    "maxLength": 255,
                    "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )\Z",
                },
                "ram": parameter_types.flavor_param_positive,
                "vcpus": parameter_types.flavor_param_positive,
                "disk": parameter_types.flavor_param_non_negative,
                "OS-FLV-EXT-DATA:ephemeral": parameter_types.flavor_param_non_negative,
                "swap": parameter_types.flavor_param_non_negative,
                # A float above 0 (Nova's upper bound is a 4-byte float's).
                "rxtx_factor": {
                    "type": ["number", "string"],
                    "pattern": r"^[0-9]+(\.[0-9]+)?\Z",
                    "exclusiveMinimum": 0,
                    "maximum": 3.40282e38,
                },
                "os-flavor-access:is_public": parameter_types.boolean,
            },
            "required": ["name", "ram", "vcpus", "disk"],
            "additionalProperties": False,
        },
    },
    "required": ["flavor"],
    "additionalProperties": False,
}

create_v255 = copy.deepcopy(create)
create_v255["properties"]["flavor"]["properties"]["description"] = _description

update_v255 = {
    "type": "object",
    "properties": {
        "flavor": {
            "type": "object",
            "properties": {"description": _description},
            # The description is all a flavor lets change after its creation.
            "required": ["description"],
            "additionalProperties": False,
        },
    },
    "required": ["flavor"],
    "additionalProperties": False,
}


def _tenant_action(name):
    return {
        "type": "object",
        "properties": {
            name: {
                "type": "object",
                "properties": {"tenant": {"type": "string", "minLength": 1, "maxLength": 255}},
                "required": ["tenant"],
                "additionalProperties": False,
            },
        },
        "required": [name],
        "additionalProperties": False,
    }


add_tenant_access = _tenant_action("addTenantAccess")
remove_tenant_access = _tenant_action("removeTenantAccess")
