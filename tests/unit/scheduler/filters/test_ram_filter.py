"""RamFilter: usable RAM = total × ram_allocation_ratio − used."""

import pytest

from mininova.scheduler.filters import ram_filter
from mininova.scheduler.host_manager import HostState

pytestmark = pytest.mark.usefixtures("conf")


def make_host(total=1024, free=512, ratio=1.5):
    host = HostState("host1", "node1")
    host.total_usable_ram_mb = total
    host.free_ram_mb = free
    host.ram_allocation_ratio = ratio
    return host


def spec(memory_mb):
    return {"flavor": {"memory_mb": memory_mb}}


def test_request_equal_to_usable_ram_passes():
    # 1024 × 1.5 = 1536 limit, 512 used → 1024 usable.
    verdict = ram_filter.RamFilter().host_passes(make_host(), spec(1024))
    assert verdict
    assert verdict.reason == "free RAM 1024 MB ≥ requested 1024 MB"


def test_request_one_mb_over_usable_ram_fails():
    verdict = ram_filter.RamFilter().host_passes(make_host(), spec(1025))
    assert not verdict
    assert verdict.reason == (
        "free RAM 1024 MB < requested 1025 MB (total 1024 MB × ratio 1.5 − used 512 MB)")


def test_passing_sets_the_memory_limit_to_total_times_ratio():
    host = make_host()
    ram_filter.RamFilter().host_passes(host, spec(256))
    assert host.limits["memory_mb"] == 1024 * 1.5


def test_failing_sets_no_memory_limit():
    host = make_host()
    ram_filter.RamFilter().host_passes(host, spec(4096))
    assert "memory_mb" not in host.limits


def test_ratio_one_means_no_overcommit():
    host = make_host(total=1024, free=512, ratio=1.0)
    assert ram_filter.RamFilter().host_passes(host, spec(512))
    assert not ram_filter.RamFilter().host_passes(host, spec(513))


def test_ram_filter_runs_for_every_instance_of_a_request():
    assert ram_filter.RamFilter.run_filter_once_per_request is False
