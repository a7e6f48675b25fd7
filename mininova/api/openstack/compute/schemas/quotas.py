"""Schemas of the os-quota-sets and os-quota-class-sets update bodies
(mirrors ``nova/api/openstack/compute/schemas/quota_sets.py`` and
``quota_classes.py``): one limit per resource, an integer from -1
(unlimited) to 2^31 - 1, as a number or a string of digits."""

from mininova.api.validation import parameter_types

_limit = {
    "type": ["integer", "string"],
    "pattern": r"^-?[0-9]+\Z",
    "minimum": -1,
    "maximum": parameter_types.MAX_INT,
}

NETWORK_QUOTAS = ["fixed_ips", "floating_ips", "security_groups", "security_group_rules"]
INJECTED_FILE_QUOTAS = ["injected_files", "injected_file_content_bytes",
                        "injected_file_path_bytes"]
RESOURCES = ["instances", "cores", "ram", "metadata_items", "key_pairs", "server_groups",
             "server_group_members", *NETWORK_QUOTAS, *INJECTED_FILE_QUOTAS]


def _update(key, resources, extra=None):
    properties = {resource: _limit for resource in resources}
    properties.update(extra or {})
    return {
        "type": "object",
        "properties": {
            key: {"type": "object", "properties": properties, "additionalProperties": False},
        },
        "required": [key],
        "additionalProperties": False,
    }


def _without(resources, removed):
    return [resource for resource in resources if resource not in removed]


# os-quota-sets: "force" sets a limit below what is in use. 2.36 drops the
# nova-network quotas, 2.57 the personality file ones.
_FORCE = {"force": parameter_types.boolean}
update = _update("quota_set", RESOURCES, _FORCE)
update_v236 = _update("quota_set", _without(RESOURCES, NETWORK_QUOTAS), _FORCE)
update_v257 = _update("quota_set", _without(RESOURCES, NETWORK_QUOTAS + INJECTED_FILE_QUOTAS),
                      _FORCE)

# os-quota-class-sets drops the nova-network quotas at 2.50, not 2.36.
class_update = _update("quota_class_set", RESOURCES)
class_update_v250 = _update("quota_class_set", _without(RESOURCES, NETWORK_QUOTAS))
class_update_v257 = _update("quota_class_set",
                            _without(RESOURCES, NETWORK_QUOTAS + INJECTED_FILE_QUOTAS))
