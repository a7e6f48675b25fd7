"""Rules of quotas and limits (mirrors ``nova/policies/quota_sets.py``,
``quota_class_sets.py`` and ``limits.py``)."""

from mininova.policies.base import ADMIN, ANY, PROJECT_READER_OR_ADMIN, rule

rules = [
    rule("os_compute_api:os-quota-sets:show", PROJECT_READER_OR_ADMIN,
         "Show a project's quotas."),
    rule("os_compute_api:os-quota-sets:detail", PROJECT_READER_OR_ADMIN,
         "Show a project's quotas with their usage."),
    rule("os_compute_api:os-quota-sets:defaults", ANY, "Show the default quotas."),
    rule("os_compute_api:os-quota-sets:update", ADMIN, "Change a project's quotas."),
    rule("os_compute_api:os-quota-sets:delete", ADMIN,
         "Revert a project's quotas to the defaults."),
    rule("os_compute_api:os-quota-class-sets:show", ADMIN, "Show a quota class."),
    rule("os_compute_api:os-quota-class-sets:update", ADMIN, "Change a quota class."),
    rule("os_compute_api:limits", ANY, "Show one's own limits and usage."),
    rule("os_compute_api:limits:other_project", ADMIN, "Show another project's limits."),
]
