"""os-server-groups: a project's groups, their one policy, their living members."""

import uuid

import pytest

from mininova.cli.client import ClientException
from tests.functional import helpers


def call(client, method, path, body=None):
    response = client.session.request(method, f"{client.compute_url}{path}", json=body,
                                      timeout=client.timeout)
    return response.status_code, (response.json() if response.content else None)


def test_create_show_list_delete(demo):
    status, body = call(demo, "POST", "/os-server-groups",
                        {"server_group": {"name": "web", "policies": ["anti-affinity"]}})
    assert status == 200
    # The v2.1 body (the client asks 2.13, which adds the project and user).
    assert body["server_group"] == {"id": body["server_group"]["id"], "name": "web",
                                    "policies": ["anti-affinity"], "members": [],
                                    "metadata": {}}
    group = dict(body["server_group"], project_id="demo", user_id="demo")
    uuid.UUID(group["id"])

    assert demo.get_server_group(group["id"]) == group
    assert demo.list_server_groups() == [group]

    status, body = call(demo, "DELETE", f"/os-server-groups/{group['id']}")
    assert (status, body) == (204, None)
    status, body = call(demo, "GET", f"/os-server-groups/{group['id']}")
    assert status == 404
    assert body == {"itemNotFound": {"code": 404, "message":
                                     f"Instance group {group['id']} could not be found."}}
    assert demo.list_server_groups() == []


def test_another_projects_group_does_not_exist(admin, demo):
    group = demo.create_server_group("db", "affinity")
    other = helpers.make_client_like(demo, "alice:other")
    for method in ("GET", "DELETE"):
        status, body = call(other, method, f"/os-server-groups/{group['id']}")
        assert status == 404
        assert body["itemNotFound"]["message"] == (
            f"Instance group {group['id']} could not be found.")
    assert other.list_server_groups() == []
    # Asking for all projects is an admin's privilege: a user still sees their own.
    assert other.list_server_groups(all_projects=True) == []
    assert demo.get_server_group(group["id"])["name"] == "db"

    # The admin sees it by id, and in the list with all_projects.
    assert admin.get_server_group(group["id"])["project_id"] == "demo"
    assert admin.list_server_groups() == []
    assert [g["id"] for g in admin.list_server_groups(all_projects=True)] == [group["id"]]


def test_an_admin_may_delete_any_group(admin, demo):
    group = demo.create_server_group("db", "affinity")
    status, _body = call(admin, "DELETE", f"/os-server-groups/{group['id']}")
    assert status == 204
    assert demo.list_server_groups() == []


def test_unknown_group_is_404_naming_it(demo):
    for method in ("GET", "DELETE"):
        status, body = call(demo, method, "/os-server-groups/nope")
        assert status == 404
        assert body["itemNotFound"]["message"] == "Instance group nope could not be found."


@pytest.mark.parametrize("server_group, named", [
    ({"name": "g", "policies": ["best-effort"]}, "'best-effort' is not one of"),
    ({"name": "g", "policies": ["affinity", "anti-affinity"]}, "is too long"),
    ({"name": "g", "policies": []}, "should be non-empty"),
    ({"name": "g", "policies": "affinity"}, "is not of type 'array'"),
    ({"name": "g"}, "'policies' is a required property"),
    ({"name": "", "policies": ["affinity"]}, "field/attribute name."),
    ({"name": "g", "policies": ["affinity"], "rules": {}}, "'rules' was unexpected"),
])
def test_bad_bodies_are_400_naming_the_problem(demo, server_group, named):
    status, body = call(demo, "POST", "/os-server-groups", {"server_group": server_group})
    assert status == 400
    assert named in body["badRequest"]["message"]
    assert demo.list_server_groups() == []


def test_members_are_the_groups_living_servers(demo, image):
    group = demo.create_server_group("web", "anti-affinity")
    server = demo.create_server("web-1", image["id"], "42",
                                scheduler_hints={"group": group["id"]})
    helpers.wait_for_status(demo, server["id"], "ACTIVE")
    assert demo.get_server_group(group["id"])["members"] == [server["id"]]
    demo.delete_server(server["id"])
    helpers.wait_for_gone(demo, server["id"])
    assert demo.get_server_group(group["id"])["members"] == []


def test_a_hint_must_name_a_group_by_uuid(demo, image):
    with pytest.raises(ClientException) as error:
        demo.create_server("vm", image["id"], "42", scheduler_hints={"group": "web"})
    assert error.value.code == 400
    assert error.value.message == ("Invalid input for field/attribute group. Value: web. "
                                   "'web' is not a 'uuid'")
    assert demo.list_servers() == []


def test_a_hint_to_another_projects_group_is_400(demo, image):
    group = demo.create_server_group("web", "anti-affinity")
    other = helpers.make_client_like(demo, "alice:other")
    with pytest.raises(ClientException) as error:
        other.create_server("vm", image["id"], "42", scheduler_hints={"group": group["id"]})
    assert error.value.code == 400
    assert group["id"] in error.value.message
    assert other.list_servers() == []
