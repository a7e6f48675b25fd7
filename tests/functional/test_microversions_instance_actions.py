"""os-instance-actions across its microversions: a deleted server's trail
(2.21), events for non-admins (2.51), updated_at, paging and changes-since
(2.58), the events' host and hostId (2.62), changes-before (2.66)."""

import datetime

import pytest

from tests.functional import helpers
from tests.functional.helpers import api

NANO = "42"


@pytest.fixture
def server(demo, image):
    created = demo.create_server("vm1", image["id"], NANO)
    return helpers.wait_for_status(demo, created["id"], "ACTIVE")


def actions(client, server, version, **params):
    response = api(client, "GET", f"/servers/{server['id']}/os-instance-actions", version,
                   params=params)
    assert response.status_code == 200, response.text
    return response.json()


def action(client, server, request_id, version):
    response = api(client, "GET",
                   f"/servers/{server['id']}/os-instance-actions/{request_id}", version)
    assert response.status_code == 200, response.text
    return response.json()["instanceAction"]


def create_request_id(client, server):
    return actions(client, server, None)["instanceActions"][-1]["request_id"]


def settled(client, server, request_id, version):
    return helpers.wait_until(lambda: action(client, server, request_id, version),
                              lambda a: a.get("events") and all(e["result"]
                                                                for e in a["events"]),
                              what="the events")


def test_2_21_a_deleted_servers_trail(demo, server):
    demo.delete_server(server["id"])
    helpers.wait_for_gone(demo, server["id"])
    path = f"/servers/{server['id']}/os-instance-actions"
    response = api(demo, "GET", path, "2.20")
    assert (response.status_code, response.json()["itemNotFound"]["message"]) == (
        404, f"Instance {server['id']} could not be found.")
    assert [a["action"] for a in actions(demo, server, "2.21")["instanceActions"]] == [
        "delete", "create"]


def test_2_51_events_for_the_owner(admin, demo, server):
    request_id = create_request_id(demo, server)
    settled(admin, server, request_id, "2.1")
    assert "events" not in action(demo, server, request_id, "2.50")
    [event] = action(demo, server, request_id, "2.51")["events"]
    assert "traceback" not in event
    # The admin sees the events, tracebacks included, at every version.
    [event] = action(admin, server, request_id, "2.1")["events"]
    assert "traceback" in event


def test_2_58_updated_at_and_paging(demo, server):
    for body in ({"os-stop": None}, {"os-start": None}):
        demo.session.post(f"{demo.compute_url}/servers/{server['id']}/action", json=body)
        helpers.wait_until(lambda: demo.get_server(server["id"])["OS-EXT-STS:task_state"],
                           lambda task: task is None, what="the action's end")
    every = actions(demo, server, "2.58")["instanceActions"]
    assert [a["action"] for a in every] == ["start", "stop", "create"]
    assert all(a["updated_at"] for a in every)
    assert "updated_at" not in actions(demo, server, "2.57")["instanceActions"][0]
    page = actions(demo, server, "2.58", limit="2")
    assert [a["action"] for a in page["instanceActions"]] == ["start", "stop"]
    [link] = page["links"]
    assert f"marker={every[1]['request_id']}" in link["href"]
    rest = actions(demo, server, "2.58", limit="2", marker=every[1]["request_id"])
    assert [a["action"] for a in rest["instanceActions"]] == ["create"]
    assert "links" not in rest
    response = api(demo, "GET", f"/servers/{server['id']}/os-instance-actions", "2.58",
                   params={"marker": "req-nope"})
    assert (response.status_code, response.json()["badRequest"]["message"]) == (
        400, "Marker req-nope could not be found.")
    # Before 2.58 paging parameters mean nothing; from 2.58 unknown ones are refused.
    assert len(actions(demo, server, "2.57", limit="1")["instanceActions"]) == 3
    response = api(demo, "GET", f"/servers/{server['id']}/os-instance-actions", "2.58",
                   params={"colour": "blue"})
    assert response.status_code == 400


def test_2_58_changes_since_and_2_66_changes_before(demo, server):
    later = (datetime.datetime.now(datetime.timezone.utc)
             + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert actions(demo, server, "2.58", **{"changes-since": later})["instanceActions"] == []
    assert len(actions(demo, server, "2.58",
                       **{"changes-since": "2000-01-01T00:00:00Z"})["instanceActions"]) == 1
    response = api(demo, "GET", f"/servers/{server['id']}/os-instance-actions", "2.65",
                   params={"changes-before": later})
    assert response.status_code == 400
    assert len(actions(demo, server, "2.66", **{"changes-before": later})[
        "instanceActions"]) == 1
    assert actions(demo, server, "2.66", **{"changes-before": "2000-01-01T00:00:00Z"})[
        "instanceActions"] == []
    response = api(demo, "GET", f"/servers/{server['id']}/os-instance-actions", "2.66",
                   params={"changes-since": later, "changes-before": "2000-01-01T00:00:00Z"})
    assert response.json()["badRequest"]["message"] == (
        "The value of changes-since must be less than or equal to changes-before.")


def test_2_62_host_and_host_id(admin, demo, server):
    request_id = create_request_id(demo, server)
    settled(admin, server, request_id, "2.62")
    [before] = action(admin, server, request_id, "2.61")["events"]
    assert "host" not in before and "hostId" not in before
    [for_admin] = action(admin, server, request_id, "2.62")["events"]
    [for_owner] = action(demo, server, request_id, "2.62")["events"]
    assert for_admin["host"] == "host1"
    assert "host" not in for_owner
    # The same opaque id as the server's own hostId.
    assert for_owner["hostId"] == for_admin["hostId"] == demo.get_server(server["id"])["hostId"]
