"""Nova's default policy: a project's reader may look, its member may act,
the admin may do anything; another project's servers do not exist for you.
Each cell of the matrix is one request, in noauth2 mode (the token names the
user and project; X-Roles gives the roles Keystone would)."""

import pytest

from tests.functional import helpers

ROLES = {"admin": "admin,member,reader", "member": "member,reader", "reader": "reader"}


def as_role(client, role, project="demo"):
    token = "admin:admin" if role == "admin" else f"{role}-user:{project}"
    user = helpers.make_client_like(client, token)
    user.session.headers["X-Roles"] = ROLES[role]
    return user


def status(response):
    return response.status_code


@pytest.fixture
def server(admin, image):
    member = as_role(admin, "member")
    created = member.create_server("vm1", image["id"], "42")
    return helpers.wait_for_status(member, created["id"], "ACTIVE")


def call(client, method, path, **kwargs):
    return client.session.request(method, f"{client.compute_url}{path}", **kwargs)


@pytest.mark.parametrize("role, expected", [("admin", 200), ("member", 200), ("reader", 200)])
def test_readers_see_their_projects_servers(admin, server, role, expected):
    client = as_role(admin, role)
    assert status(call(client, "GET", f"/servers/{server['id']}")) == expected
    assert status(call(client, "GET", f"/servers/{server['id']}/os-instance-actions")) == 200


@pytest.mark.parametrize("role, expected", [("admin", 202), ("member", 202), ("reader", 403)])
def test_only_members_act(admin, server, role, expected):
    client = as_role(admin, role)
    response = call(client, "POST", f"/servers/{server['id']}/action", json={"os-stop": None})
    assert status(response) == expected
    if expected == 403:
        assert response.json()["forbidden"]["message"] == (
            "Policy doesn't allow os_compute_api:servers:stop to be performed.")


def test_a_reader_cannot_create_or_delete(admin, server, image):
    reader = as_role(admin, "reader")
    body = {"server": {"name": "x", "imageRef": image["id"], "flavorRef": "42"}}
    assert status(call(reader, "POST", "/servers", json=body)) == 403
    assert status(call(reader, "DELETE", f"/servers/{server['id']}")) == 403
    assert status(call(reader, "POST", "/os-server-groups",
                       json={"server_group": {"name": "g", "policies": ["affinity"]}})) == 403


def test_another_projects_member_finds_nothing(admin, server):
    other = as_role(admin, "member", project="other")
    assert status(call(other, "GET", f"/servers/{server['id']}")) == 404
    assert status(call(other, "POST", f"/servers/{server['id']}/action",
                       json={"os-stop": None})) == 404
    assert call(other, "GET", "/servers").json()["servers"] == []


@pytest.mark.parametrize("path", ["/os-services", "/os-hypervisors", "/os-aggregates",
                                  "/os-availability-zone/detail", "/os-image-cache"])
def test_the_operators_apis_are_the_admins(admin, path):
    assert status(call(as_role(admin, "member"), "GET", path)) == 403
    assert status(call(as_role(admin, "admin"), "GET", path)) == 200


@pytest.mark.parametrize("role", ["admin", "member", "reader"])
def test_anyone_lists_flavors_and_zones(admin, role):
    client = as_role(admin, role)
    assert status(call(client, "GET", "/flavors/detail")) == 200
    assert status(call(client, "GET", "/os-availability-zone")) == 200


def test_only_admins_see_event_tracebacks(admin, server):
    # Microversion 2.51 shows the events to non-admins (without traceback).
    path = f"/servers/{server['id']}/os-instance-actions"
    [create] = call(admin, "GET", path).json()["instanceActions"]
    events_path = f"{path}/{create['request_id']}"
    version = {"OpenStack-API-Version": "compute 2.51"}
    member_events = call(as_role(admin, "member"), "GET", events_path, headers=version).json()
    admin_events = call(admin, "GET", events_path, headers=version).json()
    assert "traceback" not in member_events["instanceAction"]["events"][0]
    assert "traceback" in admin_events["instanceAction"]["events"][0]


def test_a_policy_file_overrides_a_default(admin, server, conf, tmp_path):
    from mininova import policy

    rules = tmp_path / "policy.yaml"
    rules.write_text('"os_compute_api:servers:stop": "role:admin"\n')
    conf.set_override("policy_file", str(rules), "oslo_policy")
    policy.reset()
    response = call(as_role(admin, "member"), "POST", f"/servers/{server['id']}/action",
                    json={"os-stop": None})
    assert status(response) == 403


# The APIs of later microversions, each asked at its version.
NEW_APIS = [
    # (method, path, body, version, {role: status})
    ("PUT", "/servers/{id}", {"server": {"name": "x"}}, None, (200, 200, 403)),
    ("POST", "/servers/{id}/action", {"lock": None}, None, (202, 202, 403)),
    ("GET", "/servers/{id}/tags", None, "2.26", (200, 200, 200)),
    ("PUT", "/servers/{id}/tags/t", None, "2.26", (201, 201, 403)),
    ("GET", "/servers/{id}/topology", None, "2.78", (200, 200, 200)),
    ("GET", "/servers/{id}/migrations", None, "2.23", (200, 403, 403)),
    ("GET", "/os-migrations", None, None, (200, 403, 403)),
    ("POST", "/servers/{id}/action", {"trigger_crash_dump": None}, "2.17", (202, 202, 403)),
    ("PUT", "/os-services/force-down",
     {"host": "host1", "binary": "mininova-compute", "forced_down": False}, "2.11",
     (200, 403, 403)),
]


@pytest.mark.parametrize("role", ["admin", "member", "reader"])
@pytest.mark.parametrize("method, path, body, version, expected", NEW_APIS)
def test_the_later_apis_policy(admin, server, role, method, path, body, version, expected):
    client = as_role(admin, role)
    headers = {"OpenStack-API-Version": f"compute {version}"} if version else {}
    response = call(client, method, path.format(id=server["id"]), json=body, headers=headers)
    by_role = dict(zip(("admin", "member", "reader"), expected, strict=True))
    assert status(response) == by_role[role], response.text
