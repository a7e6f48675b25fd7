"""FilterScheduler.select_destinations: filter, weigh, pick, consume, per instance.

The host states come from a stubbed HostManager.get_all_host_states (no DB).
"""

import logging

import pytest
from oslo_utils import timeutils

from mininova import context, exception
from mininova.scheduler import filter_scheduler, host_manager

CONTEXT = context.RequestContext("admin", "admin", overwrite=False)
FLAVOR = {"memory_mb": 1024, "root_gb": 1, "ephemeral_gb": 0, "swap": 0, "vcpus": 1}


@pytest.fixture
def scheduler(conf, monkeypatch):
    conf.set_override("weight_classes", ["mininova.scheduler.weights.ram.RAMWeigher"],
                      "filter_scheduler")
    scheduler = filter_scheduler.FilterScheduler()
    # No database in the unit tier: keep the decisions in a list.
    scheduler.saved = []
    monkeypatch.setattr(filter_scheduler.scheduling_db, "scheduling_decision_create",
                        lambda ctxt, values: scheduler.saved.append(values))
    return scheduler


def make_host(name, free_ram_mb=4096, disabled=False, zone="nova"):
    host = host_manager.HostState(name, name)
    host.total_usable_ram_mb = 4096
    host.free_ram_mb = free_ram_mb
    host.total_usable_disk_gb = 40
    host.free_disk_mb = 40 * 1024
    host.vcpus_total = 4
    host.availability_zone = zone
    host.service = {"host": name, "binary": "mininova-compute", "disabled": disabled,
                    "disabled_reason": None, "last_seen_up": timeutils.utcnow()}
    return host


def use_hosts(scheduler, hosts):
    scheduler.host_manager.get_all_host_states = lambda context: hosts


def spec(*uuids, **extra):
    return dict({"flavor": dict(FLAVOR), "instance_uuids": list(uuids)}, **extra)


def test_no_host_left_raises_no_valid_host_with_novas_message(scheduler):
    use_hosts(scheduler, [make_host("h1", free_ram_mb=0)])
    big = spec("uuid-1")
    big["flavor"]["memory_mb"] = 8192
    with pytest.raises(exception.NoValidHost) as caught:
        scheduler.select_destinations(CONTEXT, big)
    assert str(caught.value).startswith(
        "No valid host was found. There are not enough hosts available. ")


def test_no_valid_host_says_which_filter_removed_which_host(scheduler):
    use_hosts(scheduler, [make_host("h1", free_ram_mb=0), make_host("h2", disabled=True)])
    big = spec("uuid-1")
    big["flavor"]["memory_mb"] = 4096
    with pytest.raises(exception.NoValidHost) as caught:
        scheduler.select_destinations(CONTEXT, big)
    ram_reason = ("free RAM 2048 MB < requested 4096 MB "
                  "(total 4096 MB × ratio 1.5 − used 4096 MB)")
    assert str(caught.value) == (
        "No valid host was found. There are not enough hosts available. "
        f"RamFilter: (start: 2, end: 1): h1: {ram_reason}. "
        "ComputeFilter: (start: 1, end: 0): h2: service disabled: no reason given.")
    assert caught.value.kwargs["details"].splitlines() == [
        f"RamFilter: h1: {ram_reason}", "ComputeFilter: h2: service disabled: no reason given"]


def test_every_decision_is_saved_with_what_was_removed_and_chosen(scheduler):
    use_hosts(scheduler, [make_host("h1"), make_host("h2", disabled=True)])
    scheduler.select_destinations(CONTEXT, spec("uuid-1"))
    [record] = scheduler.saved
    assert record["instance_uuid"] == "uuid-1"
    assert record["request_id"] == CONTEXT.request_id
    assert record["hosts"] == [["h1", "h1"], ["h2", "h2"]]
    assert (record["selected_host"], record["selected_node"]) == ("h1", "h1")
    compute_filter = next(f for f in record["filters"] if f["name"] == "ComputeFilter")
    assert compute_filter["verdicts"] == [{"host": "h2", "node": "h2", "passed": False,
                                           "reason": "service disabled: no reason given"}]
    assert record["weights"][0]["host"] == "h1"


def test_filter_results_name_the_filter_that_removed_the_last_host(scheduler, caplog):
    caplog.set_level(logging.INFO, logger="mininova.scheduler.filter_scheduler")
    use_hosts(scheduler, [make_host("h1"), make_host("h2"), make_host("h3")])
    with pytest.raises(exception.NoValidHost):
        scheduler.select_destinations(CONTEXT, spec("uuid-1", availability_zone="az9"))
    assert caplog.messages[-1] == (
        "Filtering removed all hosts for the request with instance ID 'uuid-1'. "
        "Filter results: ['RetryFilter: (start: 3, end: 3)', "
        "'AvailabilityZoneFilter: (start: 3, end: 0)']")


def test_selection_names_host_node_and_carries_the_filters_limits(scheduler):
    use_hosts(scheduler, [make_host("h1")])
    [selection] = scheduler.select_destinations(CONTEXT, spec("uuid-1"))
    assert selection["host"] == "h1"
    assert selection["nodename"] == "h1"
    assert selection["limits"] == {"memory_mb": 4096 * 1.5, "disk_gb": 40.0}


def test_host_with_most_free_ram_is_chosen_and_the_others_are_alternates(scheduler):
    use_hosts(scheduler, [make_host("h1", 1024), make_host("h2", 4096), make_host("h3", 2048)])
    [selection] = scheduler.select_destinations(CONTEXT, spec("uuid-1"))
    assert selection["host"] == "h2"
    assert selection["alternates"] == [["h3", "h3"], ["h1", "h1"]]


def test_alternates_are_at_most_max_attempts_minus_one(scheduler, conf):
    conf.set_override("max_attempts", 2, "scheduler")
    use_hosts(scheduler, [make_host("h1"), make_host("h2"), make_host("h3")])
    [selection] = scheduler.select_destinations(CONTEXT, spec("uuid-1"))
    assert len(selection["alternates"]) == 1


def test_two_instances_spread_over_two_equal_hosts(scheduler):
    use_hosts(scheduler, [make_host("h1"), make_host("h2")])
    selections = scheduler.select_destinations(CONTEXT, spec("uuid-1", "uuid-2"))
    assert sorted(s["host"] for s in selections) == ["h1", "h2"]


def test_negative_ram_multiplier_stacks_two_instances_on_one_host(scheduler, conf):
    conf.set_override("ram_weight_multiplier", -1.0, "filter_scheduler")
    use_hosts(scheduler, [make_host("h1"), make_host("h2")])
    selections = scheduler.select_destinations(CONTEXT, spec("uuid-1", "uuid-2"))
    assert selections[0]["host"] == selections[1]["host"]


def test_the_chosen_host_state_is_consumed(scheduler):
    hosts = [make_host("h1")]
    use_hosts(scheduler, hosts)
    scheduler.select_destinations(CONTEXT, spec("uuid-1", "uuid-2"))
    assert hosts[0].free_ram_mb == 4096 - 2 * 1024
    assert hosts[0].num_instances == 2


def test_one_instance_that_does_not_fit_fails_the_whole_request(scheduler):
    # 4096 × 1.5 − 0 used = 6144 MB usable: room for 6 instances of 1024 MB.
    use_hosts(scheduler, [make_host("h1")])
    with pytest.raises(exception.NoValidHost):
        scheduler.select_destinations(CONTEXT, spec(*[f"uuid-{i}" for i in range(7)]))


def test_second_instance_never_lands_on_a_disabled_host(scheduler):
    use_hosts(scheduler, [make_host("h1"), make_host("h2", disabled=True)])
    selections = scheduler.select_destinations(CONTEXT, spec("uuid-1", "uuid-2"))
    assert [s["host"] for s in selections] == ["h1", "h1"]


def test_second_instance_stays_in_the_requested_zone(scheduler):
    use_hosts(scheduler, [make_host("h1", zone="az1"), make_host("h2", zone="az2")])
    selections = scheduler.select_destinations(
        CONTEXT, spec("uuid-1", "uuid-2", availability_zone="az1"))
    assert [s["host"] for s in selections] == ["h1", "h1"]
