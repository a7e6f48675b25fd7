"""RAMWeigher: most free RAM wins (spread); a negative multiplier stacks."""

import pytest

from mininova.scheduler import weights
from mininova.scheduler.host_manager import HostState
from mininova.scheduler.weights import ram

pytestmark = pytest.mark.usefixtures("conf")


def make_host(name, free_ram_mb):
    host = HostState(name, name)
    host.free_ram_mb = free_ram_mb
    return host


def hosts():
    return [make_host("empty", 4096), make_host("full", 512), make_host("half", 2048)]


def test_default_multiplier_is_one(conf):
    assert ram.RAMWeigher().weight_multiplier() == 1.0


def test_positive_multiplier_spreads_to_the_host_with_most_free_ram():
    weighed = weights.weigh([ram.RAMWeigher()], hosts(), {})
    assert [item.obj.host for item in weighed] == ["empty", "half", "full"]
    assert weighed[0].weight == 1.0


def test_negative_multiplier_stacks_onto_the_fullest_host(conf):
    conf.set_override("ram_weight_multiplier", -1.0, "filter_scheduler")
    weighed = weights.weigh([ram.RAMWeigher()], hosts(), {})
    assert [item.obj.host for item in weighed] == ["full", "half", "empty"]
    assert weighed[0].weight == 0.0
    assert weighed[-1].weight == -1.0


def test_hosts_with_equal_free_ram_all_weigh_zero():
    equal = [make_host("a", 1024), make_host("b", 1024)]
    weighed = weights.weigh([ram.RAMWeigher()], equal, {})
    assert [item.weight for item in weighed] == [0.0, 0.0]
