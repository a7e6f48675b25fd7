"""Every server action through the whole cloud in one process (fake driver):
the states Nova goes through, the 409 of each action in a wrong state,
the instance action recorded for each, faults, the power-state sync and a
compute restart in the middle of things."""

import re
import threading

import pytest
from oslo_log import formatters

from mininova import context as mn_context
from mininova.conf import CONF
from mininova.db import api as db_api
from mininova.db import instance_actions as actions_db
from mininova.virt import driver as virt_driver
from tests.functional import helpers
from tests.functional.helpers import server_action
from tests.waiting import server_or_none

NANO, MICRO = "42", "84"


@pytest.fixture
def server(admin, image):
    created = admin.create_server("vm1", image["id"], NANO)
    return helpers.wait_for_status(admin, created["id"], "ACTIVE")


def act(client, server_id, body, status=202):
    response = server_action(client, server_id, body)
    assert response.status_code == status, response.text
    return response


def settle(client, server_id, body, status):
    """Run the action and wait for the server to reach ``status``, task done."""
    act(client, server_id, body)
    return helpers.wait_for_settled(client, server_id, status)


def power(server):
    return server["OS-EXT-STS:power_state"]


def actions(client, server_id):
    """The server's instance actions, newest first (the API's own tests are
    in test_instance_actions_api.py)."""
    return actions_db.actions_get(mn_context.get_admin_context(), server_id)


def action_events(server_id, request_id):
    ctxt = mn_context.get_admin_context()
    [action] = [a for a in actions_db.actions_get(ctxt, server_id)
                if a["request_id"] == request_id]
    return action, actions_db.action_events_get(ctxt, action["id"])


@pytest.fixture
def log_lines():
    capture = helpers.LogCapture(formatters.ContextFormatter())
    yield capture.lines
    capture.remove()


# --- the happy paths: states after each action ----------------------------------------

def test_stop_and_start(admin, server):
    stopped = settle(admin, server["id"], {"os-stop": None}, "SHUTOFF")
    assert (stopped["OS-EXT-STS:vm_state"], power(stopped)) == ("stopped", 4)
    started = settle(admin, server["id"], {"os-start": None}, "ACTIVE")
    assert (started["OS-EXT-STS:vm_state"], power(started)) == ("active", 1)


@pytest.mark.parametrize("reboot_type", ["SOFT", "HARD"])
def test_reboot(admin, server, reboot_type):
    rebooted = settle(admin, server["id"], {"reboot": {"type": reboot_type}}, "ACTIVE")
    assert power(rebooted) == 1


def test_hard_reboot_of_a_stopped_server_starts_it(admin, server):
    settle(admin, server["id"], {"os-stop": None}, "SHUTOFF")
    rebooted = settle(admin, server["id"], {"reboot": {"type": "HARD"}}, "ACTIVE")
    assert power(rebooted) == 1


def test_pause_and_unpause(admin, server):
    paused = settle(admin, server["id"], {"pause": None}, "PAUSED")
    assert (paused["OS-EXT-STS:vm_state"], power(paused)) == ("paused", 3)
    assert power(settle(admin, server["id"], {"unpause": None}, "ACTIVE")) == 1


def test_suspend_and_resume(admin, server):
    suspended = settle(admin, server["id"], {"suspend": None}, "SUSPENDED")
    assert (suspended["OS-EXT-STS:vm_state"], power(suspended)) == ("suspended", 7)
    assert power(settle(admin, server["id"], {"resume": None}, "ACTIVE")) == 1


def test_create_image_makes_a_bootable_snapshot(admin, server, image):
    response = act(admin, server["id"], {"createImage": {"name": "snap",
                                                         "metadata": {"purpose": "test"}}})
    image_id = response.headers["Location"].rsplit("/", 1)[1]
    snapshot = helpers.wait_until(lambda: admin.get_image(image_id),
                                  lambda i: i["status"] == "active", helpers.TIMEOUT,
                                  what="the snapshot image active")
    assert snapshot["name"] == "snap"
    assert snapshot["disk_format"] == "qcow2"
    assert snapshot["image_type"] == "snapshot"
    assert snapshot["instance_uuid"] == server["id"]
    assert snapshot["base_image_ref"] == image["id"]
    assert snapshot["purpose"] == "test"
    assert helpers.wait_for_settled(admin, server["id"], "ACTIVE")
    booted = admin.create_server("from-snap", image_id, NANO)
    assert helpers.wait_for_status(admin, booted["id"], "ACTIVE")["image"]["id"] == image_id


def test_snapshot_walks_through_nova_task_states(admin, server, cloud, monkeypatch):
    seen = []
    driver = cloud.computes["host1"].manager.driver
    original = driver.snapshot

    def watching(context, instance, image_id, update_task_state):
        def recording(task_state, expected_state=None):
            seen.append(task_state)
            update_task_state(task_state=task_state, expected_state=expected_state)
        return original(context, instance, image_id, recording)
    monkeypatch.setattr(driver, "snapshot", watching)
    act(admin, server["id"], {"createImage": {"name": "snap"}})
    helpers.wait_until(lambda: seen, lambda s: len(s) == 2, what="two task updates")
    assert seen == ["image_pending_upload", "image_uploading"]
    helpers.wait_for_settled(admin, server["id"], "ACTIVE")


def test_rebuild_keeps_the_server_and_changes_its_image(admin, server, tmp_path):
    path = tmp_path / "other.raw"
    path.write_bytes(b"\1" * 1024 * 1024)
    other = admin.create_image("other", str(path), "raw")
    response = act(admin, server["id"], {"rebuild": {"imageRef": other["id"],
                                                     "name": "renamed"}})
    assert response.json()["server"]["status"] == "REBUILD"
    rebuilt = helpers.wait_for_settled(admin, server["id"], "ACTIVE")
    assert rebuilt["id"] == server["id"]
    assert rebuilt["image"]["id"] == other["id"]
    assert rebuilt["name"] == "renamed"
    assert rebuilt["OS-EXT-SRV-ATTR:host"] == server["OS-EXT-SRV-ATTR:host"]


def test_rebuild_of_a_stopped_server_leaves_it_stopped(admin, server, image):
    settle(admin, server["id"], {"os-stop": None}, "SHUTOFF")
    act(admin, server["id"], {"rebuild": {"imageRef": image["id"]}})
    rebuilt = helpers.wait_for_settled(admin, server["id"], "SHUTOFF")
    assert power(rebuilt) == 4


# --- resize and migrate ------------------------------------------------------------------

def memory_used(client, host):
    [node] = [n for n in client.list_hypervisors(detailed=True)
              if n["hypervisor_hostname"] == host]
    return node["memory_mb_used"]


def test_resize_to_the_same_host_then_confirm(admin, server, cloud):
    CONF.set_override("allow_resize_to_same_host", True)
    resized = settle(admin, server["id"], {"resize": {"flavorRef": MICRO}}, "VERIFY_RESIZE")
    assert resized["OS-EXT-STS:vm_state"] == "resized"
    assert resized["flavor"]["id"] == MICRO
    # Both flavors are held until the user decides: 512 reserved + 64 + 128.
    helpers.wait_until(lambda: memory_used(admin, "host1"), lambda used: used == 704,
                       what="both flavors counted")
    act(admin, server["id"], {"confirmResize": None}, status=204)
    confirmed = helpers.wait_for_settled(admin, server["id"], "ACTIVE")
    assert confirmed["flavor"]["id"] == MICRO
    helpers.wait_until(lambda: memory_used(admin, "host1"), lambda used: used == 640,
                       what="only the new flavor counted")


def test_resize_then_revert_gives_the_old_flavor_back(admin, server):
    CONF.set_override("allow_resize_to_same_host", True)
    settle(admin, server["id"], {"resize": {"flavorRef": MICRO}}, "VERIFY_RESIZE")
    act(admin, server["id"], {"revertResize": None})
    reverted = helpers.wait_for_settled(admin, server["id"], "ACTIVE")
    assert reverted["flavor"]["id"] == NANO
    assert power(reverted) == 1
    helpers.wait_until(lambda: memory_used(admin, "host1"), lambda used: used == 576,
                       what="only the old flavor counted")


def test_resize_of_a_stopped_server_stays_stopped(admin, server):
    CONF.set_override("allow_resize_to_same_host", True)
    settle(admin, server["id"], {"os-stop": None}, "SHUTOFF")
    resized = settle(admin, server["id"], {"resize": {"flavorRef": MICRO}}, "VERIFY_RESIZE")
    assert power(resized) == 4
    act(admin, server["id"], {"confirmResize": None}, status=204)
    assert power(helpers.wait_for_settled(admin, server["id"], "SHUTOFF")) == 4


def test_a_revert_after_a_confirm_is_refused_and_changes_nothing(admin, server, cloud,
                                                                  monkeypatch):
    """The confirm is still on its way to the source (the server still shows
    VERIFY_RESIZE): a revert now has no finished migration to undo."""
    CONF.set_override("allow_resize_to_same_host", True)
    settle(admin, server["id"], {"resize": {"flavorRef": MICRO}}, "VERIFY_RESIZE")
    release = threading.Event()
    driver = cloud.computes["host1"].manager.driver
    original = driver.confirm_migration

    def held_confirm(*args, **kwargs):
        release.wait(helpers.TIMEOUT)
        return original(*args, **kwargs)
    monkeypatch.setattr(driver, "confirm_migration", held_confirm)
    act(admin, server["id"], {"confirmResize": None}, status=204)
    refused = act(admin, server["id"], {"revertResize": None}, status=400)
    assert refused.json()["badRequest"]["message"] == "Instance has not been resized."
    still = admin.get_server(server["id"])
    assert (still["status"], still["OS-EXT-STS:task_state"]) == ("VERIFY_RESIZE", None)
    assert "revertResize" not in [a["action"] for a in actions(admin, server["id"])]
    release.set()
    assert helpers.wait_for_settled(admin, server["id"], "ACTIVE")["flavor"]["id"] == MICRO


def test_resize_to_the_same_flavor_is_refused(admin, server):
    response = act(admin, server["id"], {"resize": {"flavorRef": NANO}}, status=400)
    assert response.json()["badRequest"]["message"] == (
        "When resizing, instances must change flavor!")


def test_resize_with_one_host_and_no_same_host_finds_no_host(admin, server):
    act(admin, server["id"], {"resize": {"flavorRef": MICRO}})
    back = helpers.wait_for_settled(admin, server["id"], "ACTIVE")
    assert back["flavor"]["id"] == NANO
    [latest] = actions(admin, server["id"])[:1]
    assert (latest["action"], latest["message"]) == ("resize", "Error")


@pytest.mark.hosts("host1", "host2")
def test_migrate_moves_the_server_to_the_other_host(admin, server):
    source = server["OS-EXT-SRV-ATTR:host"]
    migrated = settle(admin, server["id"], {"migrate": None}, "VERIFY_RESIZE")
    assert migrated["OS-EXT-SRV-ATTR:host"] != source
    assert migrated["flavor"]["id"] == NANO
    act(admin, server["id"], {"confirmResize": None}, status=204)
    confirmed = helpers.wait_for_settled(admin, server["id"], "ACTIVE")
    assert confirmed["OS-EXT-SRV-ATTR:host"] != source
    helpers.wait_until(lambda: memory_used(admin, source), lambda used: used == 512,
                       what="the source freed")


@pytest.mark.hosts("host1", "host2")
def test_migrate_then_revert_comes_back(admin, server, cloud):
    source = server["OS-EXT-SRV-ATTR:host"]
    settle(admin, server["id"], {"migrate": None}, "VERIFY_RESIZE")
    act(admin, server["id"], {"revertResize": None})
    reverted = helpers.wait_for_settled(admin, server["id"], "ACTIVE")
    assert reverted["OS-EXT-SRV-ATTR:host"] == source
    assert server["id"] in cloud.computes[source].manager.driver.list_instance_uuids()


def test_migrate_is_for_admins(demo, image):
    created = demo.create_server("vm1", image["id"], NANO)
    helpers.wait_for_status(demo, created["id"], "ACTIVE")
    response = act(demo, created["id"], {"migrate": None}, status=403)
    assert "Policy doesn't allow" in response.json()["forbidden"]["message"]


@pytest.mark.hosts("host1", "host2")
def test_deleting_a_resized_server_leaves_nothing_on_either_host(admin, server, cloud):
    settle(admin, server["id"], {"migrate": None}, "VERIFY_RESIZE")
    admin.delete_server(server["id"])
    helpers.wait_for_gone(admin, server["id"])
    for host in ("host1", "host2"):
        helpers.wait_until(lambda h=host: cloud.computes[h].manager.driver.list_instance_uuids(),
                           lambda uuids: uuids == [], what=f"no guest on {host}")


# --- preconditions: 409 with Nova's message -----------------------------------------------

def conflict(client, server_id, body):
    response = act(client, server_id, body, status=409)
    return response.json()["conflictingRequest"]["message"]


@pytest.mark.parametrize("body, name", [
    ({"os-start": None}, "start"),
    ({"unpause": None}, "unpause"),
    ({"resume": None}, "resume"),
    ({"confirmResize": None}, "confirmResize"),
    ({"revertResize": None}, "revertResize"),
])
def test_actions_refused_on_an_active_server(admin, server, body, name):
    assert conflict(admin, server["id"], body) == (
        f"Cannot '{name}' instance {server['id']} while it is in vm_state active")


@pytest.mark.parametrize("body, name", [
    ({"os-stop": None}, "stop"),
    ({"pause": None}, "pause"),
    ({"suspend": None}, "suspend"),
    ({"reboot": {"type": "SOFT"}}, "reboot"),
    ({"unpause": None}, "unpause"),
    ({"resume": None}, "resume"),
])
def test_actions_refused_on_a_stopped_server(admin, server, body, name):
    settle(admin, server["id"], {"os-stop": None}, "SHUTOFF")
    assert conflict(admin, server["id"], body) == (
        f"Cannot '{name}' instance {server['id']} while it is in vm_state stopped")


@pytest.mark.parametrize("body, name", [
    ({"os-stop": None}, "stop"),
    ({"os-start": None}, "start"),
    ({"pause": None}, "pause"),
    ({"suspend": None}, "suspend"),
    ({"resize": {"flavorRef": MICRO}}, "resize"),
    ({"rebuild": {"imageRef": "ignored"}}, "rebuild"),
])
def test_actions_refused_on_a_paused_server(admin, server, body, name):
    settle(admin, server["id"], {"pause": None}, "PAUSED")
    assert conflict(admin, server["id"], body) == (
        f"Cannot '{name}' instance {server['id']} while it is in vm_state paused")


@pytest.mark.parametrize("body, name", [
    ({"pause": None}, "pause"),
    ({"os-start": None}, "start"),
    ({"migrate": None}, "migrate"),
])
def test_actions_refused_on_a_suspended_server(admin, server, body, name):
    settle(admin, server["id"], {"suspend": None}, "SUSPENDED")
    assert conflict(admin, server["id"], body) == (
        f"Cannot '{name}' instance {server['id']} while it is in vm_state suspended")


@pytest.fixture
def held_stop(cloud, monkeypatch):
    """The fake hypervisor takes its time to stop guests: until released,
    a stop stays in task_state powering-off."""
    release = threading.Event()
    driver = cloud.computes["host1"].manager.driver
    original = driver.power_off

    def slow_power_off(instance, *args, **kwargs):
        release.wait(helpers.TIMEOUT)
        return original(instance, *args, **kwargs)
    monkeypatch.setattr(driver, "power_off", slow_power_off)
    yield release
    release.set()


@pytest.mark.parametrize("body, name", [
    ({"os-stop": None}, "stop"),
    ({"reboot": {"type": "SOFT"}}, "reboot"),
    ({"reboot": {"type": "HARD"}}, "reboot"),
    ({"pause": None}, "pause"),
    ({"createImage": {"name": "x"}}, "createImage"),
    ({"resize": {"flavorRef": MICRO}}, "resize"),
])
def test_actions_refused_while_a_task_is_pending(admin, server, held_stop, body, name):
    act(admin, server["id"], {"os-stop": None})
    helpers.wait_for_task(admin, server["id"], "powering-off")
    assert conflict(admin, server["id"], body) == (
        f"Cannot '{name}' instance {server['id']} while it is in task_state powering-off")
    held_stop.set()
    helpers.wait_for_settled(admin, server["id"], "SHUTOFF")


def test_a_refused_create_image_leaves_no_image(admin, server, held_stop):
    act(admin, server["id"], {"os-stop": None})
    helpers.wait_for_task(admin, server["id"], "powering-off")
    before = {i["id"] for i in admin.list_images()}
    conflict(admin, server["id"], {"createImage": {"name": "x"}})
    assert {i["id"] for i in admin.list_images()} == before
    held_stop.set()


def test_delete_is_accepted_while_a_task_is_pending(admin, server, held_stop):
    act(admin, server["id"], {"os-stop": None})
    helpers.wait_for_task(admin, server["id"], "powering-off")
    admin.delete_server(server["id"])
    held_stop.set()
    helpers.wait_for_gone(admin, server["id"])


def test_an_unknown_reboot_type_is_a_400(admin, server):
    act(admin, server["id"], {"reboot": {"type": "GENTLE"}}, status=400)


def test_another_projects_server_is_not_found(demo, server):
    act(demo, server["id"], {"os-stop": None}, status=404)


# --- instance actions and faults ------------------------------------------------------------

@pytest.mark.parametrize("body, action, event, status", [
    ({"os-stop": None}, "stop", "compute_stop_instance", "SHUTOFF"),
    ({"reboot": {"type": "HARD"}}, "reboot", "compute_reboot_instance", "ACTIVE"),
    ({"pause": None}, "pause", "compute_pause_instance", "PAUSED"),
    ({"suspend": None}, "suspend", "compute_suspend_instance", "SUSPENDED"),
])
def test_each_action_records_an_action_with_its_event(admin, server, body, action, event,
                                                      status):
    response = act(admin, server["id"], body)
    helpers.wait_for_settled(admin, server["id"], status)
    request_id = response.headers["x-compute-request-id"]
    recorded, events = action_events(server["id"], request_id)
    assert recorded["action"] == action
    assert [(e["event"], e["result"]) for e in events] == [(event, "Success")]
    assert events[0]["start_time"] <= events[0]["finish_time"]
    assert [a["action"] for a in actions(admin, server["id"])] == [action, "create"]


def test_a_failed_pause_reverts_the_task_and_records_a_fault(admin, server, cloud,
                                                             monkeypatch):
    def broken(instance):
        raise RuntimeError("the hypervisor said no")
    monkeypatch.setattr(cloud.computes["host1"].manager.driver, "pause", broken)
    response = act(admin, server["id"], {"pause": None})
    back = helpers.wait_for_settled(admin, server["id"], "ACTIVE")
    assert power(back) == 1
    _action, events = action_events(server["id"], response.headers["x-compute-request-id"])
    assert events[0]["result"] == "Error"
    assert "the hypervisor said no" in events[0]["traceback"]
    faults = db_api.instance_fault_get_latest(mn_context.get_admin_context(),
                                              [server["id"]])
    assert faults[server["id"]]["message"] == "RuntimeError"


def test_a_failed_reboot_puts_the_server_in_error_with_its_fault(admin, server, cloud,
                                                                 monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no reboot today")
    monkeypatch.setattr(cloud.computes["host1"].manager.driver, "reboot", broken)
    act(admin, server["id"], {"reboot": {"type": "HARD"}})
    failed = helpers.wait_for_settled(admin, server["id"], "ERROR")
    assert failed["fault"]["message"] == "RuntimeError"
    assert failed["fault"]["code"] == 500
    assert "no reboot today" in failed["fault"]["details"]
    # From ERROR, a hard reboot (or a stop) is the way back.
    monkeypatch.undo()
    assert power(settle(admin, server["id"], {"reboot": {"type": "HARD"}}, "ACTIVE")) == 1


@pytest.mark.parametrize("first_body, driver_method, task", [
    ({"pause": None}, "pause", "pausing"),
    ({"suspend": None}, "suspend", "suspending"),
    ({"reboot": {"type": "SOFT"}}, "reboot", "rebooting"),
])
def test_a_hard_reboot_takes_over_a_pending_action(admin, server, cloud, monkeypatch,
                                                   log_lines, first_body, driver_method,
                                                   task):
    """Nova lets a hard reboot interrupt a pause, a suspend or a soft reboot
    that hangs. The first action then finds its task_state taken: it was
    preempted, not failed, and both did their work: the server ends ACTIVE.

    The hung action ends before the hard reboot's own driver call, as a
    hard reboot ends whatever the hypervisor was doing. (Released in the
    other order, the fake domain ended suspended under an ACTIVE server,
    and the power-state sync stopped it: a flake of this test.)"""
    driver = cloud.computes["host1"].manager.driver
    original, original_reboot = getattr(driver, driver_method), driver.reboot
    release, first_done, held_once = threading.Event(), threading.Event(), []

    def held_first_call(*args, **kwargs):
        if held_once:  # the hard reboot's own reboot(), when the first was one too
            return reboot_after_first(*args, **kwargs)
        held_once.append(True)
        release.wait(helpers.TIMEOUT)
        try:
            return original(*args, **kwargs)
        finally:
            first_done.set()

    def reboot_after_first(*args, **kwargs):
        first_done.wait(helpers.TIMEOUT)
        return original_reboot(*args, **kwargs)
    monkeypatch.setattr(driver, "reboot", reboot_after_first)
    monkeypatch.setattr(driver, driver_method, held_first_call)
    act(admin, server["id"], first_body)
    helpers.wait_for_task(admin, server["id"], task)
    act(admin, server["id"], {"reboot": {"type": "HARD"}})
    helpers.wait_for_task(admin, server["id"], "rebooting_hard")
    release.set()
    settled = helpers.wait_for_settled(admin, server["id"], "ACTIVE")
    assert power(settled) == 1
    assert "fault" not in settled
    assert "Task possibly preempted" in "\n".join(log_lines())


# --- power-state sync ------------------------------------------------------------------------

def test_a_guest_that_powers_itself_off_becomes_shutoff(admin, server, cloud, log_lines):
    cloud.computes["host1"].manager.driver.guest_powers_off(server["id"])
    stopped = helpers.wait_for_settled(admin, server["id"], "SHUTOFF")
    assert power(stopped) == 4
    text = "\n".join(log_lines())
    assert "VM Stopped (Lifecycle Event)" in text
    assert "Instance shutdown by itself. Calling the stop API." in text
    assert [a["action"] for a in actions(admin, server["id"])][0] == "stop"


def test_events_during_a_task_are_skipped(admin, server, cloud, held_stop, log_lines):
    act(admin, server["id"], {"os-stop": None})
    helpers.wait_for_task(admin, server["id"], "powering-off")
    manager = cloud.computes["host1"].manager
    manager.handle_events(virt_driver.LifecycleEvent(
        server["id"], virt_driver.EVENT_LIFECYCLE_STOPPED))
    assert ("During sync_power_state the instance has a pending task (powering-off). Skip."
            in "\n".join(log_lines()))
    # One event, one request id: on its log lines and on what handling it logs.
    event_line = next(line for line in log_lines() if "VM Stopped (Lifecycle Event)" in line)
    skip_line = next(line for line in log_lines() if "pending task (powering-off)" in line)
    assert re.search(r"req-[0-9a-f-]{36}", event_line)[0] in skip_line
    held_stop.set()
    helpers.wait_for_settled(admin, server["id"], "SHUTOFF")


def test_the_periodic_sync_notices_a_guest_destroyed_behind_its_back(admin, server, cloud,
                                                                     log_lines):
    manager = cloud.computes["host1"].manager
    manager.driver.destroy_behind_back(server["id"])
    manager._sync_power_states(mn_context.get_admin_context())
    text = "\n".join(log_lines())
    assert ("While synchronizing instance power states, found 1 instances in the database "
            "and 0 instances on the hypervisor." in text)
    assert "Instance is unexpectedly not found. Ignore." in text
    assert power(admin.get_server(server["id"])) == 0


def test_the_periodic_sync_stops_a_guest_running_behind_a_shutoff(admin, server, cloud):
    settle(admin, server["id"], {"os-stop": None}, "SHUTOFF")
    manager = cloud.computes["host1"].manager
    manager.driver.power_on(None, {"uuid": server["id"]})
    manager._sync_power_states(mn_context.get_admin_context())
    stopped = helpers.wait_until(lambda: admin.get_server(server["id"]),
                                 lambda s: s["OS-EXT-STS:task_state"] is None and power(s) == 4,
                                 what="powered off again")
    assert stopped["status"] == "SHUTOFF"


# --- restarts and deletes while the compute is down ----------------------------------------------

def restart_with(cloud, server_id, **updates):
    """The database as a crash in the middle of an action left it; then the
    compute's start-up recovery."""
    db_api.instance_update(mn_context.get_admin_context(), server_id, updates)
    cloud.computes["host1"].manager.init_host()


def test_restart_retries_an_interrupted_stop(admin, server, cloud):
    restart_with(cloud, server["id"], task_state="powering-off")
    assert power(helpers.wait_for_settled(admin, server["id"], "SHUTOFF")) == 4


def test_restart_retries_an_interrupted_start(admin, server, cloud):
    settle(admin, server["id"], {"os-stop": None}, "SHUTOFF")
    restart_with(cloud, server["id"], task_state="powering-on")
    assert power(helpers.wait_for_settled(admin, server["id"], "ACTIVE")) == 1


def test_restart_turns_an_interrupted_soft_reboot_into_a_hard_one(admin, server, cloud,
                                                                   log_lines):
    restart_with(cloud, server["id"], task_state="rebooting")
    assert power(helpers.wait_for_settled(admin, server["id"], "ACTIVE")) == 1
    assert "retrying reboot request as a hard reboot" in "\n".join(log_lines())


def test_restart_clears_an_interrupted_pause_from_the_guests_state(admin, server, cloud):
    restart_with(cloud, server["id"], task_state="pausing")
    assert power(helpers.wait_for_settled(admin, server["id"], "ACTIVE")) == 1


def test_restart_mid_rebuild_puts_the_server_in_error(admin, server, cloud):
    restart_with(cloud, server["id"], task_state="rebuild_spawning")
    failed = helpers.wait_for_settled(admin, server["id"], "ERROR")
    assert "interrupted" in failed["fault"]["message"]
    assert cloud.computes["host1"].manager.driver.list_instance_uuids() == []


@pytest.mark.hosts("host1", "host2")
def test_delete_while_the_compute_is_down_is_local_and_reaped_later(admin, image, cloud,
                                                                    log_lines):
    created = admin.create_server("vm1", image["id"], NANO)
    host = helpers.wait_for_status(admin, created["id"], "ACTIVE")["OS-EXT-SRV-ATTR:host"]
    # Shortened only now: a heartbeat late by a second on a busy machine
    # would otherwise have made both hosts down for the boot itself.
    CONF.set_override("service_down_time", 1)
    compute = cloud.computes[host]
    compute.stop()
    helpers.wait_until(lambda: [s for s in admin.list_services()
                                if s["host"] == host and s["binary"] == "mininova-compute"],
                       lambda services: services[0]["state"] == "down", what="compute down")
    admin.delete_server(created["id"])
    # Gone at once: the API deleted the row itself.
    assert server_or_none(admin, created["id"]) is None
    assert created["id"] in compute.manager.driver.list_instance_uuids()
    compute.manager.init_host()
    assert compute.manager.driver.list_instance_uuids() == []
    assert any("marked as DELETED but still present on host" in line
               for line in log_lines())
    assert [a["action"] for a in actions(admin, created["id"])][0] == "delete"



def test_a_resize_to_a_smaller_disk_is_refused_and_the_server_stays_active(admin, image):
    CONF.set_override("allow_resize_to_same_host", True)
    created = admin.create_server("big", image["id"], "2")  # m1.small: 20 GB
    helpers.wait_for_status(admin, created["id"], "ACTIVE")
    act(admin, created["id"], {"resize": {"flavorRef": "1"}})  # m1.tiny: 1 GB
    back = helpers.wait_for_settled(admin, created["id"], "ACTIVE")
    assert (back["flavor"]["id"], power(back)) == ("2", 1)
    faults = db_api.instance_fault_get_latest(mn_context.get_admin_context(),
                                              [created["id"]])
    assert faults[created["id"]]["message"] == (
        "Server disk was unable to be resized because: Unable to resize disk down.")
    helpers.wait_until(lambda: memory_used(admin, "host1"), lambda used: used == 512 + 2048,
                       what="the refused move's claim dropped")
