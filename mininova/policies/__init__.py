"""The default policy rules (mirrors ``nova/policies/``).

Each module lists the rules of one part of the API as oslo.policy
``RuleDefault``\\ s, with Nova's names (``os_compute_api:servers:create``)
and Nova's defaults since its "secure RBAC" work: a project's **reader**
may look, its **member** may act, the **admin** may do anything, including
what is the cloud operator's alone (services, hypervisors, other projects'
servers). A deployment may override any rule in ``policy.yaml``
(``[oslo_policy] policy_file``), as with Nova.

Left out: scope types (system vs project scope) and the deprecated rules
Nova still carries for older policy files.
"""

from mininova.policies import admin, base, flavors, keypairs, quotas, server_groups, servers
from mininova.volume.service import policies as volume_policies


def list_rules():
    # The volume service's rules (Cinder's names) live with it.
    return [*base.rules, *servers.rules, *server_groups.rules, *flavors.rules,
            *keypairs.rules, *quotas.rules, *admin.rules, *volume_policies.rules]
