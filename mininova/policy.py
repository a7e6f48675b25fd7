"""Who may do what (mirrors ``nova/policy.py``).

oslo.policy's Enforcer with the default rules of ``mininova/policies/``,
overridable by the operator's ``policy.yaml``. The API checks a rule before
it acts, as Nova does, with ``context.can(rule, target)``: the target says
whose resource it is (``{"project_id": <the server's project>}``), the
context who is asking (user, project, roles). A refusal is the 403
``Policy doesn't allow <rule> to be performed.``
"""

import threading

from oslo_policy import opts as policy_opts
from oslo_policy import policy as oslo_policy

from mininova import exception, policies
from mininova.conf import CONF

# [oslo_policy] policy_file: policy.yaml, looked for next to mininova.conf.
policy_opts.set_defaults(CONF, policy_file="policy.yaml")

_ENFORCER = None
_LOCK = threading.Lock()


def get_enforcer():
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is None:
            _ENFORCER = oslo_policy.Enforcer(CONF)
            _ENFORCER.register_defaults(policies.list_rules())
        return _ENFORCER


def reset():
    """Forget the enforcer (tests change the configuration)."""
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is not None:
            _ENFORCER.clear()
        _ENFORCER = None


def check(context, action, target=None):
    """Whether ``context`` may do ``action`` (for what a view shows)."""
    try:
        authorize(context, action, target)
    except exception.PolicyNotAuthorized:
        return False
    return True


def authorize(context, action, target=None):
    """Raise PolicyNotAuthorized unless ``context`` may do ``action`` on
    ``target`` (by default: something of its own project and user)."""
    if target is None:
        target = {"project_id": context.project_id, "user_id": context.user_id}
    enforcer = get_enforcer()
    if action not in enforcer.registered_rules:
        # A typo in a rule name must not quietly fall back to the default.
        raise exception.InternalError(err=f"policy rule {action} is not registered")
    return enforcer.authorize(action, target, context, do_raise=True,
                              exc=exception.PolicyNotAuthorized, action=action)
