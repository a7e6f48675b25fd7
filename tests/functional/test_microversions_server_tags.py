"""Server tags (microversion 2.26): the /servers/<id>/tags API with Nova's
answers and messages, the tag filters of GET /servers, who may do what."""

import pytest

from tests.functional import helpers
from tests.functional.helpers import api

NANO = "42"
V = "2.26"


@pytest.fixture
def server(demo, image):
    created = demo.create_server("vm1", image["id"], NANO)
    return helpers.wait_for_status(demo, created["id"], "ACTIVE")


def tags_path(server, tag=None):
    return f"/servers/{server['id']}/tags" + (f"/{tag}" if tag else "")


def test_the_api_starts_at_2_26(demo, server):
    response = api(demo, "GET", tags_path(server), "2.25")
    assert response.json() == {"itemNotFound": {"code": 404,
                                                "message": "The resource could not be found."}}
    assert api(demo, "GET", tags_path(server), V).json() == {"tags": []}


def test_add_check_list_delete_one(demo, server):
    response = api(demo, "PUT", tags_path(server, "web"), V)
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/v2.1/servers/{server['id']}/tags/web")
    assert response.content == b""
    assert api(demo, "PUT", tags_path(server, "web"), V).status_code == 204
    assert api(demo, "GET", tags_path(server, "web"), V).status_code == 204
    response = api(demo, "GET", tags_path(server, "db"), V)
    assert (response.status_code, response.json()["itemNotFound"]["message"]) == (
        404, f"Server {server['id']} has no tag 'db'")
    assert api(demo, "GET", tags_path(server), V).json() == {"tags": ["web"]}
    assert api(demo, "DELETE", tags_path(server, "web"), V).status_code == 204
    response = api(demo, "DELETE", tags_path(server, "web"), V)
    assert (response.status_code, response.json()["itemNotFound"]["message"]) == (
        404, f"Instance {server['id']} has no tag 'web'")


def test_replace_all_and_delete_all(demo, server):
    response = api(demo, "PUT", tags_path(server), V, json={"tags": ["b", "a", "b"]})
    assert (response.status_code, response.json()) == (200, {"tags": ["a", "b"]})
    assert api(demo, "GET", f"/servers/{server['id']}", V).json()["server"]["tags"] == [
        "a", "b"]
    assert api(demo, "DELETE", tags_path(server), V).status_code == 204
    assert api(demo, "GET", tags_path(server), V).json() == {"tags": []}


def test_bad_tags_are_400s(demo, server):
    response = api(demo, "PUT", tags_path(server, "a,b"), V)
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"] == (
        "Tag 'a,b' is invalid. It must be a non empty string without characters '/' and ','. "
        "Validation error message: 'a,b' does not match '^[^,/]*$'")
    response = api(demo, "PUT", tags_path(server, "x" * 61), V)
    assert response.status_code == 400
    response = api(demo, "PUT", tags_path(server), V, json={"tags": ["ok", ""]})
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"].startswith(
        "Invalid input for field/attribute 1.")
    response = api(demo, "PUT", tags_path(server), V, json={"tags": [str(i) for i in range(51)]})
    assert response.status_code == 400
    response = api(demo, "PUT", tags_path(server, "web"), V, json={"tag": "web"})
    assert response.status_code == 400


def test_fifty_tags_at_most(demo, server):
    api(demo, "PUT", tags_path(server), V, json={"tags": [str(i) for i in range(50)]})
    response = api(demo, "PUT", tags_path(server, "one-more"), V)
    assert (response.status_code, response.json()["badRequest"]["message"]) == (
        400, "The number of tags exceeded the per-server limit 50")


def test_tags_change_only_in_a_settled_state(demo, image):
    created = demo.create_server("vm", image["id"], NANO)
    server = helpers.wait_for_status(demo, created["id"], "ACTIVE")
    demo.session.post(f"{demo.compute_url}/servers/{server['id']}/action",
                      json={"os-stop": None})
    helpers.wait_for_settled(demo, server["id"], "SHUTOFF")
    assert api(demo, "PUT", tags_path(server, "ok"), V).status_code == 201


def test_a_building_server_refuses_tag_changes(demo, image, cloud, conf):
    conf.set_override("spawn_seconds", 2, "fake_driver")
    created = demo.create_server("slow", image["id"], NANO)
    response = api(demo, "PUT", tags_path(created, "web"), V)
    assert response.status_code == 409
    assert response.json()["conflictingRequest"]["message"] == (
        f"Cannot 'update tag' instance {created['id']} while it is in vm_state building")
    # Reading is fine whatever the state.
    assert api(demo, "GET", tags_path(created), V).status_code == 200


def test_who_may(admin, demo, server):
    reader = helpers.make_client_like(demo, "reader:demo")
    reader.session.headers["X-Roles"] = "reader"
    assert api(reader, "GET", tags_path(server), V).status_code == 200
    response = api(reader, "PUT", tags_path(server, "x"), V)
    assert response.json()["forbidden"]["message"] == (
        "Policy doesn't allow os_compute_api:os-server-tags:update to be performed.")
    for method, path in (("PUT", tags_path(server)), ("DELETE", tags_path(server)),
                         ("DELETE", tags_path(server, "x"))):
        assert api(reader, method, path, V, json={"tags": []}).status_code == 403
    other = helpers.make_client_like(demo, "alice:other")
    assert api(other, "GET", tags_path(server), V).status_code == 404
    assert api(admin, "PUT", tags_path(server, "by-admin"), V).status_code == 201


def test_the_tag_filters(demo, image):
    def tagged(name, tags):
        created = demo.create_server(name, image["id"], NANO)
        helpers.wait_for_status(demo, created["id"], "ACTIVE")
        api(demo, "PUT", f"/servers/{created['id']}/tags", V, json={"tags": tags})
        return created["id"]

    red = tagged("red", ["red"])
    red_blue = tagged("red-blue", ["red", "blue"])
    green = tagged("green", ["green"])

    def names(version=V, **params):
        servers = api(demo, "GET", "/servers", version, params=params).json()["servers"]
        return sorted(s["name"] for s in servers)

    assert names(tags="red,blue") == ["red-blue"]
    assert names(**{"tags-any": "blue,green"}) == ["green", "red-blue"]
    assert names(**{"not-tags": "red,blue"}) == ["green", "red"]
    assert names(**{"not-tags-any": "blue,green"}) == ["red"]
    assert names(tags="red", **{"not-tags": "blue"}) == ["red"]
    # Before 2.26 the parameter means nothing and is dropped.
    assert names("2.25", tags="red,blue") == ["green", "red", "red-blue"]
    assert {red, red_blue, green}


def test_a_deleted_server_loses_its_tags(demo, server, image):
    api(demo, "PUT", tags_path(server, "web"), V)
    demo.delete_server(server["id"])
    helpers.wait_for_gone(demo, server["id"])
    other = demo.create_server("vm2", image["id"], NANO)
    helpers.wait_for_status(demo, other["id"], "ACTIVE")
    assert api(demo, "GET", "/servers", V, params={"tags": "web"}).json()["servers"] == []
