"""GET /servers/<id>/os-instance-actions[/<request_id>]: a server's trail of
requests and the events each went through, as Nova shows them. (What each
microversion changes is in test_microversions_instance_actions.py; these
ask 2.51 where a non-admin reads events, 2.1 otherwise.)"""

import re

import pytest

from tests.functional import helpers
from tests.functional.helpers import make_client_like, server_action

NANO = "42"
ACTION_KEYS = {"action", "instance_uuid", "request_id", "user_id", "project_id",
               "start_time", "message"}
EVENT_KEYS = {"event", "start_time", "finish_time", "result", "traceback"}
BUILD_EVENT = "compute__do_build_and_run_instance"
PERFECT_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}")


# Events for their owner, and a deleted server's actions: 2.51 (and 2.21).
EVENTS_VERSION = "2.51"


def get(client, path, version=None):
    headers = {"OpenStack-API-Version": f"compute {version}"} if version else {}
    response = client.session.get(f"{client.compute_url}{path}", timeout=client.timeout,
                                  headers=headers)
    return response.status_code, response.json()


def list_actions(client, server_id, version=None):
    status, body = get(client, f"/servers/{server_id}/os-instance-actions", version)
    assert status == 200, body
    return body["instanceActions"]


def show_action(client, server_id, request_id, version=EVENTS_VERSION):
    status, body = get(client, f"/servers/{server_id}/os-instance-actions/{request_id}",
                       version)
    assert status == 200, body
    return body["instanceAction"]


def settled_action(client, server_id, request_id):
    """The action once it has events and all have a result: the API records
    the action before the compute starts its event, and the server's status
    changes a moment before the event is closed."""
    def settled(action):
        return action["events"] and all(e["result"] for e in action["events"])
    return helpers.wait_until(lambda: show_action(client, server_id, request_id), settled,
                              helpers.TIMEOUT, what=f"events of {request_id} finished")


@pytest.fixture
def booted(demo, image):
    """demo's ACTIVE server and the request id of its POST /servers."""
    response = demo.session.post(f"{demo.compute_url}/servers", json={
        "server": {"name": "vm1", "imageRef": image["id"], "flavorRef": NANO}})
    assert response.status_code == 202, response.text
    server = helpers.wait_for_status(demo, response.json()["server"]["id"], "ACTIVE")
    return server, response.headers["x-compute-request-id"]


def test_the_create_action_of_a_new_server(demo, booted):
    server, request_id = booted
    [action] = list_actions(demo, server["id"])
    assert set(action) == ACTION_KEYS
    assert action["action"] == "create"
    assert action["instance_uuid"] == server["id"]
    assert action["request_id"] == request_id
    assert (action["user_id"], action["project_id"]) == ("demo", "demo")
    assert PERFECT_TIME.fullmatch(action["start_time"])
    assert action["message"] is None


def test_an_action_shows_its_events_without_traceback_for_its_owner(demo, booted):
    server, request_id = booted
    action = settled_action(demo, server["id"], request_id)
    assert set(action) == ACTION_KEYS | {"events"}
    [event] = action["events"]
    assert set(event) == EVENT_KEYS - {"traceback"}
    assert (event["event"], event["result"]) == (BUILD_EVENT, "Success")
    # Nova's format for these: microseconds, no zone ("2018-04-25T01:26:30.798227").
    assert PERFECT_TIME.fullmatch(event["start_time"])
    assert PERFECT_TIME.fullmatch(event["finish_time"])
    assert event["start_time"] <= event["finish_time"]


def test_an_admin_sees_the_events_traceback(admin, booted):
    server, request_id = booted
    [event] = settled_action(admin, server["id"], request_id)["events"]
    assert set(event) == EVENT_KEYS
    assert event["traceback"] is None


def test_a_failed_events_traceback_is_for_admins_only(admin, demo, booted, cloud,
                                                      monkeypatch):
    server, _request_id = booted

    def broken(instance):
        raise RuntimeError("the hypervisor said no")
    monkeypatch.setattr(cloud.computes["host1"].manager.driver, "pause", broken)
    response = server_action(demo, server["id"], {"pause": None})
    assert response.status_code == 202, response.text
    request_id = response.headers["x-compute-request-id"]
    [event] = settled_action(admin, server["id"], request_id)["events"]
    assert (event["event"], event["result"]) == ("compute_pause_instance", "Error")
    assert "RuntimeError: the hypervisor said no" in event["traceback"]

    action = show_action(demo, server["id"], request_id)
    assert action["message"] == "Error"
    [event] = action["events"]
    assert event["result"] == "Error"
    assert "traceback" not in event


def test_actions_are_listed_newest_first(demo, booted):
    server, _request_id = booted
    response = server_action(demo, server["id"], {"os-stop": None})
    assert response.status_code == 202, response.text
    actions = list_actions(demo, server["id"])
    assert [a["action"] for a in actions] == ["stop", "create"]
    assert actions[0]["request_id"] == response.headers["x-compute-request-id"]


def test_a_deleted_servers_actions_can_still_be_read(demo, booted):
    server, request_id = booted
    demo.delete_server(server["id"])
    helpers.wait_for_gone(demo, server["id"])
    assert [a["action"] for a in list_actions(demo, server["id"], EVENTS_VERSION)] == [
        "delete", "create"]
    [event] = show_action(demo, server["id"], request_id)["events"]
    assert event["event"] == BUILD_EVENT


def test_an_unknown_request_id_is_a_404(demo, booted):
    server, _request_id = booted
    status, body = get(demo, f"/servers/{server['id']}/os-instance-actions/req-nope")
    assert status == 404
    assert body == {"itemNotFound": {"code": 404, "message": "Action req-nope not found"}}


def test_another_request_of_another_server_is_a_404(demo, booted, image):
    server, request_id = booted
    other = demo.create_server("vm2", image["id"], NANO)
    status, body = get(demo, f"/servers/{other['id']}/os-instance-actions/{request_id}")
    assert status == 404
    assert body["itemNotFound"]["message"] == f"Action {request_id} not found"


def test_an_unknown_server_is_a_404(demo):
    status, body = get(demo, "/servers/no-such-server/os-instance-actions")
    assert status == 404
    assert body["itemNotFound"]["message"] == "Instance no-such-server could not be found."


def test_another_projects_server_is_a_404_even_once_deleted(demo, booted):
    server, request_id = booted
    other = make_client_like(demo, "alice:other")
    for path in (f"/servers/{server['id']}/os-instance-actions",
                 f"/servers/{server['id']}/os-instance-actions/{request_id}"):
        status, body = get(other, path)
        assert status == 404
        assert body["itemNotFound"]["message"] == (
            f"Instance {server['id']} could not be found.")
    demo.delete_server(server["id"])
    helpers.wait_for_gone(demo, server["id"])
    status, _body = get(other, f"/servers/{server['id']}/os-instance-actions")
    assert status == 404


def test_an_admin_reads_any_projects_server(admin, booted):
    server, request_id = booted
    assert [a["request_id"] for a in list_actions(admin, server["id"])] == [request_id]
