"""mininova.policy replaces oslo.policy's ``_checks._check``: a check
class's signature is read once, not at every evaluation, and both the
current and the legacy signature (without ``current_rule``) still work."""

import inspect

from oslo_policy import _checks

from mininova import context, exception, policy


class CurrentCheck(_checks.Check):
    def __call__(self, target, creds, enforcer, current_rule=None):
        return current_rule == "asked:current"


class LegacyCheck(_checks.Check):
    def __call__(self, target, creds, enforcer):
        return target.get("project_id") == "mine"


def test_oslo_policy_uses_mininova_check():
    assert _checks._check is policy._check_with_known_signature


def test_both_signatures_are_called_as_they_ask(monkeypatch):
    monkeypatch.setattr(policy, "_TAKES_CURRENT_RULE", {})
    current, legacy = CurrentCheck("current", "x"), LegacyCheck("legacy", "x")
    assert _checks._check(current, {}, {}, None, "asked:current")
    assert not _checks._check(current, {}, {}, None, "asked:other")
    assert _checks._check(legacy, {"project_id": "mine"}, {}, None, "any")
    assert not _checks._check(legacy, {"project_id": "theirs"}, {}, None, "any")


def test_a_class_signature_is_read_once(monkeypatch):
    monkeypatch.setattr(policy, "_TAKES_CURRENT_RULE", {})
    reads = []
    real = inspect.getfullargspec

    def counting(function):
        reads.append(function)
        return real(function)

    monkeypatch.setattr(policy.inspect, "getfullargspec", counting)
    check = LegacyCheck("legacy", "x")
    for _ in range(5):
        _checks._check(check, {"project_id": "mine"}, {}, None, "any")
    assert reads == [LegacyCheck.__call__]


def test_rules_still_decide(conf):
    reader = context.RequestContext(user_id="u", project_id="p", roles=["reader"])
    assert policy.check(reader, "os_compute_api:servers:show", {"project_id": "p"})
    assert not policy.check(reader, "os_compute_api:servers:show", {"project_id": "q"})
    try:
        policy.authorize(reader, "os_compute_api:servers:show", {"project_id": "q"})
    except exception.PolicyNotAuthorized:
        pass
    else:
        raise AssertionError("another project's server was allowed")
