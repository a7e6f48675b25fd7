"""A filter that says it is not needed for a request (``needed_for``) is
not run host by host: it must then be one that every host would pass."""

import pytest
from oslo_utils import timeutils

from mininova.scheduler import filters, host_manager
from mininova.scheduler.filter_scheduler import Decision

pytestmark = pytest.mark.usefixtures("conf")

FLAVOR = {"memory_mb": 512, "root_gb": 1, "ephemeral_gb": 0, "swap": 0, "vcpus": 1,
          "extra_specs": {}}
PLAIN = {"flavor": FLAVOR, "image": {}, "retry": {"num_attempts": 1, "hosts": []},
         "availability_zone": None, "instance_group": None}
GROUP = {"uuid": "g", "name": "web", "members": [], "rules": {}}
# (filter, a request that needs it): the host below fails each of them.
NEEDED = {
    "RetryFilter": {"retry": {"num_attempts": 2, "hosts": [["host1", "host1"]]}},
    "AvailabilityZoneFilter": {"availability_zone": "az9"},
    "ComputeCapabilitiesFilter": {"flavor": dict(FLAVOR, extra_specs={
        "capabilities:cpu_arch": "s== aarch64"})},
    "ImagePropertiesFilter": {"image": {"hw_architecture": "aarch64"}},
    "ServerGroupAntiAffinityFilter": {"instance_group": dict(GROUP, policy="anti-affinity"),
                                      "group_members_by_host": {"host1": {"m"}}},
    "ServerGroupAffinityFilter": {"instance_group": dict(GROUP, policy="affinity"),
                                  "group_hosts": {"host2"}},
}


def host():
    state = host_manager.HostState("host1", "host1")
    state.total_usable_ram_mb, state.free_ram_mb = 4096, 4096
    state.total_usable_disk_gb, state.free_disk_mb = 40, 40 * 1024
    state.vcpus_total = 4
    state.stats = {"cpu_arch": "x86_64",
                   "supported_instances": [["x86_64", "qemu", "hvm"]]}
    state.service = {"host": "host1", "disabled": False, "forced_down": False,
                     "last_seen_up": timeutils.utcnow()}
    return state


def enabled_filters():
    return {f.name: f for f in host_manager.HostManager().enabled_filters}


@pytest.mark.parametrize("name", sorted(NEEDED))
def test_a_filter_not_needed_by_a_plain_request_passes_every_host(name):
    host_filter = enabled_filters()[name]
    assert not host_filter.needed_for(PLAIN)
    assert host_filter.host_passes(host(), PLAIN)


@pytest.mark.parametrize("name", sorted(NEEDED))
def test_a_request_that_asks_something_of_the_filter_runs_it(name):
    host_filter = enabled_filters()[name]
    spec = dict(PLAIN, **NEEDED[name])
    assert host_filter.needed_for(spec)
    assert not host_filter.host_passes(host(), spec)
    decision = Decision("uuid-1", [host()], 1, "req-1")
    assert host_manager.HostManager().get_filtered_hosts([host()], spec, 0, decision) == []
    assert decision.explanation()[0].startswith(f"{name}: host1: ")


def test_resource_and_service_filters_are_always_needed():
    for name in ("RamFilter", "DiskFilter", "ComputeFilter"):
        assert enabled_filters()[name].needed_for(PLAIN)


class NotNeeded(filters.BaseHostFilter):
    calls = 0

    def needed_for(self, spec):
        return False

    def host_passes(self, host_state, spec):
        self.calls += 1
        return filters.Verdict.fail("never asked")


def test_a_filter_not_needed_is_not_called_but_still_counted():
    manager = host_manager.HostManager()
    skipped = NotNeeded()
    manager.enabled_filters = [skipped]
    decision = Decision("uuid-1", [host(), host()], 1, "req-1")
    kept = manager.get_filtered_hosts([host(), host()], PLAIN, 0, decision)
    assert len(kept) == 2 and skipped.calls == 0
    assert decision.summary() == ["NotNeeded: (start: 2, end: 2)"]
