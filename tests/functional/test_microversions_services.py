"""os-services and os-hypervisors across their microversions: forced_down
(2.11), uuids and PUT /os-services/<uuid> (2.53); hypervisors' cpu_info
object (2.28), paging (2.33), uuids and query parameters (2.53), servers
always listed (2.75)."""

import uuid

import pytest

from tests.functional import helpers
from tests.functional.helpers import api

NANO = "42"


def services(client, version, **params):
    response = api(client, "GET", "/os-services", version, params=params)
    assert response.status_code == 200, response.text
    return response.json()["services"]


def compute(client, version):
    [service] = services(client, version, binary="mininova-compute")
    return service


# --- os-services ---------------------------------------------------------------------

def test_2_11_forced_down_is_shown(admin):
    assert "forced_down" not in compute(admin, "2.10")
    assert compute(admin, "2.11")["forced_down"] is False


def test_2_11_force_down_and_back(admin):
    body = {"host": "host1", "binary": "mininova-compute", "forced_down": True}
    # Before 2.11 the body may not say forced_down, and there is no such action.
    assert api(admin, "PUT", "/os-services/force-down", "2.10", json=body).status_code == 400
    response = api(admin, "PUT", "/os-services/force-down", "2.10",
                   json={"host": "host1", "binary": "mininova-compute"})
    assert (response.status_code, response.json()["itemNotFound"]["message"]) == (
        404, "Unknown action")
    response = api(admin, "PUT", "/os-services/force-down", "2.11", json=body)
    assert (response.status_code, response.json()) == (200, {"service": {
        "host": "host1", "binary": "mininova-compute", "forced_down": True}})
    service = compute(admin, "2.11")
    assert (service["forced_down"], service["state"]) == (True, "down")
    api(admin, "PUT", "/os-services/force-down", "2.11", json=dict(body, forced_down=False))
    assert compute(admin, "2.11")["state"] == "up"
    response = api(admin, "PUT", "/os-services/force-down", "2.11",
                   json={"host": "host1", "binary": "mininova-compute"})
    assert (response.status_code, response.json()["badRequest"]["message"]) == (
        400, "Missing forced_down field")


def test_2_53_ids_are_uuids(admin):
    assert isinstance(compute(admin, "2.52")["id"], int)
    service_id = compute(admin, "2.53")["id"]
    assert uuid.UUID(service_id)
    assert {type(s["id"]) for s in services(admin, "2.53")} == {str}


def test_2_53_update_by_uuid(admin):
    service_id = compute(admin, "2.53")["id"]
    path = f"/os-services/{service_id}"
    response = api(admin, "PUT", path, "2.53",
                   json={"status": "disabled", "disabled_reason": "new disks"})
    assert response.status_code == 200, response.text
    answer = response.json()["service"]
    assert answer == dict(compute(admin, "2.53"), status="disabled",
                          disabled_reason="new disks", updated_at=answer["updated_at"])
    answer = api(admin, "PUT", path, "2.53", json={"forced_down": True}).json()["service"]
    assert (answer["forced_down"], answer["state"], answer["status"]) == (True, "down",
                                                                          "disabled")
    answer = api(admin, "PUT", path, "2.53",
                 json={"status": "enabled", "forced_down": False}).json()["service"]
    assert (answer["status"], answer["disabled_reason"], answer["forced_down"]) == (
        "enabled", None, False)


@pytest.mark.parametrize("path, body, code, message", [
    ("/os-services/{id}", {}, 400,
     "No updates were requested. Fields 'status' or 'forced_down' should be specified."),
    ("/os-services/{id}", {"status": "enabled", "disabled_reason": "x"}, 400,
     "Specifying 'disabled_reason' with status 'enabled' is invalid."),
    ("/os-services/disable", {"status": "disabled"}, 400, "Invalid uuid disable"),
    # A fixed unknown uuid, not uuid4(): the test ids must be the same in
    # every pytest-xdist worker, which each collect the tests.
    ("/os-services/dbebedb5-3b60-4a4a-ba47-2240b602e1f1", {"status": "disabled"}, 404, None),
    ("/os-services/{scheduler}", {"status": "disabled"}, 400,
     "Updating a mininova-scheduler service is not supported. Only mininova-compute "
     "services can be updated."),
])
def test_2_53_update_errors(admin, path, body, code, message):
    ids = {s["binary"]: s["id"] for s in services(admin, "2.53")}
    path = path.format(id=ids["mininova-compute"], scheduler=ids["mininova-scheduler"])
    response = api(admin, "PUT", path, "2.53", json=body)
    assert response.status_code == code
    if message:
        assert list(response.json().values())[0]["message"] == message


def test_2_53_the_old_routes_are_gone(admin):
    response = api(admin, "PUT", "/os-services/disable", "2.53",
                   json={"host": "host1", "binary": "mininova-compute"})
    assert response.status_code == 400


@pytest.mark.hosts("host1", "host2")
def test_2_53_delete_by_uuid(admin, cloud):
    cloud.computes["host2"].stop()
    [gone] = [s for s in services(admin, "2.53") if s["host"] == "host2"]
    response = api(admin, "DELETE", "/os-services/1", "2.53")
    assert (response.status_code, response.json()["badRequest"]["message"]) == (
        400, "Invalid uuid 1")
    assert api(admin, "DELETE", f"/os-services/{gone['id']}", "2.53").status_code == 204
    assert "host2" not in {s["host"] for s in services(admin, "2.53")}


def test_2_75_an_unknown_list_parameter_is_a_400(admin):
    assert len(services(admin, "2.74", colour="blue")) == 3
    response = api(admin, "GET", "/os-services", "2.75", params={"colour": "blue"})
    assert response.status_code == 400


# --- os-hypervisors ------------------------------------------------------------------

def hypervisors(client, version, path="/os-hypervisors/detail", **params):
    response = api(client, "GET", path, version, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_2_28_cpu_info_is_an_object(admin):
    [before] = hypervisors(admin, "2.27")["hypervisors"]
    [after] = hypervisors(admin, "2.28")["hypervisors"]
    assert isinstance(before["cpu_info"], str)
    assert after["cpu_info"] == {"arch": "x86_64", "model": "fake", "vendor": "mininova"}


@pytest.mark.hosts("host1", "host2", "host3")
def test_2_33_paging(admin):
    every = hypervisors(admin, "2.33", "/os-hypervisors")["hypervisors"]
    assert len(hypervisors(admin, "2.32", "/os-hypervisors", limit="1")["hypervisors"]) == 3
    page = hypervisors(admin, "2.33", "/os-hypervisors", limit="2")
    assert page["hypervisors"] == every[:2]
    [link] = page["hypervisors_links"]
    assert f"marker={every[1]['id']}" in link["href"]
    rest = hypervisors(admin, "2.33", "/os-hypervisors", limit="2", marker=str(every[1]["id"]))
    assert rest["hypervisors"] == every[2:] and "hypervisors_links" not in rest
    response = api(admin, "GET", "/os-hypervisors", "2.33", params={"marker": "999"})
    assert response.json()["badRequest"]["message"] == "marker [999] not found"


@pytest.mark.hosts("host1", "host2")
def test_2_53_uuids_pattern_and_servers(admin, image):
    [old] = [h for h in hypervisors(admin, "2.52")["hypervisors"]
             if h["hypervisor_hostname"] == "host1"]
    [new] = [h for h in hypervisors(admin, "2.53")["hypervisors"]
             if h["hypervisor_hostname"] == "host1"]
    assert isinstance(old["id"], int) and uuid.UUID(new["id"])
    assert uuid.UUID(new["service"]["id"])
    assert api(admin, "GET", f"/os-hypervisors/{new['id']}", "2.53").json()[
        "hypervisor"]["hypervisor_hostname"] == "host1"
    response = api(admin, "GET", f"/os-hypervisors/{old['id']}", "2.53")
    assert (response.status_code, response.json()["badRequest"]["message"]) == (
        400, f"Invalid uuid {old['id']}")
    found = hypervisors(admin, "2.53", "/os-hypervisors", hypervisor_hostname_pattern="st2")
    assert [h["hypervisor_hostname"] for h in found["hypervisors"]] == ["host2"]
    response = api(admin, "GET", "/os-hypervisors", "2.53",
                   params={"hypervisor_hostname_pattern": "nope"})
    assert (response.status_code, response.json()["itemNotFound"]["message"]) == (
        404, "No hypervisor matching 'nope' could be found.")
    response = api(admin, "GET", "/os-hypervisors", "2.53",
                   params={"hypervisor_hostname_pattern": "host", "limit": "1"})
    assert response.json()["badRequest"]["message"] == (
        "Paging over hypervisors with the hypervisor_hostname_pattern query parameter is "
        "not supported.")

    created = admin.create_server("vm", image["id"], NANO, availability_zone=None)
    server = helpers.wait_for_status(admin, created["id"], "ACTIVE")
    listed = {h["hypervisor_hostname"]: h for h in hypervisors(
        admin, "2.53", "/os-hypervisors", with_servers="true")["hypervisors"]}
    host = server["OS-EXT-SRV-ATTR:host"]
    empty = "host2" if host == "host1" else "host1"
    assert listed[host]["servers"] == [{"name": "vm", "uuid": server["id"]}]
    assert "servers" not in listed[empty]
    assert "servers" not in hypervisors(admin, "2.53", "/os-hypervisors")["hypervisors"][0]
    response = api(admin, "GET", "/os-hypervisors", "2.53", params={"colour": "blue"})
    assert response.status_code == 400


@pytest.mark.hosts("host1", "host2")
def test_2_75_servers_even_when_none(admin):
    listed = hypervisors(admin, "2.75", "/os-hypervisors", with_servers="1")["hypervisors"]
    assert [h["servers"] for h in listed] == [[], []]
    node_id = listed[0]["id"]
    assert api(admin, "GET", f"/os-hypervisors/{node_id}", "2.75",
               params={"with_servers": "yes"}).json()["hypervisor"]["servers"] == []
