"""Rules of servers and what is done to them (mirrors ``nova/policies/servers.py``,
``server_metadata.py``, ``server_tags.py``, ``console_output.py``,
``instance_actions.py``, ``lock_server.py``, ``server_topology.py``,
``servers_migrations.py`` and the per-action modules)."""

from mininova.policies.base import ADMIN, PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN, rule

SERVERS = "os_compute_api:servers:%s"

# Actions on one server, by what Nova calls their rules.
_MEMBER_ACTIONS = [
    SERVERS % "create", SERVERS % "create:attach_volume", SERVERS % "delete", SERVERS % "update",
    SERVERS % "reboot", SERVERS % "resize", SERVERS % "confirm_resize",
    SERVERS % "revert_resize", SERVERS % "rebuild", SERVERS % "create_image",
    SERVERS % "start", SERVERS % "stop",
    "os_compute_api:os-pause-server:pause", "os_compute_api:os-pause-server:unpause",
    "os_compute_api:os-suspend-server:suspend", "os_compute_api:os-suspend-server:resume",
    "os_compute_api:os-console-output",
    "os_compute_api:server-metadata:create", "os_compute_api:server-metadata:update",
    "os_compute_api:server-metadata:update_all", "os_compute_api:server-metadata:delete",
    "os_compute_api:os-server-tags:update", "os_compute_api:os-server-tags:update_all",
    "os_compute_api:os-server-tags:delete", "os_compute_api:os-server-tags:delete_all",
    "os_compute_api:os-attach-interfaces:create",
    "os_compute_api:os-attach-interfaces:delete",
    "os_compute_api:os-volumes-attachments:create",
    "os_compute_api:os-volumes-attachments:delete",
    "os_compute_api:os-lock-server:lock", "os_compute_api:os-lock-server:unlock",
    SERVERS % "trigger_crash_dump",
]
_READER_VIEWS = [
    SERVERS % "index", SERVERS % "detail", SERVERS % "show",
    "os_compute_api:server-metadata:index", "os_compute_api:server-metadata:show",
    "os_compute_api:os-server-tags:index", "os_compute_api:os-server-tags:show",
    "os_compute_api:os-instance-actions:list", "os_compute_api:os-instance-actions:show",
    "os_compute_api:os-scheduler-explain",
    "os_compute_api:os-attach-interfaces:list", "os_compute_api:os-attach-interfaces:show",
    "os_compute_api:os-volumes-attachments:index",
    "os_compute_api:os-volumes-attachments:show",
    SERVERS % "show:flavor-extra-specs",
    "compute:server:topology:index",
]
_ADMIN_ONLY = [
    SERVERS % "index:get_all_tenants", SERVERS % "detail:get_all_tenants",
    SERVERS % "allow_all_filters", "os_compute_api:os-migrate-server:migrate:host",
    SERVERS % "show:host_status", SERVERS % "show:host_status:unknown-only",
    SERVERS % "create:forced_host", "compute:servers:create:requested_destination",
    "os_compute_api:os-migrate-server:migrate",
    "os_compute_api:os-instance-actions:events",
    "os_compute_api:os-extended-server-attributes",
    "os_compute_api:os-lock-server:unlock:unlock_override",
    "compute:server:topology:host:index",
    "os_compute_api:servers:migrations:index", "os_compute_api:servers:migrations:show",
]

rules = (
    [rule(name, PROJECT_MEMBER_OR_ADMIN, "A member of the server's project.")
     for name in _MEMBER_ACTIONS]
    + [rule(name, PROJECT_READER_OR_ADMIN, "A reader of the server's project.")
       for name in _READER_VIEWS]
    + [rule(name, ADMIN, "The cloud's administrator only.") for name in _ADMIN_ONLY]
)
