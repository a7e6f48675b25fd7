"""os-services enable / disable / disable-log-reason / delete (admin only)."""

import pytest

from mininova import context
from mininova.db import scheduling as scheduling_db
from mininova.db import services as services_db
from tests.functional import helpers


def call(client, method, path, body=None):
    response = client.session.request(method, f"{client.compute_url}{path}", json=body,
                                      timeout=client.timeout)
    return response.status_code, (response.json() if response.content else None)


def compute_service(admin, host="host1"):
    [service] = [s for s in admin.list_services()
                 if s["binary"] == "mininova-compute" and s["host"] == host]
    return service


def test_disable_with_a_reason_then_enable(admin):
    status, body = call(admin, "PUT", "/os-services/disable-log-reason",
                        {"host": "host1", "binary": "mininova-compute",
                         "disabled_reason": "new RAM on Tuesday"})
    assert status == 200
    assert body == {"service": {"host": "host1", "binary": "mininova-compute",
                                "status": "disabled", "disabled_reason": "new RAM on Tuesday"}}
    service = compute_service(admin)
    assert (service["status"], service["disabled_reason"]) == ("disabled", "new RAM on Tuesday")
    assert admin.list_hypervisors()[0]["status"] == "disabled"

    status, body = call(admin, "PUT", "/os-services/enable",
                        {"host": "host1", "binary": "mininova-compute"})
    assert status == 200
    assert body == {"service": {"host": "host1", "binary": "mininova-compute",
                                "status": "enabled"}}
    service = compute_service(admin)
    assert (service["status"], service["disabled_reason"]) == ("enabled", None)


def test_disable_without_a_reason(admin):
    status, body = call(admin, "PUT", "/os-services/disable",
                        {"host": "host1", "binary": "mininova-compute"})
    assert status == 200
    assert body == {"service": {"host": "host1", "binary": "mininova-compute",
                                "status": "disabled"}}
    assert compute_service(admin)["status"] == "disabled"


def test_a_disabled_host_gets_no_new_servers(admin, image):
    admin.disable_service("host1", "mininova-compute", "maintenance")
    server = admin.create_server("vm", image["id"], "42")
    server = helpers.wait_for_status(admin, server["id"], "ERROR")
    assert server["fault"]["message"].startswith("No valid host was found.")


def test_unknown_host_is_404_naming_it(admin):
    body = {"host": "nohost", "binary": "mininova-compute"}
    status, answer = call(admin, "PUT", "/os-services/disable", body)
    assert status == 404
    assert answer["itemNotFound"]["message"] == (
        "Could not find binary mininova-compute on host nohost.")


@pytest.mark.parametrize("binary", ["mininova-scheduler", "mininova-nothing"])
def test_only_compute_services_are_updated(admin, binary):
    status, answer = call(admin, "PUT", "/os-services/disable",
                          {"host": "host1", "binary": binary})
    assert status == 400
    assert answer["badRequest"]["message"] == (
        f"Updating a {binary} service is not supported. Only mininova-compute services "
        "can be updated.")


def test_bad_bodies_and_actions(admin):
    status, body = call(admin, "PUT", "/os-services/disable-log-reason",
                        {"host": "host1", "binary": "mininova-compute"})
    assert (status, body["badRequest"]["message"]) == (400, "Missing disabled reason field")
    status, body = call(admin, "PUT", "/os-services/disable-log-reason",
                        {"host": "host1", "binary": "mininova-compute",
                         "disabled_reason": "x" * 256})
    assert status == 400
    assert body["badRequest"]["message"].startswith(
        "Invalid input for field/attribute disabled_reason.")
    status, body = call(admin, "PUT", "/os-services/disable", {"host": "host1"})
    assert status == 400
    assert "'binary' is a required property" in body["badRequest"]["message"]
    status, body = call(admin, "PUT", "/os-services/reboot",
                        {"host": "host1", "binary": "mininova-compute"})
    assert (status, body["itemNotFound"]["message"]) == (404, "Unknown action")
    assert compute_service(admin)["status"] == "enabled"


def test_delete_a_compute_service_that_is_gone(admin, cloud):
    cloud.start_compute("host2")
    status, body = call(admin, "POST", "/os-aggregates", {"aggregate": {"name": "rack2"}})
    aggregate_id = body["aggregate"]["id"]
    call(admin, "POST", f"/os-aggregates/{aggregate_id}/action", {"add_host": {"host": "host2"}})
    cloud.computes["host2"].stop()
    service = compute_service(admin, "host2")

    status, body = call(admin, "DELETE", f"/os-services/{service['id']}")
    assert (status, body) == (204, None)
    assert "host2" not in {s["host"] for s in admin.list_services()}
    assert [h["hypervisor_hostname"] for h in admin.list_hypervisors()] == ["host1"]
    ctx = context.get_admin_context()
    assert scheduling_db.aggregate_get(ctx, aggregate_id)["hosts"] == []

    status, body = call(admin, "DELETE", f"/os-services/{service['id']}")
    assert status == 404
    assert body["itemNotFound"]["message"] == f"Service {service['id']} not found."


def test_a_compute_service_with_servers_is_not_deleted(admin, image):
    server = admin.create_server("vm", image["id"], "42")
    helpers.wait_for_status(admin, server["id"], "ACTIVE")
    service = compute_service(admin)
    status, body = call(admin, "DELETE", f"/os-services/{service['id']}")
    assert status == 409
    assert body["conflictingRequest"]["message"] == (
        "Unable to delete compute service that is hosting instances. Migrate or delete "
        "the instances first.")
    assert services_db.service_get(context.get_admin_context(), service["id"])["host"] == "host1"


def test_unknown_service_id_is_404_and_a_bad_one_400(admin):
    status, body = call(admin, "DELETE", "/os-services/999")
    assert status == 404
    assert body["itemNotFound"]["message"] == "Service 999 not found."
    status, body = call(admin, "DELETE", "/os-services/nope")
    assert status == 400
    assert body["badRequest"]["message"] == "Invalid input received: id must be an integer"


@pytest.mark.parametrize("method, path, body, action", [
    ("PUT", "/os-services/enable", {"host": "host1", "binary": "mininova-compute"}, "update"),
    ("PUT", "/os-services/disable", {"host": "host1", "binary": "mininova-compute"}, "update"),
    ("PUT", "/os-services/disable-log-reason",
     {"host": "host1", "binary": "mininova-compute", "disabled_reason": "x"}, "update"),
    ("DELETE", "/os-services/1", None, "delete"),
])
def test_non_admins_get_403(admin, demo, method, path, body, action):
    status, answer = call(demo, method, path, body)
    assert status == 403
    assert answer["forbidden"]["message"] == (
        f"Policy doesn't allow os_compute_api:os-services:{action} to be performed.")
    assert {s["status"] for s in admin.list_services()} == {"enabled"}
    assert len(admin.list_services()) == 3
