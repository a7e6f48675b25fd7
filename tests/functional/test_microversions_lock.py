"""Locking a server: the lock and unlock actions, Nova's 409 for a
non-admin's action on a locked server, who may unlock, ``locked`` (2.9),
``locked_reason`` (2.73) and the ``locked`` filter (2.73)."""

import pytest

from tests.functional import helpers
from tests.functional.helpers import api

NANO = "42"


@pytest.fixture
def server(demo, image):
    created = demo.create_server("vm1", image["id"], NANO)
    return helpers.wait_for_status(demo, created["id"], "ACTIVE")


def act(client, server, body, version=None):
    return api(client, "POST", f"/servers/{server['id']}/action", version, json=body)


def shown(client, server, version="2.73"):
    return api(client, "GET", f"/servers/{server['id']}", version).json()["server"]


def test_a_locked_server_refuses_its_owners_actions(demo, server):
    assert act(demo, server, {"lock": None}).status_code == 202
    assert shown(demo, server, "2.9")["locked"] is True
    for body in ({"os-stop": None}, {"reboot": {"type": "HARD"}}, {"pause": None},
                 {"resize": {"flavorRef": "84"}}, {"rebuild": {"imageRef": "x"}}):
        response = act(demo, server, body)
        assert response.status_code == 409, body
        assert response.json()["conflictingRequest"]["message"] == (
            f"Instance {server['id']} is locked")
    response = api(demo, "DELETE", f"/servers/{server['id']}")
    assert (response.status_code, response.json()["conflictingRequest"]["message"]) == (
        409, f"Instance {server['id']} is locked")
    # Reading and taking a snapshot are not refused.
    assert act(demo, server, {"os-getConsoleOutput": {}}).status_code == 200
    assert act(demo, server, {"unlock": None}).status_code == 202
    assert shown(demo, server, "2.9")["locked"] is False
    assert act(demo, server, {"os-stop": None}).status_code == 202


def test_an_admin_acts_on_a_locked_server(admin, demo, server):
    act(demo, server, {"lock": None})
    assert act(admin, server, {"os-stop": None}).status_code == 202
    helpers.wait_for_settled(admin, server["id"], "SHUTOFF")


def test_2_73_a_reason(demo, server):
    response = act(demo, server, {"lock": {"locked_reason": "maintenance"}}, "2.72")
    # Before 2.73 the body of lock is not looked at.
    assert response.status_code == 202
    assert shown(demo, server)["locked_reason"] is None
    act(demo, server, {"unlock": None})
    assert act(demo, server, {"lock": {"locked_reason": "maintenance"}}, "2.73").status_code == 202
    body = shown(demo, server)
    assert (body["locked"], body["locked_reason"]) == (True, "maintenance")
    act(demo, server, {"unlock": None})
    assert shown(demo, server)["locked_reason"] is None
    response = act(demo, server, {"lock": {"reason": "x"}}, "2.73")
    assert response.status_code == 400
    assert "'reason' was unexpected" in response.json()["badRequest"]["message"]
    response = act(demo, server, {"lock": {"locked_reason": ""}}, "2.73")
    assert response.status_code == 400


def test_an_admins_lock_is_for_an_admin_to_lift(admin, demo, server):
    assert act(admin, server, {"lock": None}).status_code == 202
    response = act(demo, server, {"unlock": None})
    assert (response.status_code, response.json()["forbidden"]["message"]) == (
        403, "Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be "
        "performed.")
    assert act(admin, server, {"unlock": None}).status_code == 202


def test_readers_may_not_lock(demo, server):
    reader = helpers.make_client_like(demo, "reader:demo")
    reader.session.headers["X-Roles"] = "reader"
    response = act(reader, server, {"lock": None})
    assert response.json()["forbidden"]["message"] == (
        "Policy doesn't allow os_compute_api:os-lock-server:lock to be performed.")
    other = helpers.make_client_like(demo, "alice:other")
    assert act(other, server, {"lock": None}).status_code == 404


def test_lock_and_unlock_are_instance_actions(admin, demo, server):
    act(demo, server, {"lock": None})
    act(demo, server, {"unlock": None})
    actions = demo.list_instance_actions(server["id"])
    assert [a["action"] for a in actions][:2] == ["unlock", "lock"]
    events = demo.get_instance_action(server["id"], actions[1]["request_id"])["events"]
    assert [(e["event"], e["result"]) for e in events] == [("api_lock", "Success")]


def test_2_73_the_locked_filter(demo, image, server):
    other = demo.create_server("vm2", image["id"], NANO)
    helpers.wait_for_status(demo, other["id"], "ACTIVE")
    act(demo, server, {"lock": None})

    def names(version, locked):
        response = api(demo, "GET", "/servers", version, params={"locked": locked})
        return sorted(s["name"] for s in response.json()["servers"])

    assert names("2.72", "true") == ["vm1", "vm2"]
    assert names("2.73", "true") == ["vm1"]
    assert names("2.73", "False") == ["vm2"]
    response = api(demo, "GET", "/servers", "2.73", params={"locked": "maybe"})
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"].startswith(
        "Invalid input received: Unrecognized value 'maybe'")
