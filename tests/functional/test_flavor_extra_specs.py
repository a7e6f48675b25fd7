"""/flavors/<id>/os-extra_specs: anyone reads, an admin writes."""

import pytest


def call(client, method, path, body=None):
    response = client.session.request(method, f"{client.compute_url}{path}", json=body,
                                      timeout=client.timeout)
    return response.status_code, (response.json() if response.content else None)


SPECS = "/flavors/42/os-extra_specs"


def test_set_read_update_delete(admin, demo):
    assert call(demo, "GET", SPECS) == (200, {"extra_specs": {}})

    status, body = call(admin, "POST", SPECS, {"extra_specs": {
        "capabilities:cpu_arch": "x86_64", "hw:numa_nodes": 2}})
    assert status == 200
    # Numbers are stored, and answered, as strings.
    assert body == {"extra_specs": {"capabilities:cpu_arch": "x86_64", "hw:numa_nodes": "2"}}
    assert call(demo, "GET", SPECS) == (200, body)
    assert call(demo, "GET", f"{SPECS}/hw:numa_nodes") == (200, {"hw:numa_nodes": "2"})

    status, body = call(admin, "PUT", f"{SPECS}/hw:numa_nodes", {"hw:numa_nodes": "1"})
    assert (status, body) == (200, {"hw:numa_nodes": "1"})
    # POST adds to what is there.
    call(admin, "POST", SPECS, {"extra_specs": {"quota:cpu_shares": "512"}})
    assert call(demo, "GET", SPECS)[1]["extra_specs"] == {
        "capabilities:cpu_arch": "x86_64", "hw:numa_nodes": "1", "quota:cpu_shares": "512"}

    assert call(admin, "DELETE", f"{SPECS}/hw:numa_nodes") == (200, None)
    status, body = call(demo, "GET", f"{SPECS}/hw:numa_nodes")
    assert status == 404
    assert body["itemNotFound"]["message"] == (
        "Flavor 42 has no extra specs with key hw:numa_nodes.")
    status, body = call(admin, "DELETE", f"{SPECS}/hw:numa_nodes")
    assert status == 404


def test_the_flavor_itself_is_unchanged(admin):
    before = call(admin, "GET", "/flavors/42")[1]
    call(admin, "POST", SPECS, {"extra_specs": {"capabilities:cpu_arch": "x86_64"}})
    assert call(admin, "GET", "/flavors/42")[1] == before
    assert "extra_specs" not in before["flavor"]


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/flavors/999/os-extra_specs", None),
    ("POST", "/flavors/999/os-extra_specs", {"extra_specs": {"a": "b"}}),
    ("GET", "/flavors/999/os-extra_specs/a", None),
    ("PUT", "/flavors/999/os-extra_specs/a", {"a": "b"}),
    ("DELETE", "/flavors/999/os-extra_specs/a", None),
])
def test_unknown_flavor_is_404_naming_it(admin, method, path, body):
    status, answer = call(admin, method, path, body)
    assert status == 404
    assert answer["itemNotFound"]["message"] == "Flavor 999 could not be found."


def test_put_must_name_the_key_of_the_url(admin):
    status, body = call(admin, "PUT", f"{SPECS}/a", {"b": "1"})
    assert (status, body["badRequest"]["message"]) == (400, "Request body and URI mismatch")
    status, body = call(admin, "PUT", f"{SPECS}/a", {"a": "1", "b": "2"})
    assert status == 400
    assert call(admin, "GET", SPECS)[1] == {"extra_specs": {}}


@pytest.mark.parametrize("specs, named", [
    ({"a/b": "1"}, "extra_specs"),
    ({"k" * 256: "1"}, "extra_specs"),
    ({"key": "v" * 256}, "field/attribute key."),
    ({"key": {"nested": "no"}}, "field/attribute key."),
    ({"key": True}, "field/attribute key."),
])
def test_bad_specs_are_400(admin, specs, named):
    status, body = call(admin, "POST", SPECS, {"extra_specs": specs})
    assert status == 400
    assert named in body["badRequest"]["message"]
    assert call(admin, "GET", SPECS)[1] == {"extra_specs": {}}


@pytest.mark.parametrize("method, path, body, action", [
    ("POST", SPECS, {"extra_specs": {"a": "b"}}, "create"),
    ("PUT", f"{SPECS}/a", {"a": "c"}, "update"),
    ("DELETE", f"{SPECS}/a", None, "delete"),
])
def test_only_admins_write(admin, demo, method, path, body, action):
    call(admin, "POST", SPECS, {"extra_specs": {"a": "b"}})
    status, answer = call(demo, method, path, body)
    assert status == 403
    assert answer["forbidden"]["message"] == (
        f"Policy doesn't allow os_compute_api:os-flavor-extra-specs:{action} to be performed.")
    assert call(admin, "GET", SPECS)[1] == {"extra_specs": {"a": "b"}}
