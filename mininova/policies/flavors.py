"""Rules of flavors (mirrors ``nova/policies/flavor_manage.py``,
``flavor_access.py`` and ``flavor_extra_specs.py``). Anyone may list the
flavors they can use; only the admin makes, changes and shares them."""

from mininova.policies.base import ADMIN, ANY, PROJECT_READER_OR_ADMIN, rule

rules = [
    rule("os_compute_api:flavors:index", ANY, "List flavors."),
    rule("os_compute_api:flavors:show", ANY, "Show a flavor."),
    rule("os_compute_api:os-flavor-manage:create", ADMIN, "Create a flavor."),
    rule("os_compute_api:os-flavor-manage:update", ADMIN, "Update a flavor's description."),
    rule("os_compute_api:os-flavor-manage:delete", ADMIN, "Delete a flavor."),
    rule("os_compute_api:os-flavor-access", ADMIN, "List the projects of a private flavor."),
    rule("os_compute_api:os-flavor-access:add_tenant_access", ADMIN,
         "Give a project access to a private flavor."),
    rule("os_compute_api:os-flavor-access:remove_tenant_access", ADMIN,
         "Take a project's access to a private flavor away."),
    rule("os_compute_api:os-flavor-extra-specs:index", PROJECT_READER_OR_ADMIN,
         "List a flavor's extra specs."),
    rule("os_compute_api:os-flavor-extra-specs:show", PROJECT_READER_OR_ADMIN,
         "Show one extra spec."),
    rule("os_compute_api:os-flavor-extra-specs:create", ADMIN, "Add extra specs."),
    rule("os_compute_api:os-flavor-extra-specs:update", ADMIN, "Change an extra spec."),
    rule("os_compute_api:os-flavor-extra-specs:delete", ADMIN, "Remove an extra spec."),
]
