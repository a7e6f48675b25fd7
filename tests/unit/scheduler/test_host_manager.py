"""HostState (the scheduler's picture of one compute node) and HostManager's
filter loop."""

from datetime import timedelta

import pytest
from oslo_utils import timeutils

from mininova.scheduler import filters, host_manager, loadables
from mininova.scheduler.filter_scheduler import Decision

pytestmark = pytest.mark.usefixtures("conf")

FLAVOR = {"memory_mb": 512, "root_gb": 1, "ephemeral_gb": 1, "swap": 256, "vcpus": 2}


def node(updated_at, free_ram_mb=3584):
    """A compute_nodes row as the resource tracker reports it."""
    return {
        "updated_at": updated_at,
        "memory_mb": 4096, "free_ram_mb": free_ram_mb,
        "local_gb": 40, "free_disk_gb": 30, "local_gb_used": 10,
        "vcpus": 4, "vcpus_used": 1, "running_vms": 1,
        "ram_allocation_ratio": 1.5, "disk_allocation_ratio": 1.0,
        "cpu_allocation_ratio": 16.0, "hypervisor_type": "QEMU",
        "stats": {"cpu_arch": "x86_64"},
    }


def make_host(name="host1", free_ram_mb=4096):
    host = host_manager.HostState(name, name)
    host.total_usable_ram_mb = 4096
    host.free_ram_mb = free_ram_mb
    host.total_usable_disk_gb = 40
    host.free_disk_mb = 40 * 1024
    host.vcpus_total = 4
    host.service = {"host": name, "binary": "mininova-compute", "disabled": False,
                    "last_seen_up": timeutils.utcnow()}
    return host


# --- HostState ---------------------------------------------------------------

def test_update_from_compute_node_copies_the_report():
    host = host_manager.HostState("host1", "node1")
    now = timeutils.utcnow()
    host.update_from_compute_node(node(now))
    assert host.updated == now
    assert (host.total_usable_ram_mb, host.free_ram_mb) == (4096, 3584)
    assert (host.total_usable_disk_gb, host.free_disk_mb, host.disk_mb_used) == (
        40, 30 * 1024, 10 * 1024)
    assert (host.vcpus_total, host.vcpus_used, host.num_instances) == (4, 1, 1)
    assert host.hypervisor_type == "QEMU"
    assert host.stats == {"cpu_arch": "x86_64"}


def test_consume_from_request_counts_the_instance_as_placed():
    host = make_host()
    host.consume_from_request({"flavor": FLAVOR})
    assert host.free_ram_mb == 4096 - 512
    # (1 root + 1 ephemeral) GB × 1024 + 256 MB swap
    assert host.free_disk_mb == 40 * 1024 - 2304
    assert host.disk_mb_used == 2304
    assert host.vcpus_used == 2
    assert host.num_instances == 1
    assert host.num_io_ops == 1


def test_an_older_compute_report_does_not_undo_a_consumption():
    host = host_manager.HostState("host1", "node1")
    reported_at = timeutils.utcnow() - timedelta(seconds=5)
    host.update_from_compute_node(node(reported_at))
    host.consume_from_request({"flavor": FLAVOR})
    # The same (stale) report arrives again before the compute saw the claim.
    host.update_from_compute_node(node(reported_at))
    assert host.free_ram_mb == 3584 - 512
    assert host.num_instances == 2


def test_a_newer_compute_report_replaces_the_consumed_guess():
    host = host_manager.HostState("host1", "node1")
    host.update_from_compute_node(node(timeutils.utcnow() - timedelta(seconds=5)))
    host.consume_from_request({"flavor": FLAVOR})
    host.update_from_compute_node(node(timeutils.utcnow() + timedelta(seconds=1), free_ram_mb=3072))
    assert host.free_ram_mb == 3072
    assert host.num_instances == 1


def test_a_consumption_is_not_a_report_so_any_later_report_replaces_it():
    """Only reports' own times are compared: a scheduler whose clock runs
    ahead of the conductor's must still take the compute's next report."""
    host = host_manager.HostState("host1", "node1")
    conductor_clock = timeutils.utcnow() - timedelta(minutes=10)
    host.update_from_compute_node(node(conductor_clock))
    host.consume_from_request({"flavor": FLAVOR})
    host.update_from_compute_node(node(conductor_clock + timedelta(seconds=1),
                                       free_ram_mb=1000))
    assert host.free_ram_mb == 1000


def test_host_state_repr_has_novas_shape():
    host = host_manager.HostState("host1", "node1")
    host.free_ram_mb = 1024
    host.free_disk_mb = 2048
    host.num_io_ops = 3
    host.num_instances = 2
    assert repr(host) == "(host1, node1) ram: 1024MB disk: 2048MB io_ops: 3 instances: 2"


# --- HostManager.get_filtered_hosts -----------------------------------------------

class RecordingFilter(filters.BaseHostFilter):
    """Passes every host and remembers that it ran."""

    def __init__(self, once_per_request):
        self.run_filter_once_per_request = once_per_request
        self.calls = 0

    def host_passes(self, host_state, spec):
        self.calls += 1
        return filters.Verdict.ok("fine")


def test_default_filters_are_the_configured_ones_in_order():
    manager = host_manager.HostManager()
    assert [f.name for f in manager.enabled_filters] == [
        "RetryFilter", "AvailabilityZoneFilter", "RamFilter", "DiskFilter", "ComputeFilter",
        "ComputeCapabilitiesFilter", "ImagePropertiesFilter", "ServerGroupAntiAffinityFilter",
        "ServerGroupAffinityFilter"]


def test_an_enabled_filter_that_is_not_available_stops_the_scheduler(conf):
    conf.set_override("enabled_filters", ["RamFilter", "NoSuchFilter"], "filter_scheduler")
    with pytest.raises(loadables.LoadError, match="Filter 'NoSuchFilter' in "
                                                  r"\[filter_scheduler\] enabled_filters"):
        host_manager.HostManager()


def decision_for(instance_uuid):
    return Decision(instance_uuid, [], attempt=1, request_id="req-test")


def test_decision_summary_stops_at_the_filter_that_removed_all_hosts():
    manager = host_manager.HostManager()
    hosts = [make_host("h1", 100), make_host("h2", 100), make_host("h3", 100)]
    decision = decision_for("uuid-1")
    # 4096 × 1.5 − (4096 − 100) = 2148 MB usable on each host.
    spec = {"flavor": dict(FLAVOR, memory_mb=4096)}
    assert manager.get_filtered_hosts(hosts, spec, 0, decision) == []
    assert decision.summary() == [
        "RetryFilter: (start: 3, end: 3)",
        "AvailabilityZoneFilter: (start: 3, end: 3)",
        "RamFilter: (start: 3, end: 0)",
    ]


def test_decision_records_the_hosts_each_filter_removed_and_why():
    manager = host_manager.HostManager()
    manager.enabled_filters = [manager.filter_classes["RamFilter"]()]
    decision = decision_for("uuid-1")
    hosts = [make_host("big", 4096), make_host("small", 100)]
    kept = manager.get_filtered_hosts(hosts, {"flavor": dict(FLAVOR, memory_mb=4096)},
                                      0, decision)
    assert [h.host for h in kept] == ["big"]
    [ram] = decision.filters
    assert (ram["name"], ram["start"], ram["end"]) == ("RamFilter", 2, 1)
    assert [(v["host"], v["passed"]) for v in ram["verdicts"]] == [("small", False)]
    assert ram["verdicts"][0]["reason"].startswith("free RAM 2148 MB < requested 4096 MB")


def test_once_per_request_filters_run_only_for_the_first_instance():
    manager = host_manager.HostManager()
    once, always = RecordingFilter(True), RecordingFilter(False)
    manager.enabled_filters = [once, always]
    hosts = [make_host("h1"), make_host("h2")]
    manager.get_filtered_hosts(hosts, {}, 0, decision_for("a"))
    manager.get_filtered_hosts(hosts, {}, 1, decision_for("b"))
    manager.get_filtered_hosts(hosts, {}, 2, decision_for("c"))
    assert once.calls == 2      # index 0 only, one call per host
    assert always.calls == 6    # every index


def test_skipped_filters_leave_no_count_in_the_decision():
    manager = host_manager.HostManager()
    manager.enabled_filters = [RecordingFilter(True), RecordingFilter(False)]
    decision = decision_for("b")
    manager.get_filtered_hosts([make_host()], {}, 1, decision)
    assert decision.summary() == ["RecordingFilter: (start: 1, end: 1)"]


# --- HostManager.get_all_host_states: reading the reports -------------------------------

class FakeDatabase:
    """The rows the scheduler reads, stamped by a conductor whose clock is
    ``skew`` away from the scheduler's."""

    def __init__(self, skew):
        self.scheduler_now = timeutils.utcnow()
        self.now = self.scheduler_now + skew
        self.services = {}
        self.nodes = {}
        self.after_services_read = None

    def tick(self, seconds):
        """Both clocks move on."""
        self.now += timedelta(seconds=seconds)
        self.scheduler_now += timedelta(seconds=seconds)

    def register(self, host):
        self.services[host] = {"host": host, "binary": "mininova-compute",
                               "disabled": False, "last_seen_up": self.now}

    def report(self, host, free_ram_mb=3584):
        self.nodes[host] = dict(node(self.now, free_ram_mb), host=host,
                                hypervisor_hostname=host)

    def compute_node_get_all(self, context, updated_since=None, json_as_text=False):
        return [dict(n) for n in self.nodes.values()
                if updated_since is None or n["updated_at"] >= updated_since]

    def service_liveness_get_all(self, context, binary, up_since):
        services = [dict(s, up=s["last_seen_up"] >= up_since) for s in self.services.values()]
        for service in services:
            if service["up"]:
                service["last_seen_up"] = None
        if self.after_services_read:
            self.after_services_read()
            self.after_services_read = None
        return services


@pytest.fixture
def database(monkeypatch):
    def make(skew):
        fake = FakeDatabase(skew)
        monkeypatch.setattr(host_manager.services_db, "compute_node_get_all",
                            fake.compute_node_get_all)
        monkeypatch.setattr(host_manager.services_db, "service_liveness_get_all",
                            fake.service_liveness_get_all)
        monkeypatch.setattr(host_manager.scheduling_db, "aggregates_by_host",
                            lambda context: {})
        monkeypatch.setattr(timeutils, "utcnow", lambda: fake.scheduler_now)
        return fake
    return make


def free_ram(manager):
    return {state.host: state.free_ram_mb for state in manager.get_all_host_states(None)}


@pytest.mark.parametrize("skew", [timedelta(minutes=-10), timedelta(0),
                                  timedelta(minutes=10)], ids=["behind", "same", "ahead"])
def test_every_report_is_seen_whatever_the_conductors_clock_says(database, skew):
    db = database(skew)
    db.register("host1")
    db.report("host1")
    manager = host_manager.HostManager()
    assert free_ram(manager) == {"host1": 3584}
    db.tick(60)
    db.report("host1", free_ram_mb=2048)
    db.register("host2")
    db.report("host2", free_ram_mb=4096)
    assert free_ram(manager) == {"host1": 2048, "host2": 4096}


def test_a_host_that_starts_between_the_two_reads_is_not_taken_for_dead(database, caplog):
    caplog.set_level("INFO", logger="mininova.scheduler.host_manager")
    db = database(timedelta(0))
    db.register("host1")
    db.report("host1")
    manager = host_manager.HostManager()
    free_ram(manager)

    def host2_starts():
        db.register("host2")
        db.report("host2", free_ram_mb=4096)
    db.after_services_read = host2_starts
    free_ram(manager)
    # A minute on, host1 has reported again, host2 not yet.
    db.tick(60)
    db.report("host1")
    assert free_ram(manager) == {"host1": 3584, "host2": 4096}
    assert "Removing dead compute node" not in caplog.text


def test_long_lived_objects_are_frozen_once_per_change_of_the_hosts(database, monkeypatch):
    # A full garbage collection at thousands of hosts took hundreds of ms,
    # on whichever request set it off: the host states are kept out of
    # those collections when the hosts change, not on every request.
    frozen = []
    monkeypatch.setattr(host_manager, "_freeze_long_lived", lambda: frozen.append(True))
    monkeypatch.setattr(host_manager, "FREEZE_FROM_HOSTS", 2)
    db = database(timedelta(0))
    db.register("host1")
    db.report("host1")
    manager = host_manager.HostManager()
    free_ram(manager)
    assert frozen == []          # one host: below the threshold
    db.register("host2")
    db.report("host2")
    free_ram(manager)
    assert frozen == [True]      # a host came
    db.tick(1)
    db.report("host1", free_ram_mb=1024)
    free_ram(manager)
    assert frozen == [True]      # a new report of the same hosts


def test_freezing_keeps_the_collector_working_for_what_comes_later():
    import gc

    host_manager._freeze_long_lived()
    try:
        class Cycle:
            pass
        garbage = Cycle()
        garbage.me = garbage
        del garbage
        assert gc.collect() >= 1   # a cycle made after the freeze is still collected
    finally:
        gc.unfreeze()
