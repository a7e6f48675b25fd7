"""ResourceTracker: this host's resources, the instances using them, claims,
and the report to compute_nodes (through a stub conductor)."""

import logging
import threading

import pytest

from mininova import exception, rpc
from mininova.compute import resource_tracker

pytestmark = pytest.mark.usefixtures("conf")

CONTEXT = object()
TINY = {"memory_mb": 512, "root_gb": 1, "ephemeral_gb": 0, "swap": 0, "vcpus": 1}


class StubDriver:
    def get_available_resource(self):
        return {"hypervisor_hostname": "node1", "hypervisor_type": "QEMU",
                "hypervisor_version": 8002000, "vcpus": 4, "memory_mb": 4096,
                "local_gb": 40, "cpu_info": {}, "stats": {}}


class StubConductor:
    """Records the calls the tracker makes; serves instances of this host."""

    def __init__(self, instances=(), update_error=None, migrations=()):
        self.instances = list(instances)
        self.migrations = list(migrations)
        self.update_error = update_error
        self.instance_updates = []
        self.node_updates = []

    def instance_get_all_by_host(self, context, host):
        return self.instances

    def migrations_in_progress_by_host(self, context, host):
        return self.migrations

    def instance_update(self, context, uuid, values):
        self.instance_updates.append((uuid, values))
        if self.update_error is not None:
            raise self.update_error
        return values

    def compute_node_update(self, context, host, nodename, values):
        self.node_updates.append((host, nodename, values))


def instance(uuid, vm_state="active", flavor=TINY):
    return {"uuid": uuid, "vm_state": vm_state, "flavor": dict(flavor)}


def make_tracker(instances=(), update_error=None, migrations=()):
    conductor = StubConductor(instances, update_error, migrations)
    tracker = resource_tracker.ResourceTracker("host1", StubDriver(), conductor)
    tracker.update_available_resource(CONTEXT)
    conductor.node_updates.clear()
    return tracker, conductor


# --- the periodic recount ------------------------------------------------------

def test_used_ram_starts_at_reserved_host_memory_mb():
    tracker, _ = make_tracker()
    assert tracker.compute_node["memory_mb_used"] == 512
    assert tracker.compute_node["free_ram_mb"] == 4096 - 512
    assert tracker.compute_node["running_vms"] == 0


def test_recount_adds_every_instance_that_is_not_deleted():
    tracker, _ = make_tracker([instance("a"), instance("b", "stopped"),
                               instance("c", "deleted")])
    node = tracker.compute_node
    assert node["running_vms"] == 2
    assert node["memory_mb_used"] == 512 + 2 * 512
    assert node["local_gb_used"] == 2
    assert node["vcpus_used"] == 2
    assert set(tracker.tracked_instances) == {"a", "b"}


def test_recount_logs_the_final_resource_view(caplog):
    caplog.set_level(logging.INFO, logger="mininova.compute.resource_tracker")
    make_tracker([instance("a"), instance("b")])
    assert caplog.messages[-1] == (
        "Final resource view: name=node1 phys_ram=4096MB used_ram=1536MB "
        "phys_disk=40GB used_disk=2GB total_vcpus=4 used_vcpus=2 pci_stats=[]")


def test_the_recount_reads_without_the_lock_and_again_when_a_claim_came_in():
    tracker, conductor = make_tracker()
    reads = []
    claimer = threading.Thread(
        target=tracker.instance_claim, args=(CONTEXT, instance("new"), "node1"))

    def read_while_a_claim_comes_in(context, host):
        reads.append(host)
        if len(reads) == 1:
            # A boot's claim must get the lock while the recount reads.
            claimer.start()
            claimer.join(timeout=10)
            assert not claimer.is_alive(), "the claim waited for the recount's lock"
            conductor.instances.append(instance("new"))
        return conductor.instances

    conductor.instance_get_all_by_host = read_while_a_claim_comes_in
    tracker.update_available_resource(CONTEXT)
    # The first reading missed the claim: it was read again.
    assert len(reads) == 2
    assert set(tracker.tracked_instances) == {"new"}
    assert tracker.compute_node["memory_mb_used"] == 512 + 512


def test_a_recount_that_times_out_leaves_the_lock_free():
    tracker, conductor = make_tracker()

    def lost_reply(context, host):
        raise rpc.MessagingTimeout(msg_id="abc", reason="conductor did not answer")

    conductor.instance_get_all_by_host = lost_reply
    with pytest.raises(rpc.MessagingTimeout):
        tracker.update_available_resource(CONTEXT)
    tracker.instance_claim(CONTEXT, instance("new"), "node1")   # not blocked
    assert set(tracker.tracked_instances) == {"new"}


def test_a_report_older_than_one_sent_is_dropped():
    tracker, conductor = make_tracker()
    old_values, old_generation = tracker._report_values()
    tracker.instance_claim(CONTEXT, instance("new"), "node1")   # reports a newer view
    conductor.node_updates.clear()
    tracker._send_report(CONTEXT, old_values, old_generation)
    assert conductor.node_updates == []


def test_recount_reports_to_compute_nodes_through_the_conductor():
    conductor = StubConductor([instance("a")])
    tracker = resource_tracker.ResourceTracker("host1", StubDriver(), conductor)
    tracker.update_available_resource(CONTEXT)
    [(host, nodename, values)] = conductor.node_updates
    assert (host, nodename) == ("host1", "node1")
    assert values["memory_mb_used"] == 1024
    assert values["free_ram_mb"] == 3072
    assert values["running_vms"] == 1
    assert values["ram_allocation_ratio"] == 1.5
    assert values["cpu_allocation_ratio"] == 16.0


def test_swap_megabytes_round_the_reported_disk_up_to_whole_gb():
    tracker, conductor = make_tracker([instance("a", flavor=dict(TINY, swap=512))])
    assert tracker.compute_node["local_gb_used"] == 1.5   # 1 GB root + 512 MB swap
    tracker.update_available_resource(CONTEXT)
    values = conductor.node_updates[-1][2]
    assert values["local_gb_used"] == 2
    assert values["free_disk_gb"] == 38


# --- claims --------------------------------------------------------------------

def test_claim_adds_the_instances_usage():
    tracker, _ = make_tracker()
    tracker.instance_claim(CONTEXT, instance("new"), "node1")
    assert tracker.compute_node["memory_mb_used"] == 512 + 512
    assert tracker.compute_node["vcpus_used"] == 1
    assert tracker.compute_node["running_vms"] == 1


def test_claim_gives_the_instance_its_host_and_node():
    tracker, conductor = make_tracker()
    new = instance("new")
    tracker.instance_claim(CONTEXT, new, "node1")
    assert conductor.instance_updates == [
        ("new", {"host": "host1", "node": "node1", "launched_on": "host1"})]
    assert (new["host"], new["node"]) == ("host1", "node1")


def test_claim_reports_the_new_usage():
    tracker, conductor = make_tracker()
    tracker.instance_claim(CONTEXT, instance("new"), "node1")
    [(_host, _node, values)] = conductor.node_updates
    assert values["memory_mb_used"] == 1024


def test_failed_claim_adds_no_usage_and_assigns_no_host():
    tracker, conductor = make_tracker()
    with pytest.raises(exception.ComputeResourcesUnavailable):
        # free = 800 − 512 = 288 MB < 512 MB
        tracker.instance_claim(CONTEXT, instance("new"), "node1", {"memory_mb": 800})
    assert tracker.compute_node["memory_mb_used"] == 512
    assert "new" not in tracker.tracked_instances
    assert conductor.instance_updates == []


def test_usage_is_rolled_back_when_the_host_cannot_be_recorded():
    tracker, _ = make_tracker(update_error=exception.InstanceNotFound(instance_id="new"))
    with pytest.raises(exception.InstanceNotFound):
        tracker.instance_claim(CONTEXT, instance("new"), "node1")
    assert tracker.compute_node["memory_mb_used"] == 512
    assert tracker.compute_node["running_vms"] == 0
    assert "new" not in tracker.tracked_instances


def test_abort_instance_claim_gives_the_resources_back():
    tracker, _ = make_tracker()
    new = instance("new")
    tracker.instance_claim(CONTEXT, new, "node1")
    tracker.abort_instance_claim(CONTEXT, new)
    assert tracker.compute_node["memory_mb_used"] == 512
    assert tracker.compute_node["running_vms"] == 0


def test_abort_instance_claim_clears_the_instances_host_and_reports():
    tracker, conductor = make_tracker()
    new = instance("new")
    tracker.instance_claim(CONTEXT, new, "node1")
    tracker.abort_instance_claim(CONTEXT, new)
    assert conductor.instance_updates[-1] == ("new", {"host": None, "node": None})
    assert conductor.node_updates[-1][2]["memory_mb_used"] == 512


def test_failing_build_in_the_claims_with_block_aborts_it():
    tracker, _ = make_tracker()
    with pytest.raises(RuntimeError):
        with tracker.instance_claim(CONTEXT, instance("new"), "node1"):
            raise RuntimeError("spawn failed")
    assert tracker.compute_node["memory_mb_used"] == 512


def test_drop_instance_gives_the_resources_back_and_reports():
    tracker, conductor = make_tracker([instance("a")])
    tracker.drop_instance(CONTEXT, {"uuid": "a"})
    assert tracker.compute_node["memory_mb_used"] == 512
    assert tracker.compute_node["running_vms"] == 0
    assert conductor.node_updates[-1][2]["memory_mb_used"] == 512


def test_dropping_an_untracked_instance_changes_and_reports_nothing():
    tracker, conductor = make_tracker([instance("a")])
    tracker.drop_instance(CONTEXT, {"uuid": "other"})
    assert tracker.compute_node["memory_mb_used"] == 1024
    assert conductor.node_updates == []


# --- moves (resize, cold migration) -----------------------------------------------

SMALL = dict(TINY, memory_mb=1024, vcpus=2)


def moving(uuid, source, dest, status="finished"):
    """A migration of ``uuid`` from TINY to SMALL, its instance on ``dest``."""
    row = dict(instance(uuid, "resized", SMALL), old_flavor=dict(TINY),
               new_flavor=dict(SMALL), host=dest)
    return {"id": 7, "instance_uuid": uuid, "source_compute": source,
            "dest_compute": dest, "status": status, "instance": row}


def test_the_source_holds_the_old_flavor_until_the_move_ends():
    tracker, _ = make_tracker(migrations=[moving("a", "host1", "host2")])
    assert tracker.compute_node["memory_mb_used"] == 512 + TINY["memory_mb"]
    assert tracker.compute_node["running_vms"] == 0


def test_the_destination_holds_the_new_flavor_and_counts_the_instance_once():
    migration = moving("a", "host2", "host1")
    tracker, _ = make_tracker(instances=[migration["instance"]], migrations=[migration])
    assert tracker.compute_node["memory_mb_used"] == 512 + SMALL["memory_mb"]


def test_a_revert_in_progress_frees_the_destination():
    migration = moving("a", "host2", "host1", status="reverting")
    tracker, _ = make_tracker(instances=[migration["instance"]], migrations=[migration])
    assert tracker.compute_node["memory_mb_used"] == 512


def test_a_resize_on_the_same_host_holds_both_flavors():
    migration = moving("a", "host1", "host1")
    tracker, _ = make_tracker(instances=[migration["instance"]], migrations=[migration])
    assert tracker.compute_node["memory_mb_used"] == 512 + TINY["memory_mb"] + SMALL["memory_mb"]


def test_a_resize_claim_tests_the_new_flavor_and_drops_with_the_migration():
    tracker, _ = make_tracker()
    migration = {"id": 9}
    tracker.resize_claim(CONTEXT, instance("a"), SMALL, migration, "node1")
    assert tracker.compute_node["vcpus_used"] == SMALL["vcpus"]
    tracker.drop_move_claim(CONTEXT, migration)
    assert tracker.compute_node["vcpus_used"] == 0


def test_a_resize_claim_that_does_not_fit_reserves_nothing():
    tracker, _ = make_tracker()
    huge = dict(TINY, memory_mb=10 ** 6)
    with pytest.raises(exception.ComputeResourcesUnavailable):
        tracker.resize_claim(CONTEXT, instance("a"), huge, {"id": 9}, "node1",
                             limits={"memory_mb": 6144})
    assert tracker.compute_node["memory_mb_used"] == 512
