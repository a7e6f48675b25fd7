"""The ``mininova`` lifecycle commands against the in-process cloud: what
novaclient prints for each, the errors of an action in the wrong state, and
``--poll`` printing the states a server goes through; then the snapshot
form of ``image-create`` and the instance action commands."""

import pytest

from mininova.conf import CONF
from tests.functional import helpers
from tests.functional.helpers import table_rows

NANO, MICRO = "42", "84"


def boot(admin, image, name):
    created = admin.create_server(name, image["id"], NANO)
    return helpers.wait_for_status(admin, created["id"], "ACTIVE")


@pytest.fixture
def vm1(admin, image):
    return boot(admin, image, "vm1")


def progress(out, server):
    """The ``--poll`` lines of one server: its statuses, in order."""
    prefix = f"Server {server['name']} {server['id']}: "
    return [line[len(prefix):] for line in out.splitlines() if line.startswith(prefix)]


def properties(out):
    return dict(row for row in table_rows(out)[1:])


# --- stop, start, reboot: several servers, novaclient's messages -----------------------

def test_stop_and_start_several_servers(mininova, admin, image, vm1):
    vm2 = boot(admin, image, "vm2")
    code, out, err = mininova("stop", "vm1", vm2["id"])
    assert (code, err) == (0, "")
    assert out.splitlines() == ["Request to stop server vm1 has been accepted.",
                                f"Request to stop server {vm2['id']} has been accepted."]
    for server in (vm1, vm2):
        helpers.wait_for_settled(admin, server["id"], "SHUTOFF")

    code, out, _err = mininova("start", "vm1", "vm2")
    assert code == 0
    assert out.splitlines() == ["Request to start server vm1 has been accepted.",
                                "Request to start server vm2 has been accepted."]
    helpers.wait_for_settled(admin, vm1["id"], "ACTIVE")


def test_stop_and_start_with_poll_wait_for_the_end_state(mininova, vm1):
    code, out, err = mininova("stop", "--poll", "vm1")
    assert (code, err) == (0, "")
    assert progress(out, vm1)[-1] == "SHUTOFF"
    code, out, _err = mininova("start", "--poll", "vm1")
    assert code == 0
    assert progress(out, vm1)[-1] == "ACTIVE"


def test_a_refused_action_is_reported_and_the_others_still_run(mininova, admin, image, vm1):
    vm2 = boot(admin, image, "vm2")
    mininova("stop", "vm1")
    helpers.wait_for_settled(admin, vm1["id"], "SHUTOFF")
    code, out, err = mininova("stop", "vm1", "ghost", "vm2")
    assert code == 1
    assert out.splitlines() == ["Request to stop server vm2 has been accepted."]
    lines = err.splitlines()
    assert lines[0].startswith(f"Cannot 'stop' instance {vm1['id']} while it is in "
                               f"vm_state stopped (HTTP 409) (Request-ID: req-")
    assert lines[1].startswith("No server with a name or ID of 'ghost' exists.")
    assert lines[2] == "ERROR (CommandError): Unable to stop the specified server(s)."
    helpers.wait_for_settled(admin, vm2["id"], "SHUTOFF")


def test_reboot_hard_with_poll(mininova, vm1):
    code, out, err = mininova("reboot", "--hard", "--poll", "vm1")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (
        f"Request to reboot server vm1 ({vm1['id']}) has been accepted.")
    states = progress(out, vm1)
    assert states[0] == "HARD_REBOOT (rebooting_hard)"
    assert states[-1] == "ACTIVE"


def test_reboot_of_an_unknown_server_reboots_none(mininova, admin, vm1):
    code, _out, err = mininova("reboot", "vm1", "ghost")
    assert code == 1
    assert "No server with a name or ID of 'ghost' exists." in err
    assert [a["action"] for a in admin.list_instance_actions(vm1["id"])] == ["create"]


# --- pause, unpause, suspend, resume: what was requested -------------------------------

@pytest.mark.parametrize("command, status", [
    ("pause", "PAUSED"), ("unpause", "ACTIVE"), ("suspend", "SUSPENDED"), ("resume", "ACTIVE"),
])
def test_pause_unpause_suspend_resume_in_turn(mininova, admin, vm1, command, status):
    # Each case starts from an ACTIVE vm1: bring it to where the command applies.
    before = {"unpause": "pause", "resume": "suspend"}.get(command)
    if before:
        assert mininova(before, "vm1")[0] == 0
        helpers.wait_for_settled(admin, vm1["id"], {"pause": "PAUSED"}.get(before, "SUSPENDED"))
    assert mininova(command, "vm1") == (
        0, f"Request to {command} server vm1 has been accepted.\n", "")
    helpers.wait_for_settled(admin, vm1["id"], status)


def test_pause_of_a_paused_server_is_a_conflict(mininova, admin, vm1):
    mininova("pause", "vm1")
    helpers.wait_for_settled(admin, vm1["id"], "PAUSED")
    code, out, err = mininova("pause", "vm1")
    assert (code, out) == (1, "")
    assert f"Cannot 'pause' instance {vm1['id']} while it is in vm_state paused" in err
    assert err.endswith("ERROR (CommandError): Unable to pause the specified server(s).\n")


# --- resize, migrate, rebuild -----------------------------------------------------------

def test_resize_poll_then_confirm(mininova, admin, vm1):
    CONF.set_override("allow_resize_to_same_host", True)
    code, out, _err = mininova("resize", "--poll", "vm1", "m1.micro")
    assert code == 0
    states = progress(out, vm1)
    assert states[0].startswith("RESIZE (")
    assert states[-1] == "VERIFY_RESIZE"
    code, out, _err = mininova("resize-confirm", "--poll", "vm1")
    assert code == 0
    assert progress(out, vm1)[-1] == "ACTIVE"
    assert admin.get_server(vm1["id"])["flavor"]["id"] == MICRO


def test_resize_poll_that_finds_no_host_says_so_and_fails(mininova, admin, vm1):
    """One host and allow_resize_to_same_host off: the server stays ACTIVE,
    which for a resize is a failure, and the reason comes from its action."""
    code, out, err = mininova("resize", "--poll", "vm1", "m1.micro")
    assert code == 1
    assert progress(out, vm1)[-1] == "ACTIVE"
    assert err.startswith("ERROR: the resize of server vm1 failed: NoValidHost: "
                          "No valid host was found."), err


def test_a_failed_action_seen_by_a_non_admin_says_where_to_look(mininova, admin, image,
                                                                 monkeypatch):
    monkeypatch.setenv("MININOVA_TOKEN", "demo:demo")
    code, _out, _err = mininova("boot", "--image", image["id"], "--flavor", "m1.nano",
                                "--wait", "mine")
    assert code == 0
    code, _out, err = mininova("resize", "--poll", "mine", "m1.micro")
    assert code == 1
    assert "conductor_migrate_server: Error (the reason is shown to administrators: " \
           "mininova instance-action " in err


def test_migrate_poll_with_one_host_fails(mininova, vm1):
    code, _out, err = mininova("migrate", "--poll", "vm1")
    assert code == 1
    assert "the migration of server vm1 failed: NoValidHost" in err


def test_resize_revert(mininova, admin, vm1):
    CONF.set_override("allow_resize_to_same_host", True)
    assert mininova("resize", "vm1", "m1.micro") == (0, "", "")
    helpers.wait_for_settled(admin, vm1["id"], "VERIFY_RESIZE")
    assert mininova("resize-revert", "vm1") == (0, "", "")
    assert helpers.wait_for_settled(admin, vm1["id"], "ACTIVE")["flavor"]["id"] == NANO


def test_resize_confirm_of_an_active_server_is_a_conflict(mininova, vm1):
    code, _out, err = mininova("resize-confirm", "vm1")
    assert code == 1
    assert err.startswith(f"ERROR (Conflict): Cannot 'confirmResize' instance {vm1['id']} "
                          f"while it is in vm_state active")


@pytest.mark.hosts("host1", "host2")
def test_migrate_poll_moves_the_server(mininova, admin, vm1):
    code, out, _err = mininova("migrate", "--poll", "vm1")
    assert code == 0
    assert progress(out, vm1)[-1] == "VERIFY_RESIZE"
    moved = admin.get_server(vm1["id"])
    assert moved["OS-EXT-SRV-ATTR:host"] != vm1["OS-EXT-SRV-ATTR:host"]


def test_rebuild_prints_the_server(mininova, admin, vm1, tmp_path):
    path = tmp_path / "other.raw"
    path.write_bytes(b"\1" * 1024 * 1024)
    other = admin.create_image("other", str(path), "raw")
    code, out, _err = mininova("rebuild", "--name", "renamed", "--meta", "role=web",
                               "vm1", "other")
    assert code == 0
    shown = properties(out)
    assert (shown["id"], shown["name"], shown["status"]) == (vm1["id"], "renamed", "REBUILD")
    assert shown["image"] == other["id"]
    rebuilt = helpers.wait_for_settled(admin, vm1["id"], "ACTIVE")
    assert rebuilt["metadata"] == {"role": "web"}


def test_rebuild_poll_prints_the_states_then_the_server(mininova, vm1):
    code, out, _err = mininova("rebuild", "--poll", "vm1", "tiny")
    assert code == 0
    states = progress(out, vm1)
    assert states[0].startswith("REBUILD")
    assert states[-1] == "ACTIVE"
    assert properties(out)["status"] == "ACTIVE"


# --- image-create: a snapshot of a server ---------------------------------------------

def test_image_create_of_a_server_prints_nothing(mininova, admin, vm1):
    assert mininova("image-create", "vm1", "snap") == (0, "", "")
    [snapshot] = [i for i in admin.list_images() if i["name"] == "snap"]
    assert snapshot["instance_uuid"] == vm1["id"]
    helpers.wait_until(lambda: admin.get_image(snapshot["id"])["status"],
                       lambda status: status == "active", helpers.TIMEOUT)
    helpers.wait_for_settled(admin, vm1["id"], "ACTIVE")


def test_image_create_poll_show_with_metadata(mininova, admin, vm1):
    code, out, err = mininova("image-create", "--poll", "--show", "--metadata", "purpose=test",
                              "vm1", "snap")
    assert (code, err) == (0, "")
    image_lines = [line for line in out.splitlines() if line.startswith("Image snap ")]
    assert image_lines[-1].endswith(": active")
    # Then the server, once its snapshot task is over.
    assert progress(out, vm1)[-1] == "ACTIVE"
    shown = properties(out)
    assert (shown["name"], shown["status"], shown["purpose"]) == ("snap", "active", "test")
    assert shown["image_type"] == "snapshot"
    assert admin.get_server(vm1["id"])["OS-EXT-STS:task_state"] is None


def test_image_create_needs_a_server_or_a_file(mininova):
    with pytest.raises(SystemExit, match="give <server> <name> to snapshot a server"):
        mininova("image-create", "snap")
    with pytest.raises(SystemExit, match="an upload takes --file, --disk-format"):
        mininova("image-create", "--file", "disk.raw", "snap")


# --- instance-action-list, instance-action -------------------------------------------------

def test_instance_action_list_oldest_first(mininova, admin, vm1):
    mininova("stop", "vm1")
    helpers.wait_for_settled(admin, vm1["id"], "SHUTOFF")
    code, out, _err = mininova("instance-action-list", "vm1")
    assert code == 0
    rows = table_rows(out)
    assert rows[0] == ["Action", "Request_ID", "Message", "Start_Time"]
    assert [row[0] for row in rows[1:]] == ["create", "stop"]
    assert all(row[1].startswith("req-") and row[2] == "-" for row in rows[1:])


def test_instance_action_shows_its_events(mininova, admin, vm1):
    [create] = admin.list_instance_actions(vm1["id"])
    # The server is ACTIVE a moment before its build event is closed.
    helpers.wait_until(lambda: admin.get_instance_action(vm1["id"], create["request_id"]),
                       lambda action: action["events"][0]["result"], helpers.TIMEOUT)
    code, out, _err = mininova("instance-action", "vm1", create["request_id"])
    assert code == 0
    assert table_rows(out)[0] == ["Property", "Value"]
    assert "| events        | [{'event': 'compute__do_build_and_run_instance'," in out
    shown = properties(out)
    assert (shown["action"], shown["request_id"]) == ("create", create["request_id"])
    assert shown["message"] == "-"
    assert "'result': 'Success'" in out


def test_instance_actions_of_a_deleted_server_by_id(mininova, admin, vm1):
    mininova("delete", "vm1")
    helpers.wait_for_gone(admin, vm1["id"])
    code, out, _err = mininova("instance-action-list", vm1["id"])
    assert code == 0
    assert [row[0] for row in table_rows(out)[1:]] == ["create", "delete"]
    code, _out, err = mininova("instance-action-list", "vm1")
    assert code == 1
    assert "Instance vm1 could not be found." in err


def test_instance_action_of_an_unknown_request(mininova, vm1):
    code, _out, err = mininova("instance-action", "vm1", "req-nope")
    assert code == 1
    assert err.startswith("ERROR (NotFound): Action req-nope not found (HTTP 404)")


# --- lock, update, tags: later microversions the command asks for ------------------------

def test_lock_with_a_reason_and_unlock(mininova, admin, vm1):
    assert mininova("lock", "--reason", "maintenance", "vm1") == (0, "", "")
    shown = helpers.api(admin, "GET", f"/servers/{vm1['id']}", "2.73").json()["server"]
    assert (shown["locked"], shown["locked_reason"]) == (True, "maintenance")
    assert mininova("unlock", "vm1") == (0, "", "")
    assert helpers.api(admin, "GET", f"/servers/{vm1['id']}", "2.9").json()["server"][
        "locked"] is False


def test_update_renames_and_describes(mininova, admin, vm1):
    assert mininova("update", "--name", "web", "--description", "the web server",
                    "vm1") == (0, "", "")
    shown = helpers.api(admin, "GET", f"/servers/{vm1['id']}", "2.19").json()["server"]
    assert (shown["name"], shown["description"]) == ("web", "the web server")


def test_server_tags(mininova, vm1):
    assert mininova("server-tag-add", "vm1", "web", "prod") == (0, "", "")
    code, out, _err = mininova("server-tag-list", "vm1")
    assert table_rows(out) == [["Tag"], ["prod"], ["web"]]
    assert mininova("server-tag-delete", "vm1", "prod")[0] == 0
    assert mininova("server-tag-set", "vm1", "a", "b")[0] == 0
    assert table_rows(mininova("server-tag-list", "vm1")[1]) == [["Tag"], ["a"], ["b"]]
    assert mininova("server-tag-delete-all", "vm1")[0] == 0
    assert table_rows(mininova("server-tag-list", "vm1")[1]) == [["Tag"]]
    code, _out, err = mininova("server-tag-delete", "vm1", "gone")
    assert code == 1 and "has no tag 'gone'" in err
