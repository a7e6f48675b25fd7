"""DiskFilter: requested = (root + ephemeral) × 1024 + swap MB;
usable = total × disk_allocation_ratio − used."""

import pytest

from mininova.scheduler.filters import disk_filter
from mininova.scheduler.host_manager import HostState

pytestmark = pytest.mark.usefixtures("conf")


def make_host(total_gb=10, free_mb=4096, ratio=1.0):
    host = HostState("host1", "node1")
    host.total_usable_disk_gb = total_gb
    host.free_disk_mb = free_mb
    host.disk_allocation_ratio = ratio
    return host


def spec(root_gb, ephemeral_gb=0, swap=0):
    return {"flavor": {"root_gb": root_gb, "ephemeral_gb": ephemeral_gb, "swap": swap}}


def test_request_equal_to_free_disk_passes():
    verdict = disk_filter.DiskFilter().host_passes(make_host(), spec(root_gb=4))
    assert verdict
    assert verdict.reason == "free disk 4096 MB ≥ requested 4096 MB"


def test_swap_megabytes_count_towards_the_request():
    # 3 GB root + 1 GB ephemeral = 4096 MB, plus 1 MB of swap: one MB too many.
    verdict = disk_filter.DiskFilter().host_passes(
        make_host(), spec(root_gb=3, ephemeral_gb=1, swap=1))
    assert not verdict
    assert verdict.reason == (
        "free disk 4096 MB < requested 4097 MB "
        "(total 10240 MB × ratio 1.0 − used 6144 MB)")


def test_overcommit_ratio_adds_usable_disk():
    # limit 10240 × 2 = 20480, used 6144 → 14336 usable.
    host = make_host(ratio=2.0)
    assert disk_filter.DiskFilter().host_passes(host, spec(root_gb=14))
    assert not disk_filter.DiskFilter().host_passes(host, spec(root_gb=15))


def test_passing_sets_the_disk_limit_in_gb():
    host = make_host(total_gb=10, ratio=2.0)
    disk_filter.DiskFilter().host_passes(host, spec(root_gb=1))
    assert host.limits["disk_gb"] == 20


def test_failing_sets_no_disk_limit():
    host = make_host()
    disk_filter.DiskFilter().host_passes(host, spec(root_gb=100))
    assert "disk_gb" not in host.limits


def test_a_server_booted_from_a_volume_asks_no_root_disk():
    # Its root is a volume of the volume service: only ephemeral and swap
    # take this host's disk (Nova leaves DISK_GB's root out for is_bfv).
    bfv = {**spec(root_gb=20, ephemeral_gb=1, swap=512), "is_bfv": True}
    verdict = disk_filter.DiskFilter().host_passes(make_host(), bfv)
    assert verdict
    assert verdict.reason == "free disk 4096 MB ≥ requested 1536 MB"
    assert not disk_filter.DiskFilter().host_passes(make_host(), spec(root_gb=20))


def test_consuming_a_volume_backed_request_takes_only_its_local_disks():
    host = make_host()
    host.disk_mb_used = 0
    host.free_ram_mb, host.vcpus_used = 4096, 0
    host.consume_from_request({"flavor": {"memory_mb": 64, "vcpus": 1, "root_gb": 20,
                                          "ephemeral_gb": 1, "swap": 0}, "is_bfv": True})
    assert (host.free_disk_mb, host.disk_mb_used) == (3072, 1024)
