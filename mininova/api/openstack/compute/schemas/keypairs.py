"""Schemas of the os-keypairs create body (mirrors
``nova/api/openstack/compute/schemas/keypairs.py``)."""

import copy

from mininova.api.validation import parameter_types

# A printable name, and of these characters only (Nova's
# keypair_name_special_chars): it becomes part of files and commands.
name = {"allOf": [parameter_types.name,
                  {"type": "string", "pattern": r"^[_\- a-zA-Z0-9]+\Z"}]}

create = {
    "type": "object",
    "properties": {
        "keypair": {
            "type": "object",
            "properties": {
                "name": name,
                # Given: imported; absent: a key pair is generated.
                "public_key": {"type": "string"},
            },
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "required": ["keypair"],
    "additionalProperties": False,
}

# 2.2: the key pair's type.
create_v22 = copy.deepcopy(create)
create_v22["properties"]["keypair"]["properties"]["type"] = {
    "type": "string", "enum": ["ssh", "x509"]}

# 2.10: an admin may make one for another user.
create_v210 = copy.deepcopy(create_v22)
create_v210["properties"]["keypair"]["properties"]["user_id"] = {"type": "string"}
