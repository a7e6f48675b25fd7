"""GET /servers/<id>/os-scheduler-explain: the scheduler's recorded decisions."""

import uuid

import pytest

from mininova import context
from mininova.db import api as db
from mininova.db import scheduling as scheduling_db
from tests.functional import helpers


def call(client, method, path, body=None):
    response = client.session.request(method, f"{client.compute_url}{path}", json=body,
                                      timeout=client.timeout)
    return response.status_code, (response.json() if response.content else None)


def explain(client, server_id):
    status, body = call(client, "GET", f"/servers/{server_id}/os-scheduler-explain")
    assert status == 200, body
    return body["attempts"]


RAM_FAILED = {"name": "RamFilter", "start": 3, "end": 1, "verdicts": [
    {"host": "h1", "node": "h1", "passed": False, "reason": "free RAM 320 MB < 512 MB"},
    {"host": "h3", "node": "h3", "passed": False, "reason": "free RAM 100 MB < 512 MB"}]}
WEIGHTS = [{"host": "h2", "node": "h2", "weight": 1.0, "parts": {"RAMWeigher": [2048, 1.0]}}]


def record(instance_uuid, attempt, selected=None, filters=(RAM_FAILED,), weights=WEIGHTS):
    scheduling_db.scheduling_decision_create(context.get_admin_context(), {
        "instance_uuid": instance_uuid, "request_id": f"req-attempt-{attempt}",
        "attempt": attempt, "hosts": [["h1", "h1"], ["h2", "h2"], ["h3", "h3"]],
        "filters": list(filters), "weights": weights,
        "selected_host": selected, "selected_node": selected})


@pytest.fixture
def server(demo, image):
    server = demo.create_server("vm", image["id"], "42")
    return helpers.wait_for_status(demo, server["id"], "ACTIVE")


def test_recorded_attempts_in_order(demo, server):
    record(server["id"], 2, selected=None, weights=[])
    record(server["id"], 1, selected="h2")
    attempts = explain(demo, server["id"])
    # The real boot's decision comes first (attempt 1 too), then the ones written here.
    mine = [a for a in attempts if a["request_id"].startswith("req-attempt-")]
    assert [a["attempt"] for a in mine] == [1, 2]
    first, second = mine
    assert first == {"attempt": 1, "request_id": "req-attempt-1",
                     "created_at": first["created_at"],
                     "hosts": [{"host": "h1", "node": "h1"}, {"host": "h2", "node": "h2"},
                               {"host": "h3", "node": "h3"}],
                     "filters": [RAM_FAILED], "weights": WEIGHTS,
                     "selected": {"host": "h2", "node": "h2"}}
    assert first["created_at"].endswith("Z")
    assert second["selected"] is None
    assert second["weights"] == []


def test_the_schedulers_own_record_of_a_boot(demo, server):
    [attempt] = explain(demo, server["id"])
    assert attempt["attempt"] == 1
    assert attempt["request_id"].startswith("req-")
    assert attempt["hosts"] == [{"host": "host1", "node": "host1"}]
    assert attempt["selected"] == {"host": "host1", "node": "host1"}
    assert [w["host"] for w in attempt["weights"]] == ["host1"]
    assert all(f["verdicts"] == [] for f in attempt["filters"])
    assert "RamFilter" in [f["name"] for f in attempt["filters"]]


def test_a_server_that_found_no_host_says_why(admin, image):
    server = admin.create_server("big", image["id"], "5")
    helpers.wait_for_status(admin, server["id"], "ERROR")
    [attempt] = explain(admin, server["id"])
    assert attempt["selected"] is None
    assert attempt["weights"] == []
    [removed] = [f for f in attempt["filters"] if f["verdicts"]]
    assert removed["end"] == 0
    assert removed["verdicts"][0]["host"] == "host1"
    assert removed["verdicts"][0]["passed"] is False
    assert removed["verdicts"][0]["reason"]


def test_a_server_the_scheduler_never_saw_has_no_attempts(demo):
    # A row as the API writes it before the conductor asks the scheduler.
    instance = db.instance_create(context.get_admin_context(), {
        "uuid": str(uuid.uuid4()), "display_name": "waiting", "project_id": "demo",
        "user_id": "demo", "flavor": {"flavorid": "42"}, "vm_state": "building",
        "task_state": "scheduling"})
    assert explain(demo, instance["uuid"]) == []


def test_an_unknown_server_is_404(demo):
    status, body = call(demo, "GET", "/servers/00000000-0000-0000-0000-000000000000"
                                     "/os-scheduler-explain")
    assert status == 404
    assert body["itemNotFound"]["message"] == (
        "Instance 00000000-0000-0000-0000-000000000000 could not be found.")


def test_another_project_gets_404_and_an_admin_sees_it(admin, demo, server):
    other = helpers.make_client_like(demo, "alice:other")
    status, body = call(other, "GET", f"/servers/{server['id']}/os-scheduler-explain")
    assert status == 404
    assert body["itemNotFound"]["message"] == f"Instance {server['id']} could not be found."
    assert explain(admin, server["id"]) == explain(demo, server["id"])
