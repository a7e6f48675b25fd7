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


class _CountsFormatting:
    """A value that counts how often it is written out."""

    def __init__(self):
        self.formatted = 0

    def __format__(self, spec):
        self.formatted += 1
        return "7680"


def test_a_reason_with_values_is_written_out_only_when_read():
    # The scheduler reads only the reasons of the hosts a filter removes:
    # a passing host's reason is never formatted.
    value = _CountsFormatting()
    verdict = Verdict.ok("free RAM {} MB ≥ requested {} MB", value, 512)
    assert value.formatted == 0
    assert verdict.reason == "free RAM 7680 MB ≥ requested 512 MB"
    assert value.formatted == 1


def test_a_reason_without_values_is_kept_as_given_braces_and_all():
    assert Verdict.fail("zone {az1} ≠ requested nova").reason == "zone {az1} ≠ requested nova"
