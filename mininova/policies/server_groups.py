"""Rules of server groups (mirrors ``nova/policies/server_groups.py``)."""

from mininova.policies.base import ADMIN, PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN, rule

rules = [
    rule("os_compute_api:os-server-groups:create", PROJECT_MEMBER_OR_ADMIN,
         "Create a server group in one's project."),
    rule("os_compute_api:os-server-groups:delete", PROJECT_MEMBER_OR_ADMIN,
         "Delete a server group of one's project."),
    rule("os_compute_api:os-server-groups:index", PROJECT_READER_OR_ADMIN,
         "List one's project's server groups."),
    rule("os_compute_api:os-server-groups:index:all_projects", ADMIN,
         "List every project's server groups."),
    rule("os_compute_api:os-server-groups:show", PROJECT_READER_OR_ADMIN,
         "Show a server group of one's project."),
]
