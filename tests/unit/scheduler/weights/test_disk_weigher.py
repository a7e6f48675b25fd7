"""DiskWeigher: most free disk wins; a negative multiplier stacks."""

import pytest

from mininova.scheduler import weights
from mininova.scheduler.host_manager import HostState
from mininova.scheduler.weights import disk

pytestmark = pytest.mark.usefixtures("conf")


def make_host(name, free_disk_mb):
    host = HostState(name, name)
    host.free_disk_mb = free_disk_mb
    return host


def test_host_with_most_free_disk_comes_first():
    hosts = [make_host("small", 1024), make_host("large", 10240)]
    weighed = weights.weigh([disk.DiskWeigher()], hosts, {})
    assert [item.obj.host for item in weighed] == ["large", "small"]


def test_negative_multiplier_prefers_the_fullest_disk(conf):
    conf.set_override("disk_weight_multiplier", -1.0, "filter_scheduler")
    hosts = [make_host("small", 1024), make_host("large", 10240)]
    weighed = weights.weigh([disk.DiskWeigher()], hosts, {})
    assert [item.obj.host for item in weighed] == ["small", "large"]
