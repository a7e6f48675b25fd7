"""os-flavor-manage and os-flavor-access: admins make, describe, share and
delete flavors with Nova's checks and messages; everyone else sees the
public flavors and the private ones shared with their project."""

import uuid

import pytest

from tests.functional.helpers import api, as_role, fault

# Servers booted here finish building before the cloud stops.
pytestmark = pytest.mark.usefixtures("builds_settle")

NANO = {"name": "m1.test", "ram": 96, "vcpus": 1, "disk": 0}


def create(client, version=None, **values):
    return api(client, "POST", "/flavors", version, json={"flavor": dict(NANO, **values)})


def test_an_admin_creates_a_flavor_with_nova_defaults(admin):
    response = create(admin, id="test")
    assert response.status_code == 200
    flavor = response.json()["flavor"]
    assert flavor == {
        "id": "test", "name": "m1.test", "ram": 96, "disk": 0, "swap": "",
        "OS-FLV-EXT-DATA:ephemeral": 0, "OS-FLV-DISABLED:disabled": False, "vcpus": 1,
        "os-flavor-access:is_public": True, "rxtx_factor": 1.0, "links": flavor["links"]}
    assert flavor["links"][0]["href"].endswith("/v2.1/flavors/test")
    assert api(admin, "GET", "/flavors/test").json()["flavor"] == flavor


@pytest.mark.parametrize("given", [None, "auto"])
def test_no_id_or_auto_makes_a_uuid(admin, given):
    values = {} if given is None else {"id": given}
    flavor = create(admin, **values).json()["flavor"]
    assert str(uuid.UUID(flavor["id"])) == flavor["id"]


def test_a_numeric_id_and_string_sizes_are_taken(admin):
    flavor = create(admin, id=77, ram="128", vcpus="2", disk="1", swap=16,
                    rxtx_factor="1.5", **{"OS-FLV-EXT-DATA:ephemeral": 2,
                                          "os-flavor-access:is_public": "false"}).json()
    assert {k: flavor["flavor"][k] for k in ("id", "ram", "vcpus", "disk", "swap",
                                             "rxtx_factor", "OS-FLV-EXT-DATA:ephemeral",
                                             "os-flavor-access:is_public")} == {
        "id": "77", "ram": 128, "vcpus": 2, "disk": 1, "swap": 16, "rxtx_factor": 1.5,
        "OS-FLV-EXT-DATA:ephemeral": 2, "os-flavor-access:is_public": False}


@pytest.mark.parametrize("values, message", [
    ({"ram": 0}, "Invalid input for field/attribute ram. Value: 0. "
                 "0 is less than the minimum of 1"),
    ({"vcpus": 0}, "Invalid input for field/attribute vcpus. Value: 0. "
                   "0 is less than the minimum of 1"),
    ({"disk": -1}, "Invalid input for field/attribute disk. Value: -1. "
                   "-1 is less than the minimum of 0"),
    ({"ram": 2 ** 31}, "Invalid input for field/attribute ram. Value: 2147483648. "
                       "2147483648 is greater than the maximum of 2147483647"),
    ({"ram": "0"}, "Invalid input received: ram must be >= 1"),
    ({"swap": "2147483648"}, "Invalid input received: swap must be <= 2147483647"),
    ({"ram": "12.5"}, "Invalid input for field/attribute ram. Value: 12.5. "
                      "'12.5' does not match '^[0-9]+$'"),
    ({"name": " lead"}, None),
    ({"name": "n" * 256}, None),
    ({"name": ""}, None),
    ({"id": " x"}, None),
    ({"id": "a/b"}, None),
    ({"rxtx_factor": 0}, "Invalid input for field/attribute rxtx_factor. Value: 0. "
                         "0 is less than or equal to the minimum of 0"),
    ({"colour": "red"}, "Invalid input for field/attribute flavor. Value: "),
])
def test_bad_values_are_400s_naming_the_field(admin, values, message):
    status, text = fault(create(admin, **values))
    assert status == 400
    field = next(iter(values))
    if message is None:
        assert text.startswith(f"Invalid input for field/attribute {field}.")
    else:
        assert text.startswith(message)


def test_a_missing_ram_is_named(admin):
    body = {"flavor": {"name": "x", "vcpus": 1, "disk": 0}}
    status, text = fault(api(admin, "POST", "/flavors", json=body))
    assert status == 400 and "'ram' is a required property" in text


def test_a_duplicate_name_or_id_is_a_409_naming_it(admin):
    assert create(admin, id="one").status_code == 200
    assert fault(create(admin, id="two")) == (
        409, "Flavor with name m1.test already exists.")
    assert fault(create(admin, id="one", name="other")) == (
        409, "Flavor with ID one already exists.")


def test_delete_is_202_then_404(admin):
    create(admin, id="gone")
    assert api(admin, "DELETE", "/flavors/gone").status_code == 202
    assert fault(api(admin, "GET", "/flavors/gone")) == (
        404, "Flavor gone could not be found.")
    assert fault(api(admin, "DELETE", "/flavors/gone")) == (
        404, "Flavor gone could not be found.")


@pytest.mark.parametrize("role", ["member", "reader"])
def test_only_admins_manage_flavors(admin, role):
    user = as_role(admin, role)
    assert fault(create(user)) == (
        403, "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.")
    assert fault(api(user, "DELETE", "/flavors/42")) == (
        403, "Policy doesn't allow os_compute_api:os-flavor-manage:delete to be performed.")
    body = {"addTenantAccess": {"tenant": "demo"}}
    assert api(user, "POST", "/flavors/42/action", json=body).status_code == 403
    assert api(user, "GET", "/flavors/42/os-flavor-access").status_code == 403


# --- microversions -------------------------------------------------------------------------

def test_description_from_2_55(admin):
    status, text = fault(create(admin, description="small"))
    assert status == 400 and "'description' was unexpected" in text
    flavor = create(admin, "2.55", id="d", description="A small one.").json()["flavor"]
    assert flavor["description"] == "A small one."
    assert "description" not in api(admin, "GET", "/flavors/d").json()["flavor"]
    listed = api(admin, "GET", "/flavors", "2.55").json()["flavors"]
    assert {"id": "d", "name": "m1.test", "description": "A small one.",
            "links": flavor["links"]} in listed
    updated = api(admin, "PUT", "/flavors/d", "2.55",
                  json={"flavor": {"description": "Changed."}})
    assert updated.status_code == 200
    assert updated.json()["flavor"]["description"] == "Changed."
    assert api(admin, "GET", "/flavors/d", "2.55").json()["flavor"]["description"] == "Changed."


def test_put_needs_2_55_and_only_changes_the_description(admin):
    assert api(admin, "PUT", "/flavors/42", json={"flavor": {"description": "x"}}
               ).status_code == 404
    status, text = fault(api(admin, "PUT", "/flavors/42", "2.55",
                             json={"flavor": {"ram": 1}}))
    assert status == 400 and "'description' is a required property" in text
    assert fault(api(admin, "PUT", "/flavors/nope", "2.55",
                     json={"flavor": {"description": None}})) == (
        404, "Flavor nope could not be found.")
    assert api(as_role(admin, "member"), "PUT", "/flavors/42", "2.55",
               json={"flavor": {"description": None}}).status_code == 403


def test_extra_specs_in_the_flavor_from_2_61(admin):
    api(admin, "POST", "/flavors/42/os-extra_specs",
        json={"extra_specs": {"hw:cpu_policy": "shared"}})
    assert "extra_specs" not in api(admin, "GET", "/flavors/42", "2.60").json()["flavor"]
    shown = api(admin, "GET", "/flavors/42", "2.61").json()["flavor"]
    assert shown["extra_specs"] == {"hw:cpu_policy": "shared"}
    listed = {f["id"]: f for f in api(admin, "GET", "/flavors/detail", "2.61").json()["flavors"]}
    assert listed["42"]["extra_specs"] == {"hw:cpu_policy": "shared"}
    assert create(admin, "2.61", id="new").json()["flavor"]["extra_specs"] == {}


def test_swap_zero_is_a_number_from_2_75(admin):
    assert api(admin, "GET", "/flavors/42", "2.74").json()["flavor"]["swap"] == ""
    assert api(admin, "GET", "/flavors/42", "2.75").json()["flavor"]["swap"] == 0


def test_unknown_query_parameters_are_400_from_2_75(admin):
    assert api(admin, "GET", "/flavors?colour=red", "2.74").status_code == 200
    assert fault(api(admin, "GET", "/flavors?colour=red", "2.75")) == (
        400, "Additional properties are not allowed ('colour' was unexpected)")


# --- listing --------------------------------------------------------------------------------

def ids(response):
    assert response.status_code == 200, response.text
    return [f["id"] for f in response.json()["flavors"]]


def test_lists_are_sorted_filtered_and_paged_as_nova(admin):
    assert ids(api(admin, "GET", "/flavors")) == ["1", "2", "3", "4", "42", "5", "84"]
    assert ids(api(admin, "GET", "/flavors?sort_key=memory_mb&sort_dir=desc"))[:2] == ["5", "4"]
    assert ids(api(admin, "GET", "/flavors/detail?minRam=4096&minDisk=80")) == ["4", "5"]
    page = api(admin, "GET", "/flavors?limit=2").json()
    assert [f["id"] for f in page["flavors"]] == ["1", "2"]
    [link] = page["flavors_links"]
    assert link["rel"] == "next" and link["href"].endswith("/v2.1/flavors?limit=2&marker=2")
    assert ids(api(admin, "GET", "/flavors?limit=2&marker=2")) == ["3", "4"]
    assert "flavors_links" not in api(admin, "GET", "/flavors?marker=42").json()
    assert fault(api(admin, "GET", "/flavors?marker=nope")) == (
        400, "marker [nope] not found")
    assert fault(api(admin, "GET", "/flavors?minRam=big")) == (
        400, "Invalid minRam filter [big]")
    status, text = fault(api(admin, "GET", "/flavors?sort_key=colour"))
    assert status == 400 and "sort_key" in text


@pytest.fixture
def private(admin):
    create(admin, id="p1", name="private-1", **{"os-flavor-access:is_public": False})
    return "p1"


def test_private_flavors_are_seen_by_admins_and_projects_with_access(admin, private):
    member = as_role(admin, "member")
    other = as_role(admin, "member", project="other")
    assert private not in ids(api(member, "GET", "/flavors"))
    assert fault(api(member, "GET", f"/flavors/{private}")) == (
        404, "Flavor p1 could not be found.")
    # An admin sees it with is_public=false or none, not by default.
    assert private not in ids(api(admin, "GET", "/flavors"))
    assert ids(api(admin, "GET", "/flavors?is_public=false")) == [private]
    assert private in ids(api(admin, "GET", "/flavors?is_public=None"))
    assert fault(api(admin, "GET", "/flavors?is_public=maybe")) == (
        400, "Invalid is_public filter [maybe]")

    answer = api(admin, "POST", f"/flavors/{private}/action",
                 json={"addTenantAccess": {"tenant": "demo"}})
    assert answer.status_code == 200
    assert answer.json() == {"flavor_access": [{"flavor_id": "p1", "tenant_id": "demo"}]}
    assert private in ids(api(member, "GET", "/flavors"))
    assert api(member, "GET", f"/flavors/{private}").status_code == 200
    assert private not in ids(api(other, "GET", "/flavors"))
    # A non-admin's is_public query changes nothing.
    assert private in ids(api(member, "GET", "/flavors?is_public=false"))
    assert api(admin, "GET", f"/flavors/{private}/os-flavor-access").json() == answer.json()


def test_a_private_flavor_boots_only_for_projects_with_access(admin, private, image):
    member = as_role(admin, "member")
    body = {"server": {"name": "vm", "imageRef": image["id"], "flavorRef": private}}
    assert fault(api(member, "POST", "/servers", json=body)) == (
        400, "Flavor p1 could not be found.")
    api(admin, "POST", f"/flavors/{private}/action",
        json={"addTenantAccess": {"tenant": "demo"}})
    assert api(member, "POST", "/servers", json=body).status_code == 202


def test_tenant_access_errors(admin, private):
    path = f"/flavors/{private}/action"
    add = {"addTenantAccess": {"tenant": "demo"}}
    api(admin, "POST", path, json=add)
    assert fault(api(admin, "POST", path, json=add)) == (
        409, "Flavor access already exists for flavor p1 and project demo combination.")
    remove = {"removeTenantAccess": {"tenant": "demo"}}
    assert api(admin, "POST", path, json=remove).json() == {"flavor_access": []}
    assert fault(api(admin, "POST", path, json=remove)) == (
        404, "Flavor access not found for p1 / demo combination.")
    assert fault(api(admin, "GET", "/flavors/42/os-flavor-access")) == (
        404, "Access list not available for public flavors.")
    # Adding a project to a public flavor: harmless before 2.7, a 409 from it.
    assert api(admin, "POST", "/flavors/42/action", "2.6", json=add).status_code == 200
    assert fault(api(admin, "POST", "/flavors/84/action", "2.7", json=add)) == (
        409, "Can not add access to a public flavor.")
    assert fault(api(admin, "POST", path, json={"addTenantAccess": {}}))[0] == 400
    assert fault(api(admin, "POST", path, json={"shareIt": {}})) == (
        400, "There is no such action: shareIt")
    assert fault(api(admin, "POST", "/flavors/nope/action", json=add)) == (
        404, "Flavor nope could not be found.")


def test_deleting_a_flavor_leaves_its_servers_as_they_are(admin, image):
    create(admin, id="short-lived")
    server = admin.create_server("vm", image["id"], "short-lived")
    assert api(admin, "DELETE", "/flavors/short-lived").status_code == 202
    assert admin.get_server(server["id"])["flavor"]["id"] == "short-lived"
