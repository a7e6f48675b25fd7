"""The scheduler's reads on a real SQLite file: the services with the
up-or-down rule applied by the database (``service_liveness_get_all``),
compute node reports with their JSON left as text, and the HostManager
that reads them: the same answers as the rule applied in Python."""

from datetime import timedelta

import pytest
from oslo_utils import timeutils

from mininova import context as mn_context
from mininova import servicegroup
from mininova.db import migration
from mininova.db import services as services_db
from mininova.scheduler import host_manager
from mininova.scheduler.filters import compute_filter


@pytest.fixture
def ctxt(conf):
    migration.db_sync()
    return mn_context.get_admin_context()


def add_service(ctxt, host, seconds_since_heartbeat=0, **values):
    service = services_db.service_create(ctxt, {"host": host, "binary": "mininova-compute",
                                                "topic": "compute", **values})
    heartbeat = timeutils.utcnow() - timedelta(seconds=seconds_since_heartbeat)
    return services_db.service_update(ctxt, service["id"], {"last_seen_up": heartbeat})


def add_node(ctxt, host, **stats):
    service = services_db.service_get_by_host_and_binary(ctxt, host, "mininova-compute")
    services_db.compute_node_update_or_create(ctxt, host, host, {
        "service_id": service["id"], "hypervisor_type": "fake", "vcpus": 4,
        "memory_mb": 8192, "local_gb": 100, "free_ram_mb": 7680, "free_disk_gb": 100,
        "ram_allocation_ratio": 1.5, "disk_allocation_ratio": 1.0,
        "cpu_allocation_ratio": 16.0, "cpu_info": {"vendor": "fake"}, "stats": stats})


def test_the_database_says_up_or_down_as_servicegroup_does(ctxt):
    add_service(ctxt, "fresh")
    add_service(ctxt, "old", seconds_since_heartbeat=600)
    add_service(ctxt, "forced", forced_down=True)
    add_service(ctxt, "disabled", disabled=True, disabled_reason="new disks")
    rows = {row["host"]: row for row in services_db.service_liveness_get_all(
        ctxt, "mininova-compute", servicegroup.up_since())}
    assert {host: row["up"] for host, row in rows.items()} == {
        "fresh": True, "old": False, "forced": False, "disabled": True}
    # The heartbeat is read for the down ones only (for their message).
    assert rows["fresh"]["last_seen_up"] is None
    assert rows["old"]["last_seen_up"] is not None
    assert rows["disabled"]["disabled_reason"] == "new disks"
    full = {s["host"]: s for s in services_db.service_get_all(ctxt, binary="mininova-compute")}
    for host, row in rows.items():
        assert servicegroup.is_up(row) == servicegroup.is_up(full[host]), host


def test_the_compute_filter_explains_a_service_read_this_way(ctxt):
    add_service(ctxt, "old", seconds_since_heartbeat=600)
    add_service(ctxt, "forced", forced_down=True)
    rows = {row["host"]: row for row in services_db.service_liveness_get_all(
        ctxt, "mininova-compute", servicegroup.up_since())}
    verdicts = {}
    for host, row in rows.items():
        state = host_manager.HostState(host, host)
        state.service = row
        verdicts[host] = compute_filter.ComputeFilter().host_passes(state, {})
    assert not verdicts["old"]
    assert verdicts["old"].reason.startswith("service down: last heartbeat 600 s ago")
    assert verdicts["forced"].reason == "service forced down"


def test_reports_read_with_their_json_as_text_are_decoded_by_the_host_state(ctxt):
    add_service(ctxt, "h1")
    add_node(ctxt, "h1", cpu_arch="x86_64")
    [row] = services_db.compute_node_get_all(ctxt, json_as_text=True)
    assert isinstance(row["stats"], str)
    state = host_manager.HostState("h1", "h1")
    state.update_from_compute_node(row)
    assert state.stats == {"cpu_arch": "x86_64"}
    assert state.cpu_info == {"vendor": "fake"}


def test_the_host_manager_sees_hosts_come_go_and_go_down(ctxt, caplog):
    caplog.set_level("INFO", logger="mininova.scheduler.host_manager")
    for host in ("h2", "h1"):
        add_service(ctxt, host)
        add_node(ctxt, host)
    manager = host_manager.HostManager()
    assert [s.host for s in manager.get_all_host_states(ctxt)] == ["h1", "h2"]
    add_service(ctxt, "h0")
    add_node(ctxt, "h0")
    states = manager.get_all_host_states(ctxt)
    assert [s.host for s in states] == ["h0", "h1", "h2"]
    assert all(s.service["up"] for s in states)
    h2 = services_db.service_get_by_host_and_binary(ctxt, "h2", "mininova-compute")
    services_db.service_update(ctxt, h2["id"], {
        "last_seen_up": timeutils.utcnow() - timedelta(seconds=600)})
    h1 = services_db.service_get_by_host_and_binary(ctxt, "h1", "mininova-compute")
    services_db.service_destroy(ctxt, h1["id"])
    states = manager.get_all_host_states(ctxt)
    assert [(s.host, s.service["up"]) for s in states] == [("h0", True), ("h2", False)]
    assert "Removing dead compute node h1:h1 from scheduler" in caplog.text
