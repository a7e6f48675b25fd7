"""The filter scheduler with several fake compute hosts in one process:
weighing, retries, zones, capabilities, image properties, disabled and dead
services, custom filters, and the recorded explanation of each decision."""

import subprocess
import sys

import pytest

from mininova import context, exception
from mininova.conf import CONF
from mininova.db import instance_actions as actions_db
from mininova.db import scheduling as scheduling_db
from mininova.db import services as services_db
from tests.functional import helpers

THREE_HOSTS = pytest.mark.hosts("host1", "host2", "host3")


def set_memory(cloud, memory_by_host):
    """Give each fake hypervisor its RAM and let it report it."""
    ctxt = context.get_admin_context()
    for host, memory_mb in memory_by_host.items():
        manager = cloud.computes[host].manager
        manager.driver.memory_mb = memory_mb
        manager.update_available_resource(ctxt)


def boot(client, image, name="vm", flavor="1", **extra):
    server = client.create_server(name, image["id"], flavor, **extra)
    return helpers.wait_for_status(client, server["id"], "ACTIVE")


def host_of(server):
    return server["OS-EXT-SRV-ATTR:host"]


@THREE_HOSTS
def test_the_host_with_most_free_ram_wins(admin, image, cloud):
    set_memory(cloud, {"host1": 4096, "host2": 16384, "host3": 8192})
    assert host_of(boot(admin, image)) == "host2"


@THREE_HOSTS
def test_ram_weigher_spreads_several_servers(admin, image, cloud):
    for index in range(3):
        boot(admin, image, f"vm{index}")
    hosts = sorted(host_of(s) for s in admin.list_servers())
    assert hosts == ["host1", "host2", "host3"]


@THREE_HOSTS
def test_negative_ram_multiplier_stacks(admin, image, cloud):
    CONF.set_override("ram_weight_multiplier", -1.0, "filter_scheduler")
    set_memory(cloud, {"host1": 8192, "host2": 6144, "host3": 8192})
    for index in range(3):
        # m1.nano: no disk, so the DiskWeigher (which spreads) sees no difference.
        boot(admin, image, f"vm{index}", flavor="42")
    assert {host_of(s) for s in admin.list_servers()} == {"host2"}


def break_spawn(monkeypatch, cloud, *hosts):
    for host in hosts:
        def broken(context, instance, image_meta, block_device_info=None, network_info=None,
                   host=host):
            raise RuntimeError(f"spawn failed on {host}")
        monkeypatch.setattr(cloud.computes[host].manager.driver, "spawn", broken)


@THREE_HOSTS
def test_two_failing_hosts_then_the_third_one_builds_it(admin, image, cloud, monkeypatch):
    set_memory(cloud, {"host1": 16384, "host2": 12288, "host3": 8192})
    break_spawn(monkeypatch, cloud, "host1", "host2")
    server = boot(admin, image)
    assert host_of(server) == "host3"
    ctxt = context.get_admin_context()
    [action] = actions_db.actions_get(ctxt, server["id"])
    # The server is ACTIVE a moment before its build event is closed.
    events = helpers.wait_until(lambda: actions_db.action_events_get(ctxt, action["id"]),
                                lambda events: all(e["result"] for e in events))
    assert [(e["host"], e["result"]) for e in events] == [
        ("host1", "Error"), ("host2", "Error"), ("host3", "Success")]
    decisions = scheduling_db.scheduling_decisions_get(ctxt, server["id"])
    assert [(d["attempt"], d["selected_host"]) for d in decisions] == [
        (1, "host1"), (2, "host2"), (3, "host3")]
    retry = next(f for f in decisions[2]["filters"] if f["name"] == "RetryFilter")
    assert [v["host"] for v in retry["verdicts"]] == ["host1", "host2"]
    # The claims on the failed hosts were given back.
    used = {h["hypervisor_hostname"]: h["memory_mb_used"]
            for h in admin.list_hypervisors(detailed=True)}
    assert used == {"host1": 512, "host2": 512, "host3": 512 + 512}


@THREE_HOSTS
def test_exceeding_max_attempts_is_an_error_naming_the_last_failure(admin, image, cloud,
                                                                    monkeypatch):
    set_memory(cloud, {"host1": 16384, "host2": 12288, "host3": 8192})
    break_spawn(monkeypatch, cloud, "host1", "host2", "host3")
    server = admin.create_server("doomed", image["id"], "1")
    server = helpers.wait_for_status(admin, server["id"], "ERROR")
    assert server["fault"]["message"] == (
        "Exceeded maximum number of retries. Exceeded max scheduling attempts 3 for "
        f"instance {server['id']}. Last exception: RuntimeError: spawn failed on host3")


@pytest.mark.hosts("host1", "host2")
@pytest.mark.parametrize("error", [
    exception.ProcessExecutionFailed(cmd="qemu-img", reason="No space left on device"),
    exception.ImageDownloadFailed(image_id="x", reason="Connection refused"),
], ids=["disk full", "image service unreachable"])
def test_a_failure_of_one_host_is_rescheduled(admin, image, cloud, error):
    set_memory(cloud, {"host1": 16384, "host2": 8192})
    cloud.computes["host1"].manager.driver.fail_next("spawn", error)
    assert host_of(boot(admin, image)) == "host2"


@pytest.mark.hosts("host1", "host2")
@pytest.mark.parametrize("error", [
    exception.ImageUnacceptable(image_id="x", reason="qcow2 image has a backing file"),
    exception.ImageDataInvalid(image_id="x", reason="checksum mismatch"),
], ids=["refused format", "corrupt data"])
def test_a_failure_every_host_would_repeat_is_not_rescheduled(admin, image, cloud, error):
    set_memory(cloud, {"host1": 16384, "host2": 8192})
    cloud.computes["host1"].manager.driver.fail_next("spawn", error)
    server = admin.create_server("vm", image["id"], "1")
    failed = helpers.wait_for_status(admin, server["id"], "ERROR")
    assert failed["fault"]["message"].startswith(f"Build of instance {server['id']} aborted")
    decisions = scheduling_db.scheduling_decisions_get(context.get_admin_context(),
                                                       server["id"])
    assert [d["selected_host"] for d in decisions] == ["host1"]


@pytest.mark.hosts("host1", "host2")
def test_a_failed_claim_is_rescheduled(admin, image, cloud):
    set_memory(cloud, {"host1": 16384, "host2": 8192})
    # host1's own numbers say it is full; the scheduler's (older) view does not.
    cloud.computes["host1"].manager.rt.compute_node["memory_mb_used"] = 16384 * 2
    server = boot(admin, image)
    assert host_of(server) == "host2"
    decisions = scheduling_db.scheduling_decisions_get(context.get_admin_context(),
                                                       server["id"])
    assert [d["selected_host"] for d in decisions] == ["host1", "host2"]


@THREE_HOSTS
def test_availability_zone_from_an_aggregate(admin, image, cloud):
    ctxt = context.get_admin_context()
    aggregate = scheduling_db.aggregate_create(ctxt, "rack-a", availability_zone="az1")
    scheduling_db.aggregate_host_add(ctxt, aggregate["id"], "host3")
    server = boot(admin, image, availability_zone="az1")
    assert host_of(server) == "host3"
    assert server["OS-EXT-AZ:availability_zone"] == "az1"
    other = boot(admin, image, name="other", availability_zone="nova")
    assert host_of(other) in ("host1", "host2")
    assert other["OS-EXT-AZ:availability_zone"] == "nova"
    zones = {s["host"]: s["zone"] for s in admin.list_services()
             if s["binary"] == "mininova-compute"}
    assert zones == {"host1": "nova", "host2": "nova", "host3": "az1"}


def test_unknown_availability_zone_is_400_naming_it(admin, image):
    response = admin.session.post(f"{admin.compute_url}/servers", json={"server": {
        "name": "vm", "imageRef": image["id"], "flavorRef": "42",
        "availability_zone": "atlantis"}})
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"] == (
        "The requested availability zone atlantis is not available")


@THREE_HOSTS
def test_flavor_capabilities_pick_the_matching_host(admin, image, cloud):
    cloud.computes["host2"].manager.driver.cpu_arch = "aarch64"
    set_memory(cloud, {"host1": 16384, "host2": 4096, "host3": 16384})
    scheduling_db.flavor_extra_specs_update(context.get_admin_context(), "1",
                                            {"capabilities:cpu_arch": "aarch64"})
    assert host_of(boot(admin, image)) == "host2"


@THREE_HOSTS
def test_image_architecture_picks_the_matching_host(admin, cloud, tmp_path):
    cloud.computes["host3"].manager.driver.cpu_arch = "aarch64"
    set_memory(cloud, {"host1": 16384, "host2": 16384, "host3": 4096})
    path = tmp_path / "arm.raw"
    path.write_bytes(b"\0" * 1024)
    image = admin.create_image("arm", str(path), "raw",
                               properties={"hw_architecture": "aarch64"})
    assert host_of(boot(admin, image)) == "host3"


@pytest.mark.hosts("host1", "host2")
def test_disabled_and_dead_services_get_nothing_and_say_why(admin, image, cloud):
    ctxt = context.get_admin_context()
    host1 = services_db.service_get_by_host_and_binary(ctxt, "host1", "mininova-compute")
    services_db.service_update(ctxt, host1["id"],
                               {"disabled": True, "disabled_reason": "maintenance"})
    host2 = services_db.service_get_by_host_and_binary(ctxt, "host2", "mininova-compute")
    cloud.computes["host2"].stop()
    services_db.service_update(ctxt, host2["id"], {"last_seen_up": "2020-01-01T00:00:00"})
    server = admin.create_server("vm", image["id"], "1")
    server = helpers.wait_for_status(admin, server["id"], "ERROR")
    message = server["fault"]["message"]
    assert message.startswith("No valid host was found. There are not enough hosts "
                              "available. ComputeFilter: (start: 2, end: 0): ")
    assert "host1: service disabled: maintenance" in message
    assert "host2: service down: last heartbeat " in message
    assert f"> service_down_time {CONF.service_down_time} s" in server["fault"]["details"]


@pytest.mark.hosts("host1", "host2")
def test_a_custom_filter_by_import_path(image_for_custom_filter):
    admin, image = image_for_custom_filter
    for index in range(2):
        assert host_of(boot(admin, image, f"vm{index}")) == "host1"


@pytest.fixture
def image_for_custom_filter(conf, request):
    """The filter is configured before the cloud (and its scheduler) starts."""
    conf.set_override("available_filters", ["mininova.scheduler.filters.all_filters",
                                            "tests.functional.custom_filters.NotOnHost2Filter"],
                      "filter_scheduler")
    conf.set_override("enabled_filters", ["ComputeFilter", "NotOnHost2Filter"],
                      "filter_scheduler")
    return request.getfixturevalue("admin"), request.getfixturevalue("image")


def test_a_filter_path_that_does_not_import_stops_the_scheduler(tmp_path):
    config = tmp_path / "mininova.conf"
    config.write_text("[filter_scheduler]\navailable_filters = nowhere.BrokenFilter\n")
    result = subprocess.run([sys.executable, "-m", "mininova.cmd.scheduler",
                             "--config-file", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "mininova-scheduler cannot start: Cannot import 'nowhere.BrokenFilter'" in (
        result.stderr)


@THREE_HOSTS
def test_anti_affinity_within_one_request(admin, image):
    group = admin.create_server_group("apart", "anti-affinity")
    admin.create_server("web", image["id"], "42", min_count=3, max_count=3,
                        scheduler_hints={"group": group["id"]})
    servers = helpers.wait_for_all(admin, 3, "ACTIVE")
    assert sorted(host_of(s) for s in servers) == ["host1", "host2", "host3"]


@THREE_HOSTS
def test_anti_affinity_with_more_members_than_hosts_fails_the_request(admin, image):
    group = admin.create_server_group("apart", "anti-affinity")
    admin.create_server("web", image["id"], "42", min_count=4, max_count=4,
                        scheduler_hints={"group": group["id"]})
    servers = helpers.wait_for_all(admin, 4, "ERROR")
    # The 4th instance starts from the one host the 3rd could still use.
    assert "ServerGroupAntiAffinityFilter: (start: 1, end: 0)" in (
        servers[0]["fault"]["message"])


@THREE_HOSTS
def test_affinity_one_after_another_and_within_one_request(admin, image):
    group = admin.create_server_group("together", "affinity")
    hint = {"group": group["id"]}
    first = boot(admin, image, "first", flavor="42", scheduler_hints=hint)
    admin.create_server("more", image["id"], "42", min_count=2, max_count=2,
                        scheduler_hints=hint)
    servers = helpers.wait_for_all(admin, 3, "ACTIVE")
    assert {host_of(s) for s in servers} == {host_of(first)}


@pytest.mark.hosts("host1", "host2")
def test_image_hypervisor_type_picks_the_matching_host(admin, cloud, tmp_path):
    cloud.computes["host2"].manager.driver.hypervisor_type = "qemu"
    set_memory(cloud, {"host1": 16384, "host2": 4096})
    path = tmp_path / "q.raw"
    path.write_bytes(b"\0" * 1024)
    image = admin.create_image("for-qemu", str(path), "raw",
                               properties={"img_hv_type": "qemu"})
    assert host_of(boot(admin, image)) == "host2"
