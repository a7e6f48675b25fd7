"""Reusable pieces of schemas (mirrors ``nova/api/validation/parameter_types.py``)."""

# 1-255 printable characters, no leading or trailing whitespace. (\Z, not $:
# in Python, $ also matches before a final newline.)
name = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "pattern": r"^(?![\s])[^\x00-\x1f\x7f]*(?<![\s])\Z",
}

# A server's description (2.19): up to 255 printable characters, spaces
# anywhere, empty allowed; null removes it.
description = {
    "type": ["string", "null"],
    "minLength": 0,
    "maxLength": 255,
    "pattern": r"^[^\x00-\x1f\x7f]*\Z",
}

# A server tag (2.26): neither "/" (it is part of a URL) nor "," (lists
# of tags are comma-separated in the filters).
tag = {
    "type": "string",
    "pattern": "^[^,/]*$",
    "minLength": 1,
    "maxLength": 60,
}

# A volume type's name or id, for a volume a block device mapping makes
# (2.67); null or "" for the volume service's default type.
volume_type = {
    "type": ["string", "null"],
    "minLength": 0,
    "maxLength": 255,
}

# A key pair's name, or null to take the key pair away (rebuild, 2.54).
name_or_none = {
    "oneOf": [
        {"type": "string", "minLength": 1, "maxLength": 255},
        {"type": "null"},
    ],
}


def multi_params(schema):
    """A query parameter: a list of values, since a URL may repeat it."""
    return {"type": "array", "items": schema}


common_query_param = multi_params({"type": "string"})
common_query_regex_param = multi_params({"type": "string", "format": "regex"})


positive_integer = {
    "type": ["integer", "string"],
    "pattern": r"^[0-9]*$",
    "minimum": 1,
    "minLength": 1,
}

non_negative_integer = {
    "type": ["integer", "string"],
    "pattern": r"^[0-9]*$",
    "minimum": 0,
    "minLength": 1,
}

# Nova's flavor_param_positive / _non_negative: an integer (or a string of
# digits) that fits the database's signed 32-bit integer.
MAX_INT = 0x7FFFFFFF

flavor_param_positive = {
    "type": ["integer", "string"],
    "pattern": r"^[0-9]+$",
    "minimum": 1,
    "maximum": MAX_INT,
}

flavor_param_non_negative = dict(flavor_param_positive, minimum=0)

boolean = {
    "type": ["boolean", "string"],
    "enum": [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
             False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"],
}

metadata = {
    "type": "object",
    "patternProperties": {
        r"^[a-zA-Z0-9-_:. ]{1,255}\Z": {"type": "string", "maxLength": 255},
    },
    "additionalProperties": False,
    # How many items: a quota ([quota] metadata_items, 403), not the schema.
}

image_id = {"type": "string", "minLength": 1, "maxLength": 255}

flavor_ref = {"type": ["string", "integer"], "minLength": 1}

availability_zone = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "pattern": r"^[^:]*$",
}


def is_true(value):
    return str(value).lower() in ("true", "1", "on", "yes")
