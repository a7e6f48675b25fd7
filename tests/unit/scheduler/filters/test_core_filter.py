"""CoreFilter: vCPUs used + requested ≤ host vCPUs × cpu_allocation_ratio."""

import pytest

from mininova.scheduler.filters import core_filter
from mininova.scheduler.host_manager import HostState

pytestmark = pytest.mark.usefixtures("conf")


def make_host(total=2, used=30, ratio=16.0):
    host = HostState("host1", "node1")
    host.vcpus_total = total
    host.vcpus_used = used
    host.cpu_allocation_ratio = ratio
    return host


def spec(vcpus):
    return {"flavor": {"vcpus": vcpus}}


def test_request_equal_to_free_vcpus_passes():
    # 2 × 16 = 32 limit, 30 used → 2 free.
    verdict = core_filter.CoreFilter().host_passes(make_host(), spec(2))
    assert verdict
    assert verdict.reason == "free vCPUs 2 ≥ requested 2"


def test_request_over_free_vcpus_fails():
    verdict = core_filter.CoreFilter().host_passes(make_host(), spec(3))
    assert not verdict
    assert verdict.reason == "free vCPUs 2 < requested 3 (2 × ratio 16.0 − used 30)"


def test_passing_sets_the_vcpu_limit_to_total_times_ratio():
    host = make_host()
    core_filter.CoreFilter().host_passes(host, spec(1))
    assert host.limits["vcpu"] == 32


def test_failing_sets_no_vcpu_limit():
    host = make_host()
    core_filter.CoreFilter().host_passes(host, spec(8))
    assert "vcpu" not in host.limits
