"""Verdict: a filter's answer, truthy when the host passes, with a reason."""

from mininova.scheduler.filters import Verdict


def test_ok_verdict_is_truthy_and_keeps_its_reason():
    verdict = Verdict.ok("fits")
    assert bool(verdict) is True
    assert verdict.reason == "fits"


def test_fail_verdict_is_falsy_and_keeps_its_reason():
    verdict = Verdict.fail("too small")
    assert bool(verdict) is False
    assert verdict.reason == "too small"


def test_repr_says_pass_or_fail_and_why():
    assert repr(Verdict.ok("fits")) == "Verdict(pass: fits)"
    assert repr(Verdict.fail("too small")) == "Verdict(fail: too small)"
