"""Rules of the operator's APIs (mirrors ``nova/policies/services.py``,
``hypervisors.py``, ``aggregates.py``, ``availability_zone.py``,
``migrations.py`` and ``server_external_events.py``), and of mininova's own image cache view."""

from mininova.policies.base import ADMIN, ANY, SERVICE_OR_ADMIN, rule

_ADMIN_ONLY = [
    "os_compute_api:os-services:list", "os_compute_api:os-services:update",
    "os_compute_api:os-services:delete",
    "os_compute_api:os-hypervisors:list", "os_compute_api:os-hypervisors:list-detail",
    "os_compute_api:os-hypervisors:show",
    "os_compute_api:os-aggregates:index", "os_compute_api:os-aggregates:create",
    "os_compute_api:os-aggregates:show", "os_compute_api:os-aggregates:update",
    "os_compute_api:os-aggregates:delete", "os_compute_api:os-aggregates:add_host",
    "os_compute_api:os-aggregates:remove_host", "os_compute_api:os-aggregates:set_metadata",
    "os_compute_api:os-availability-zone:detail",
    "os_compute_api:os-image-cache:list",
    "os_compute_api:os-migrations:index",
]

rules = (
    [rule(name, ADMIN, "The cloud's administrator only.") for name in _ADMIN_ONLY]
    + [rule("os_compute_api:os-availability-zone:list", ANY,
            "List the zones a server may be created in."),
       rule("os_compute_api:os-server-external-events:create", SERVICE_OR_ADMIN,
            "Tell a server's compute of an event (the network and volume services).")]
)
