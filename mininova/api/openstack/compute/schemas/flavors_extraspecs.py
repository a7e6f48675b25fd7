"""Schemas of the flavor extra specs bodies (v2.1; mirrors
``nova/api/openstack/compute/schemas/flavors_extraspecs.py``).

Keys follow the metadata rules (``capabilities:cpu_arch``,
``hw:cpu_policy``...); values are strings of at most 255 characters, or
numbers, which are stored as strings (``"hw:numa_nodes": 2`` is common).
"""

import copy

from mininova.api.validation import parameter_types

extra_specs = copy.deepcopy(parameter_types.metadata)
for _value_schema in extra_specs["patternProperties"].values():
    _value_schema["type"] = ["string", "number"]

create = {
    "type": "object",
    "properties": {"extra_specs": extra_specs},
    "required": ["extra_specs"],
    "additionalProperties": False,
}

# PUT /flavors/<id>/os-extra_specs/<key> sends {"<key>": "<value>"}.
update = copy.deepcopy(extra_specs)
update.update({"minProperties": 1, "maxProperties": 1})
