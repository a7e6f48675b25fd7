"""Schemas of ``os-volume_attachments`` (mirrors
``nova/api/openstack/compute/schemas/volume_attachments.py``): the attach
body grew a ``tag`` in 2.49 and ``delete_on_termination`` in 2.79."""

import copy

from mininova.api import validation
from mininova.api.validation import parameter_types

create_v21 = {
    "type": "object",
    "properties": {
        "volumeAttachment": {
            "type": "object",
            "properties": {
                "volumeId": {"type": "string", "format": "uuid"},
                # Nova's pattern, from block_device.match_device().
                "device": {"type": ["string", "null"],
                           "pattern": "(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$"},
            },
            "required": ["volumeId"],
            "additionalProperties": False,
        },
    },
    "required": ["volumeAttachment"],
    "additionalProperties": False,
}

create_v249 = copy.deepcopy(create_v21)
create_v249["properties"]["volumeAttachment"]["properties"]["tag"] = parameter_types.tag

create_v279 = copy.deepcopy(create_v249)
create_v279["properties"]["volumeAttachment"]["properties"]["delete_on_termination"] = \
    parameter_types.boolean

create = validation.Versioned({"2.1": create_v21, "2.49": create_v249, "2.79": create_v279})
