"""Schema of the os-services ``PUT`` bodies (v2.1; mirrors
``nova/api/openstack/compute/schemas/services.py``): enable, disable and
disable-log-reason all send the host and the binary."""

from mininova.api.openstack.compute.schemas.aggregates import hostname

service_update = {
    "type": "object",
    "properties": {
        "host": hostname,
        "binary": {"type": "string", "minLength": 1, "maxLength": 255},
        "disabled_reason": {"type": "string", "minLength": 1, "maxLength": 255},
    },
    "required": ["host", "binary"],
    "additionalProperties": False,
}
