"""Who may do what to networks, subnets and ports (mirrors ``neutron/policy.py``
and the defaults of ``neutron/conf/policies/``).

Neutron's policy has two levels, and so does this one:

- a rule per action on a resource: ``create_network``, ``get_port``,
  ``delete_subnet``...;
- a rule per *attribute* of some actions: ``create_network:shared`` (only
  an admin makes a network every project sees), ``get_port:binding:vif_type``
  (only an admin or a service sees how a port is bound: a project member
  showing their port does not see the ``binding:*`` keys at all),
  ``create_port:binding:host_id`` (only Nova, as a service, binds a port).

The target of a check is the resource (so ``project_id`` is its owner's),
plus, for subnets and ports, ``network:project_id`` and ``network:shared``
of their network: Neutron's "network owner" rules let the owner of a
network place ports and addresses on it.

Roles are Keystone's defaults (``admin``, ``member``, ``reader``) and
``service``, the role of the other services' users (Nova's, which binds
ports). A refusal is a 403 ``PolicyNotAuthorized``; a resource the caller
may not even see is a 404 instead, so its existence is not given away
(the API controller does that).

The rules are registered on their own oslo.policy Enforcer, apart from the
compute API's, and read the same ``policy.yaml`` for overrides (Neutron
reads its own file; one file for the small cloud is simpler).

Left out: Neutron's RBAC tables (sharing with one project), ``field:``
checks, the advsvc role, system scope.
"""

import threading

from oslo_policy import policy as oslo_policy

from mininova import policy as nova_policy
from mininova.conf import CONF
from mininova.network import exceptions

ADMIN = "rule:context_is_admin"
ADMIN_OR_SERVICE = "rule:admin_or_service"
ADMIN_OR_PROJECT_MEMBER = "rule:context_is_admin or rule:project_member"
ADMIN_OR_PROJECT_READER = "rule:context_is_admin or rule:project_reader"
ADMIN_OR_NET_OWNER_MEMBER = "rule:context_is_admin or rule:network_owner_member"
SERVICE_OR_NET_OWNER_MEMBER = "rule:admin_or_service or rule:network_owner_member"


def _rule(name, check_str, description):
    return oslo_policy.RuleDefault(name, check_str, description)


BASE_RULES = [
    _rule("context_is_admin", "role:admin", "An administrator of the cloud."),
    _rule("service_api", "role:service", "Another service of the cloud (Nova)."),
    _rule("admin_or_service", "rule:context_is_admin or rule:service_api",
          "An administrator or a service."),
    _rule("project_member", "role:member and project_id:%(project_id)s",
          "A member of the project owning the resource."),
    _rule("project_reader", "role:reader and project_id:%(project_id)s",
          "A reader of the project owning the resource."),
    _rule("network_owner_member", "role:member and project_id:%(network:project_id)s",
          "A member of the project owning the resource's network."),
    _rule("network_owner_reader", "role:reader and project_id:%(network:project_id)s",
          "A reader of the project owning the resource's network."),
    _rule("shared", "'True':%(network:shared)s", "The resource's network is shared."),
    _rule("external", "'True':%(network:router:external)s",
          "The resource's network is external."),
]

NETWORK_RULES = [
    _rule("create_network", ADMIN_OR_PROJECT_MEMBER, "Create a network."),
    _rule("create_network:shared", ADMIN, "Create a network every project sees."),
    _rule("create_network:router:external", ADMIN, "Create an external network."),
    _rule("get_network", ADMIN_OR_PROJECT_READER + " or rule:shared or rule:external",
          "Show a network: its project's, or a shared or external one."),
    _rule("update_network", ADMIN_OR_PROJECT_MEMBER, "Rename or disable a network."),
    _rule("update_network:shared", ADMIN, "Share or unshare a network."),
    _rule("update_network:router:external", ADMIN, "Make a network external or not."),
    _rule("delete_network", ADMIN_OR_PROJECT_MEMBER, "Delete a network."),
    _rule("get_network:provider:network_type", ADMIN, "See a network's type (vxlan, local)."),
    _rule("get_network:provider:physical_network", ADMIN,
          "See a network's physical network."),
    _rule("get_network:provider:segmentation_id", ADMIN, "See a network's VNI."),
]

SUBNET_RULES = [
    _rule("create_subnet", ADMIN_OR_NET_OWNER_MEMBER,
          "Add a subnet to a network (its owner's business)."),
    _rule("get_subnet", ADMIN_OR_PROJECT_READER + " or rule:network_owner_reader"
          " or rule:shared", "Show a subnet."),
    _rule("update_subnet", ADMIN_OR_NET_OWNER_MEMBER, "Change a subnet."),
    _rule("delete_subnet", ADMIN_OR_NET_OWNER_MEMBER, "Delete a subnet."),
]

PORT_RULES = [
    _rule("create_port", ADMIN_OR_SERVICE + " or rule:project_member",
          "Create a port (on a network of one's project or a shared one)."),
    _rule("create_port:mac_address", SERVICE_OR_NET_OWNER_MEMBER,
          "Choose a port's MAC address."),
    _rule("create_port:fixed_ips:ip_address", SERVICE_OR_NET_OWNER_MEMBER,
          "Choose a port's IP address."),
    _rule("create_port:binding:host_id", ADMIN_OR_SERVICE, "Bind a port to a host."),
    _rule("create_port:binding:profile", ADMIN_OR_SERVICE, "Set a port's binding profile."),
    _rule("get_port", ADMIN_OR_SERVICE + " or rule:project_reader"
          " or rule:network_owner_reader", "Show a port."),
    _rule("get_port:binding:vif_type", ADMIN_OR_SERVICE, "See a port's VIF type."),
    _rule("get_port:binding:vif_details", ADMIN_OR_SERVICE, "See a port's VIF details."),
    _rule("get_port:binding:host_id", ADMIN_OR_SERVICE, "See the host a port is bound to."),
    _rule("get_port:binding:profile", ADMIN_OR_SERVICE, "See a port's binding profile."),
    _rule("update_port", ADMIN_OR_SERVICE + " or rule:project_member", "Change a port."),
    _rule("update_port:mac_address", ADMIN_OR_SERVICE, "Change a port's MAC address."),
    _rule("update_port:fixed_ips:ip_address", SERVICE_OR_NET_OWNER_MEMBER,
          "Change a port's IP address."),
    _rule("update_port:binding:host_id", ADMIN_OR_SERVICE, "Bind a port to another host."),
    _rule("update_port:binding:profile", ADMIN_OR_SERVICE, "Change a binding profile."),
    _rule("delete_port", ADMIN_OR_SERVICE + " or rule:project_member"
          " or rule:network_owner_member", "Delete a port."),
]

SECURITY_GROUP_RULES = [
    _rule("get_security_group", ADMIN_OR_PROJECT_READER, "Show a security group."),
    _rule("get_security_group_rule", ADMIN_OR_PROJECT_READER,
          "Show a security group rule."),
]

QUOTA_RULES = [
    _rule("get_quota", ADMIN_OR_PROJECT_READER, "Show a project's network quotas."),
    _rule("update_quota", ADMIN, "Set a project's network quotas."),
    _rule("delete_quota", ADMIN, "Put a project's network quotas back to the defaults."),
]


def list_rules():
    return (BASE_RULES + NETWORK_RULES + SUBNET_RULES + PORT_RULES + SECURITY_GROUP_RULES
            + QUOTA_RULES)


_ENFORCER = None
_LOCK = threading.Lock()


def get_enforcer():
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is None:
            _ENFORCER = nova_policy.Enforcer(CONF)
            _ENFORCER.register_defaults(list_rules())
        return _ENFORCER


def reset():
    """Forget the enforcer (tests change the configuration)."""
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is not None:
            _ENFORCER.clear()
        _ENFORCER = None


def check(context, action, target):
    """Whether ``context`` may do ``action`` on ``target`` (a dict)."""
    enforcer = get_enforcer()
    if action not in enforcer.registered_rules:
        if ":" in action:
            # An attribute without a rule of its own is not restricted.
            return True
        # A typo in an action's name must not quietly allow everything.
        raise RuntimeError(f"policy rule {action} is not registered")
    return enforcer.enforce(action, target, context)


def authorize(context, action, target):
    """Raise PolicyNotAuthorized (403) unless ``context`` may do ``action``."""
    if not check(context, action, target):
        raise exceptions.PolicyNotAuthorized(action=action)
