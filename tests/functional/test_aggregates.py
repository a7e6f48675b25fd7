"""os-aggregates: Nova's v2.1 shapes and status codes, and the rules that
keep each compute host in one availability zone."""

import pytest


def call(client, method, path, body=None, version="2.41"):
    """(status, JSON body or None) of one request to the compute API, at
    2.41 (which shows the aggregates' uuid) unless told otherwise."""
    response = client.session.request(method, f"{client.compute_url}{path}", json=body,
                                      timeout=client.timeout,
                                      headers={"OpenStack-API-Version": f"compute {version}"})
    return response.status_code, (response.json() if response.content else None)


def create(client, name, zone=None):
    body = {"aggregate": {"name": name}}
    if zone is not None:
        body["aggregate"]["availability_zone"] = zone
    status, answer = call(client, "POST", "/os-aggregates", body)
    assert status == 200, answer
    return answer["aggregate"]


def act(client, aggregate_id, action, values):
    return call(client, "POST", f"/os-aggregates/{aggregate_id}/action", {action: values})


def test_create_show_list_update_delete(admin):
    created = create(admin, "fast-disks", "az1")
    # Nova's create answer has neither hosts nor metadata.
    assert set(created) == {"availability_zone", "created_at", "deleted", "deleted_at", "id",
                            "name", "updated_at", "uuid"}
    assert (created["name"], created["availability_zone"]) == ("fast-disks", "az1")
    assert (created["deleted"], created["deleted_at"]) == (False, None)
    assert created["created_at"].endswith("Z")

    status, shown = call(admin, "GET", f"/os-aggregates/{created['id']}")
    assert status == 200
    assert shown["aggregate"]["hosts"] == []
    assert shown["aggregate"]["metadata"] == {"availability_zone": "az1"}
    assert shown["aggregate"]["uuid"] == created["uuid"]

    status, listed = call(admin, "GET", "/os-aggregates")
    assert status == 200
    assert [(a["id"], a["name"]) for a in listed["aggregates"]] == [(created["id"],
                                                                    "fast-disks")]

    status, updated = call(admin, "PUT", f"/os-aggregates/{created['id']}",
                           {"aggregate": {"name": "ssd", "availability_zone": "az2"}})
    assert status == 200
    assert (updated["aggregate"]["name"], updated["aggregate"]["availability_zone"]) == (
        "ssd", "az2")

    status, body = call(admin, "GET", f"/os-aggregates/{created['id']}", version="2.40")
    assert "uuid" not in body["aggregate"]

    status, body = call(admin, "DELETE", f"/os-aggregates/{created['id']}")
    assert (status, body) == (200, None)
    status, body = call(admin, "GET", f"/os-aggregates/{created['id']}")
    assert status == 404
    assert body == {"itemNotFound": {"code": 404, "message":
                                     f"Aggregate {created['id']} could not be found."}}


def test_an_aggregate_without_a_zone(admin):
    created = create(admin, "plain")
    assert created["availability_zone"] is None
    status, shown = call(admin, "GET", f"/os-aggregates/{created['id']}")
    assert shown["aggregate"]["metadata"] == {}


def test_add_and_remove_a_host(admin):
    aggregate = create(admin, "agg1", "az1")
    status, body = act(admin, aggregate["id"], "add_host", {"host": "host1"})
    assert status == 200
    assert body["aggregate"]["hosts"] == ["host1"]

    status, body = act(admin, aggregate["id"], "add_host", {"host": "host1"})
    assert status == 409
    assert body["conflictingRequest"]["message"] == (
        f"Aggregate {aggregate['id']} already has host host1.")

    # An aggregate with hosts cannot be deleted.
    status, body = call(admin, "DELETE", f"/os-aggregates/{aggregate['id']}")
    assert status == 400
    assert "Host aggregate is not empty" in body["badRequest"]["message"]

    status, body = act(admin, aggregate["id"], "remove_host", {"host": "host1"})
    assert status == 200
    assert body["aggregate"]["hosts"] == []
    status, body = act(admin, aggregate["id"], "remove_host", {"host": "host1"})
    assert status == 404
    assert body["itemNotFound"]["message"] == (
        f"Cannot remove host host1 in aggregate {aggregate['id']}")


def test_only_compute_hosts_can_be_added(admin):
    aggregate = create(admin, "agg1")
    status, body = act(admin, aggregate["id"], "add_host", {"host": "nohost"})
    assert status == 404
    assert body["itemNotFound"]["message"] == "Compute host nohost could not be found."


def test_a_host_lives_in_one_zone(admin, cloud):
    cloud.start_compute("host2")
    first = create(admin, "rack1", "az1")
    second = create(admin, "rack2", "az2")
    same_zone = create(admin, "gpus", "az1")
    no_zone = create(admin, "tagged")
    assert act(admin, first["id"], "add_host", {"host": "host1"})[0] == 200

    status, body = act(admin, second["id"], "add_host", {"host": "host1"})
    assert status == 409
    assert body["conflictingRequest"]["message"] == (
        f"Cannot add host to aggregate {second['id']}. Reason: One or more hosts already "
        f"in availability zone(s) ['az1'].")
    # Same zone, or no zone at all: fine.
    assert act(admin, same_zone["id"], "add_host", {"host": "host1"})[0] == 200
    assert act(admin, no_zone["id"], "add_host", {"host": "host1"})[0] == 200
    assert act(admin, second["id"], "add_host", {"host": "host2"})[0] == 200

    # Moving rack1 (host1) to az2 would split host1 between az1 (gpus) and az2.
    status, body = call(admin, "PUT", f"/os-aggregates/{first['id']}",
                        {"aggregate": {"availability_zone": "az2"}})
    assert status == 400
    assert body["badRequest"]["message"] == (
        f"Cannot update aggregate {first['id']}. Reason: One or more hosts already in "
        f"availability zone(s) ['az1'].")
    status, body = act(admin, first["id"], "set_metadata",
                       {"metadata": {"availability_zone": "az3"}})
    assert status == 400
    assert body["badRequest"]["message"].startswith(
        f"Cannot update metadata of aggregate {first['id']}. Reason: One or more hosts")


def test_a_zone_cannot_be_emptied(admin):
    aggregate = create(admin, "agg1", "az1")
    status, body = act(admin, aggregate["id"], "set_metadata",
                       {"metadata": {"availability_zone": None}})
    assert status == 400
    assert body["badRequest"]["message"] == (
        f"Cannot update metadata of aggregate {aggregate['id']}. Reason: Aggregate agg1 "
        f"does not support empty named availability zone.")
    status, body = call(admin, "PUT", f"/os-aggregates/{aggregate['id']}",
                        {"aggregate": {"availability_zone": None}})
    assert status == 400


def test_the_internal_zone_is_refused(admin):
    status, body = call(admin, "POST", "/os-aggregates",
                        {"aggregate": {"name": "x", "availability_zone": "internal"}})
    assert status == 400
    assert "availability zone internal is internal_service_availability_zone" in (
        body["badRequest"]["message"])
    aggregate = create(admin, "agg1")
    status, _body = call(admin, "PUT", f"/os-aggregates/{aggregate['id']}",
                         {"aggregate": {"availability_zone": "internal"}})
    assert status == 400
    status, _body = act(admin, aggregate["id"], "set_metadata",
                        {"metadata": {"availability_zone": "internal"}})
    assert status == 400


def test_set_metadata_sets_and_unsets_keys(admin):
    aggregate = create(admin, "agg1", "az1")
    status, body = act(admin, aggregate["id"], "set_metadata",
                       {"metadata": {"ssd": "true", "gpu": "a100"}})
    assert status == 200
    assert body["aggregate"]["metadata"] == {"availability_zone": "az1", "ssd": "true",
                                             "gpu": "a100"}
    status, body = act(admin, aggregate["id"], "set_metadata",
                       {"metadata": {"gpu": None, "availability_zone": "az9"}})
    assert status == 200
    assert body["aggregate"]["metadata"] == {"availability_zone": "az9", "ssd": "true"}
    assert body["aggregate"]["availability_zone"] == "az9"


def test_duplicate_names_are_409(admin):
    create(admin, "agg1")
    other = create(admin, "agg2")
    status, body = call(admin, "POST", "/os-aggregates", {"aggregate": {"name": "agg1"}})
    assert status == 409
    assert body["conflictingRequest"]["message"] == "Aggregate agg1 already exists."
    status, body = call(admin, "PUT", f"/os-aggregates/{other['id']}",
                        {"aggregate": {"name": "agg1"}})
    assert status == 409


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/os-aggregates/999", None),
    ("PUT", "/os-aggregates/999", {"aggregate": {"name": "x"}}),
    ("DELETE", "/os-aggregates/999", None),
    ("POST", "/os-aggregates/999/action", {"add_host": {"host": "host1"}}),
    ("POST", "/os-aggregates/999/action", {"set_metadata": {"metadata": {"k": "v"}}}),
])
def test_unknown_aggregate_is_404_naming_it(admin, method, path, body):
    status, answer = call(admin, method, path, body)
    assert status == 404
    assert answer["itemNotFound"]["message"] == "Aggregate 999 could not be found."


def test_an_aggregate_id_must_be_an_integer(admin):
    status, body = call(admin, "GET", "/os-aggregates/nope")
    assert status == 400
    assert body["badRequest"]["message"] == "Invalid input received: id must be an integer"


@pytest.mark.parametrize("body, named", [
    ({"aggregate": {"name": ""}}, "name"),
    ({"aggregate": {"name": "x" * 256}}, "name"),
    ({"aggregate": {"name": " x"}}, "name"),
    ({"aggregate": {"name": "x", "colour": "blue"}}, "'colour' was unexpected"),
    ({"aggregate": {}}, "'name' is a required property"),
    ({"aggregate": {"name": "x", "availability_zone": "a:b"}}, "availability_zone"),
])
def test_bad_create_bodies_are_400(admin, body, named):
    status, answer = call(admin, "POST", "/os-aggregates", body)
    assert status == 400
    assert named in answer["badRequest"]["message"]


def test_bad_action_bodies_are_400(admin):
    aggregate = create(admin, "agg1")
    for body, message in (
            ({"explode": {}}, "There is no such action: explode"),
            ({"add_host": {"host": "host1"}, "remove_host": {"host": "host1"}},
             "Malformed request body")):
        status, answer = call(admin, "POST", f"/os-aggregates/{aggregate['id']}/action", body)
        assert (status, answer["badRequest"]["message"]) == (400, message)
    status, answer = act(admin, aggregate["id"], "add_host", {"host": "host1", "x": 1})
    assert status == 400
    assert "'x' was unexpected" in answer["badRequest"]["message"]
    status, answer = call(admin, "PUT", f"/os-aggregates/{aggregate['id']}", {"aggregate": {}})
    assert status == 400


@pytest.mark.parametrize("method, path, body, action", [
    ("GET", "/os-aggregates", None, "index"),
    ("POST", "/os-aggregates", {"aggregate": {"name": "x"}}, "create"),
    ("GET", "/os-aggregates/1", None, "show"),
    ("PUT", "/os-aggregates/1", {"aggregate": {"name": "y"}}, "update"),
    ("DELETE", "/os-aggregates/1", None, "delete"),
    ("POST", "/os-aggregates/1/action", {"add_host": {"host": "host1"}}, "add_host"),
    ("POST", "/os-aggregates/1/action", {"remove_host": {"host": "host1"}}, "remove_host"),
    ("POST", "/os-aggregates/1/action", {"set_metadata": {"metadata": {}}}, "set_metadata"),
])
def test_non_admins_get_403(admin, demo, method, path, body, action):
    create(admin, "agg1")
    status, answer = call(demo, method, path, body)
    assert status == 403
    assert answer == {"forbidden": {"code": 403, "message":
                                    f"Policy doesn't allow os_compute_api:os-aggregates:"
                                    f"{action} to be performed."}}
    # And nothing changed.
    status, shown = call(admin, "GET", "/os-aggregates/1")
    assert (shown["aggregate"]["name"], shown["aggregate"]["hosts"]) == ("agg1", [])
