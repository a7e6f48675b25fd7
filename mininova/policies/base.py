"""The rules the others are made of (mirrors ``nova/policies/base.py``)."""

from oslo_policy import policy

ADMIN = "rule:context_is_admin"
PROJECT_MEMBER_OR_ADMIN = "rule:project_member_or_admin"
PROJECT_READER_OR_ADMIN = "rule:project_reader_or_admin"
# A key pair belongs to a user, not to a project.
OWNER_USER_OR_ADMIN = "rule:context_is_admin or user_id:%(user_id)s"
SERVICE_OR_ADMIN = "rule:service_or_admin"
ANY = "@"

rules = [
    policy.RuleDefault("context_is_admin", "role:admin",
                       "Who is an administrator of the whole cloud."),
    policy.RuleDefault("project_member_api", "role:member and project_id:%(project_id)s",
                       "A member of the project the resource belongs to."),
    policy.RuleDefault("project_reader_api", "role:reader and project_id:%(project_id)s",
                       "A reader of the project the resource belongs to."),
    policy.RuleDefault("project_member_or_admin",
                       "rule:project_member_api or rule:context_is_admin",
                       "What a project's member (or an admin) may do."),
    policy.RuleDefault("project_reader_or_admin",
                       "rule:project_reader_api or rule:context_is_admin",
                       "What a project's reader (or an admin) may see."),
    policy.RuleDefault("service_api", "role:service",
                       "The other services of the cloud (the network service's events)."),
    policy.RuleDefault("service_or_admin", "rule:service_api or rule:context_is_admin",
                       "A service of the cloud, or an admin."),
]


def rule(name, check_str, description):
    return policy.RuleDefault(name, check_str, description)
