"""What each microversion changes in a server's body and in the servers
API: each test asks the version before the change and the version of the
change, and checks the difference is exactly Nova's."""

import base64
import datetime

import pytest

from tests.functional import helpers
from tests.functional.helpers import api

NANO = "42"


def server_body(client, server_id, version):
    response = api(client, "GET", f"/servers/{server_id}", version)
    assert response.status_code == 200, response.text
    return response.json()["server"]


@pytest.fixture
def server(demo, image):
    created = demo.create_server("vm1", image["id"], NANO)
    return helpers.wait_for_status(demo, created["id"], "ACTIVE")


# --- the server's body ------------------------------------------------------------

EXTENDED_2_3 = {"OS-EXT-SRV-ATTR:hostname", "OS-EXT-SRV-ATTR:kernel_id",
                "OS-EXT-SRV-ATTR:launch_index", "OS-EXT-SRV-ATTR:ramdisk_id",
                "OS-EXT-SRV-ATTR:reservation_id", "OS-EXT-SRV-ATTR:root_device_name",
                "OS-EXT-SRV-ATTR:user_data"}


def test_2_3_shows_more_extended_attributes_to_admins(admin, demo, server):
    before = server_body(admin, server["id"], "2.2")
    after = server_body(admin, server["id"], "2.3")
    assert set(after) - set(before) == EXTENDED_2_3
    assert after["OS-EXT-SRV-ATTR:hostname"] == "vm1"
    assert after["OS-EXT-SRV-ATTR:launch_index"] == 0
    assert after["OS-EXT-SRV-ATTR:reservation_id"].startswith("r-")
    assert after["OS-EXT-SRV-ATTR:root_device_name"] == "/dev/vda"
    assert (after["OS-EXT-SRV-ATTR:kernel_id"], after["OS-EXT-SRV-ATTR:ramdisk_id"]) == ("", "")
    # The owner is not an admin: no extended attributes at all.
    assert not [key for key in server_body(demo, server["id"], "2.3")
                if key.startswith("OS-EXT-SRV-ATTR:")]


def test_2_3_user_data_is_the_servers(admin, image):
    user_data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    created = admin.create_server("ud", image["id"], NANO, user_data=user_data)
    assert server_body(admin, created["id"], "2.3")["OS-EXT-SRV-ATTR:user_data"] == user_data


@pytest.mark.parametrize("before, version, added", [
    ("2.8", "2.9", {"locked"}),
    ("2.18", "2.19", {"description"}),
    ("2.25", "2.26", {"tags"}),
    ("2.62", "2.63", {"trusted_image_certificates"}),
    ("2.72", "2.73", {"locked_reason"}),
])
def test_a_field_appears_at_its_version(demo, server, before, version, added):
    assert set(server_body(demo, server["id"], version)) - set(
        server_body(demo, server["id"], before)) == added


def test_the_new_fields_values(demo, server):
    body = server_body(demo, server["id"], "2.73")
    assert (body["locked"], body["locked_reason"]) == (False, None)
    # Created before 2.19 by the client (2.1): the description is the name, as in Nova.
    assert body["description"] == "vm1"
    assert body["tags"] == []
    assert body["trusted_image_certificates"] is None


def test_2_16_host_status_for_admins_only(admin, demo, server):
    assert "host_status" not in server_body(admin, server["id"], "2.15")
    assert server_body(admin, server["id"], "2.16")["host_status"] == "UP"
    assert "host_status" not in server_body(demo, server["id"], "2.16")
    [listed] = api(admin, "GET", "/servers/detail", "2.16",
                   params={"all_tenants": "1"}).json()["servers"]
    assert listed["host_status"] == "UP"


def test_2_16_host_status_follows_the_compute_service(admin, server):
    service = [s for s in admin.list_services() if s["binary"] == "mininova-compute"][0]
    admin.disable_service(service["host"], "mininova-compute")
    assert server_body(admin, server["id"], "2.16")["host_status"] == "MAINTENANCE"
    api(admin, "PUT", "/os-services/force-down", "2.11",
        json={"host": service["host"], "binary": "mininova-compute", "forced_down": True})
    assert server_body(admin, server["id"], "2.16")["host_status"] == "DOWN"


def test_2_47_embeds_the_flavor(admin, demo, server):
    assert server_body(demo, server["id"], "2.46")["flavor"]["id"] == NANO
    flavor = server_body(demo, server["id"], "2.47")["flavor"]
    assert flavor == {"vcpus": 1, "ram": 64, "disk": 0, "ephemeral": 0, "swap": 0,
                      "original_name": "m1.nano", "extra_specs": {}}


def test_2_47_extra_specs_only_for_who_may_read_them(admin, server, conf, tmp_path):
    from mininova import policy

    rules = tmp_path / "policy.yaml"
    rules.write_text('"os_compute_api:servers:show:flavor-extra-specs": "role:admin"\n')
    conf.set_override("policy_file", str(rules), "oslo_policy")
    policy.reset()
    member = helpers.make_client_like(admin, "demo:demo")
    assert "extra_specs" not in server_body(member, server["id"], "2.47")["flavor"]
    assert "extra_specs" in server_body(admin, server["id"], "2.47")["flavor"]


def test_2_71_server_groups_in_show_not_in_the_list(demo, image):
    group = demo.create_server_group("web", "anti-affinity")
    created = demo.create_server("vm1", image["id"], NANO, scheduler_hints={"group": group["id"]})
    assert "server_groups" not in server_body(demo, created["id"], "2.70")
    assert server_body(demo, created["id"], "2.71")["server_groups"] == [group["id"]]
    [listed] = api(demo, "GET", "/servers/detail", "2.71").json()["servers"]
    assert "server_groups" not in listed
    alone = demo.create_server("vm2", image["id"], NANO)
    assert server_body(demo, alone["id"], "2.71")["server_groups"] == []


# --- create ------------------------------------------------------------------------

def create(client, version, **fields):
    body = {"server": dict({"name": "vm", "imageRef": fields.pop("image"),
                            "flavorRef": NANO}, **fields)}
    return api(client, "POST", "/servers", version, json=body)


def test_2_19_description_at_create(demo, image):
    response = create(demo, "2.18", image=image["id"], description="web")
    assert response.status_code == 400
    assert "'description' was unexpected" in response.json()["badRequest"]["message"]
    response = create(demo, "2.19", image=image["id"], description="the web server")
    assert response.status_code == 202, response.text
    server_id = response.json()["server"]["id"]
    assert server_body(demo, server_id, "2.19")["description"] == "the web server"
    response = create(demo, "2.19", image=image["id"])
    assert server_body(demo, response.json()["server"]["id"], "2.19")["description"] is None


def test_2_52_tags_at_create(demo, image):
    response = create(demo, "2.51", image=image["id"], tags=["web"])
    assert response.status_code == 400
    response = create(demo, "2.52", image=image["id"], tags=["web", "prod"])
    assert response.status_code == 202, response.text
    server_id = response.json()["server"]["id"]
    assert server_body(demo, server_id, "2.52")["tags"] == ["prod", "web"]
    response = create(demo, "2.52", image=image["id"], tags=["a/b"])
    assert response.status_code == 400
    assert "Invalid input for field/attribute 0." in response.json()["badRequest"]["message"]


@pytest.mark.hosts("host1", "host2")
def test_2_74_an_admin_picks_the_host(admin, demo, image):
    response = create(admin, "2.73", image=image["id"], host="host2")
    assert response.status_code == 400
    for _ in range(2):
        response = create(admin, "2.74", image=image["id"], host="host2")
        assert response.status_code == 202, response.text
        server = helpers.wait_for_status(admin, response.json()["server"]["id"], "ACTIVE")
        assert server["OS-EXT-SRV-ATTR:host"] == "host2"
    response = create(admin, "2.74", image=image["id"], host="host9")
    assert (response.status_code, response.json()["badRequest"]["message"]) == (
        400, "Compute host host9 could not be found.")
    response = create(demo, "2.74", image=image["id"], host="host2")
    assert response.status_code == 403
    assert response.json()["forbidden"]["message"] == (
        "Policy doesn't allow compute:servers:create:requested_destination to be performed.")


# --- PUT /servers/<id> ---------------------------------------------------------------

def update(client, server_id, version, **fields):
    return api(client, "PUT", f"/servers/{server_id}", version, json={"server": fields})


def test_update_renames_the_server(demo, server):
    response = update(demo, server["id"], None, name="renamed")
    assert response.status_code == 200, response.text
    assert response.json()["server"]["name"] == "renamed"
    assert demo.get_server(server["id"])["name"] == "renamed"


def test_2_19_update_sets_and_removes_the_description(demo, server):
    response = update(demo, server["id"], "2.18", description="x")
    assert response.status_code == 400
    assert update(demo, server["id"], "2.19", description="db").json()["server"][
        "description"] == "db"
    assert update(demo, server["id"], "2.19", description=None).json()["server"][
        "description"] is None


def test_update_validation_and_policy(admin, demo, server):
    response = update(demo, server["id"], None, name="")
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"].startswith(
        "Invalid input for field/attribute name.")
    reader = helpers.make_client_like(demo, "reader:demo")
    reader.session.headers["X-Roles"] = "reader"
    response = update(reader, server["id"], None, name="x")
    assert response.json()["forbidden"]["message"] == (
        "Policy doesn't allow os_compute_api:servers:update to be performed.")
    other = helpers.make_client_like(demo, "alice:other")
    assert update(other, server["id"], None, name="x").status_code == 404


def test_2_75_update_answers_the_full_body(admin, server):
    short = update(admin, server["id"], "2.74", name="a").json()["server"]
    full = update(admin, server["id"], "2.75", name="b").json()["server"]
    shown = server_body(admin, server["id"], "2.75")
    assert set(full) == set(shown)
    assert {"OS-EXT-STS:vm_state", "OS-EXT-AZ:availability_zone", "key_name",
            "OS-SRV-USG:launched_at", "config_drive", "host_status",
            "OS-EXT-SRV-ATTR:host"} <= set(full) - set(short)
    assert {"locked", "description", "tags", "server_groups", "locked_reason"} <= set(short)


# --- rebuild -----------------------------------------------------------------------

def rebuild(client, server_id, version, image_id, **fields):
    return api(client, "POST", f"/servers/{server_id}/action", version,
               json={"rebuild": dict({"imageRef": image_id}, **fields)})


def test_rebuild_answers_the_shorter_body_until_2_75(admin, server, image):
    short = rebuild(admin, server["id"], "2.1", image["id"])
    assert short.status_code == 202, short.text
    assert "OS-EXT-STS:vm_state" not in short.json()["server"]
    assert short.json()["server"]["adminPass"] == ""
    helpers.wait_for_settled(admin, server["id"], "ACTIVE")
    full = rebuild(admin, server["id"], "2.75", image["id"]).json()["server"]
    assert full["OS-EXT-STS:task_state"] == "rebuilding"
    # user_data is the rebuild's own field from 2.57, not an extended attribute.
    assert "OS-EXT-SRV-ATTR:user_data" not in full and "user_data" in full


def test_2_54_rebuild_sets_the_key_name(demo, server, image):
    assert rebuild(demo, server["id"], "2.53", image["id"], key_name="k").status_code == 400
    response = rebuild(demo, server["id"], "2.54", image["id"], key_name="mykey")
    assert response.status_code == 202, response.text
    assert response.json()["server"]["key_name"] == "mykey"
    helpers.wait_for_settled(demo, server["id"], "ACTIVE")
    assert demo.get_server(server["id"])["key_name"] == "mykey"


def test_2_57_rebuild_sets_the_user_data(admin, server, image):
    user_data = base64.b64encode(b"new").decode()
    assert rebuild(admin, server["id"], "2.56", image["id"],
                   user_data=user_data).status_code == 400
    response = rebuild(admin, server["id"], "2.57", image["id"], user_data=user_data)
    assert response.json()["server"]["user_data"] == user_data
    helpers.wait_for_settled(admin, server["id"], "ACTIVE")
    assert server_body(admin, server["id"], "2.3")["OS-EXT-SRV-ATTR:user_data"] == user_data


def test_2_19_rebuild_sets_the_description(demo, server, image):
    response = rebuild(demo, server["id"], "2.19", image["id"], description="rebuilt")
    assert response.json()["server"]["description"] == "rebuilt"


# --- createImage ---------------------------------------------------------------------

def test_2_45_create_image_answers_the_image_id(demo, server):
    path = f"/servers/{server['id']}/action"
    response = api(demo, "POST", path, "2.44", json={"createImage": {"name": "s1"}})
    assert response.status_code == 202
    assert response.headers["Location"].split("/")[-1]
    helpers.wait_for_settled(demo, server["id"], "ACTIVE")
    response = api(demo, "POST", path, "2.45", json={"createImage": {"name": "s2"}})
    assert response.status_code == 202
    assert "Location" not in response.headers
    image_id = response.json()["image_id"]
    assert demo.get_image(image_id)["name"] == "s2"


# --- lists ---------------------------------------------------------------------------

def listed(client, version, **params):
    response = api(client, "GET", "/servers/detail", version, params=params)
    return response


def test_2_38_an_unknown_status_is_a_400(demo, server):
    assert listed(demo, "2.37", status="NOPE").json() == {"servers": []}
    response = listed(demo, "2.38", status="NOPE")
    assert (response.status_code, response.json()["badRequest"]["message"]) == (
        400, "Invalid status value")
    assert [s["id"] for s in listed(demo, "2.38", status="ACTIVE").json()["servers"]] == [
        server["id"]]
    assert listed(demo, "2.38", status="SHUTOFF").json()["servers"] == []


def test_deleted_servers_only_for_admins(admin, demo, server):
    response = listed(demo, None, status="DELETED")
    assert (response.status_code, response.json()["forbidden"]["message"]) == (
        403, "Only administrators may list deleted instances")
    demo.delete_server(server["id"])
    helpers.wait_for_gone(demo, server["id"])
    found = listed(admin, None, status="DELETED", all_tenants="1").json()["servers"]
    assert [(s["id"], s["status"]) for s in found] == [(server["id"], "DELETED")]


def test_changes_since_lists_deleted_servers_too(demo, server, image):
    since = server_body(demo, server["id"], None)["updated"]
    demo.delete_server(server["id"])
    helpers.wait_for_gone(demo, server["id"])
    found = listed(demo, None, **{"changes-since": since}).json()["servers"]
    assert [(s["id"], s["status"]) for s in found] == [(server["id"], "DELETED")]


def test_2_66_changes_before(demo, server):
    # The body's times have whole seconds; the database's do not.
    updated = (datetime.datetime.fromisoformat(server_body(demo, server["id"], None)["updated"])
               + datetime.timedelta(seconds=1)).isoformat()
    # Ignored before 2.66 (dropped as unknown), a filter from 2.66.
    assert len(listed(demo, "2.65", **{"changes-before": "2000-01-01T00:00:00Z"}).json()[
        "servers"]) == 1
    assert listed(demo, "2.66", **{"changes-before": "2000-01-01T00:00:00Z"}).json()[
        "servers"] == []
    found = listed(demo, "2.66", **{"changes-before": updated}).json()["servers"]
    assert [s["id"] for s in found] == [server["id"]]
    response = listed(demo, "2.66", **{"changes-since": updated,
                                       "changes-before": "2000-01-01T00:00:00Z"})
    assert (response.status_code, response.json()["badRequest"]["message"]) == (
        400, "The value of changes-since must be less than or equal to changes-before.")
    response = listed(demo, "2.66", **{"changes-before": "yesterday"})
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"].startswith(
        "Invalid input for query parameters changes-before.")


def test_2_75_an_unknown_parameter_is_a_400(demo, server):
    assert len(listed(demo, "2.74", colour="blue").json()["servers"]) == 1
    response = listed(demo, "2.75", colour="blue")
    assert response.status_code == 400
    # jsonschema's words when the schema also has a pattern ("^_"), as in Nova.
    assert response.json()["badRequest"]["message"] == (
        "'colour' does not match any of the regexes: '^_'")


def test_internal_and_joined_fields_are_refused(admin, server):
    for name in ("_secret", "metadata"):
        response = listed(admin, None, **{name: "x"})
        assert (response.status_code, response.json()["badRequest"]["message"]) == (
            400, f"Invalid filter field: {name}.")


def test_paging_with_limit_and_marker(demo, image):
    ids = [demo.create_server(f"vm{i}", image["id"], NANO)["id"] for i in range(3)]
    first = listed(demo, None, limit="2").json()
    assert [s["id"] for s in first["servers"]] == [ids[2], ids[1]]
    [link] = first["servers_links"]
    assert link["rel"] == "next" and f"marker={ids[1]}" in link["href"]
    rest = listed(demo, None, limit="2", marker=ids[1]).json()
    assert [s["id"] for s in rest["servers"]] == [ids[0]]
    assert "servers_links" not in rest
    response = listed(demo, None, marker="nope")
    assert (response.status_code, response.json()["badRequest"]["message"]) == (
        400, "marker [nope] not found")


def test_a_non_admin_cannot_filter_by_host(admin, demo, server):
    # Not a filter a user may use: dropped (Nova's remove_invalid_options).
    assert len(listed(demo, None, host="elsewhere").json()["servers"]) == 1
    assert listed(admin, None, host="elsewhere", all_tenants="1").json()["servers"] == []


def test_filters_by_image_flavor_and_reservation(demo, server, image):
    assert listed(demo, None, image=image["id"]).json()["servers"][0]["id"] == server["id"]
    assert listed(demo, None, flavor="1").json()["servers"] == []
    assert len(listed(demo, None, flavor=NANO).json()["servers"]) == 1


# --- APIs of their own versions --------------------------------------------------------

def test_2_36_the_images_proxy_is_gone(demo, image):
    assert api(demo, "GET", f"/images/{image['id']}", "2.35").status_code == 200
    response = api(demo, "GET", f"/images/{image['id']}", "2.36")
    assert response.json() == {"itemNotFound": {
        "code": 404, "message": "The resource could not be found."}}


def test_2_78_topology(admin, demo, server):
    path = f"/servers/{server['id']}/topology"
    assert api(demo, "GET", path, "2.77").status_code == 404
    response = api(demo, "GET", path, "2.78")
    assert (response.status_code, response.json()) == (200, {"nodes": [], "pagesize_kb": None})


def test_2_17_trigger_crash_dump(admin, demo, server, cloud):
    path = f"/servers/{server['id']}/action"
    body = {"trigger_crash_dump": None}
    assert api(demo, "POST", path, "2.16", json=body).status_code == 404
    response = api(demo, "POST", path, "2.17", json=body)
    assert response.status_code == 202, response.text
    driver = cloud.computes["host1"].manager.driver
    helpers.wait_until(lambda: driver.instances[server["id"]].get("nmis"), lambda n: n == 1,
                       what="the NMI")
    actions = [a["action"] for a in admin.list_instance_actions(server["id"])]
    assert actions[0] == "trigger_crash_dump"
    demo.session.post(f"{demo.compute_url}{path}", json={"os-stop": None})
    helpers.wait_for_settled(demo, server["id"], "SHUTOFF")
    # Stopped is an allowed state, but the guest does not run: a fault, no ERROR.
    assert api(demo, "POST", path, "2.17", json=body).status_code == 202
    helpers.wait_until(lambda: server_body(admin, server["id"], "2.1")["status"],
                       lambda status: status == "SHUTOFF")


@pytest.mark.hosts("host1", "host2")
def test_2_56_migrate_to_a_named_host(admin, image):
    created = admin.create_server("vm", image["id"], NANO)
    server = helpers.wait_for_status(admin, created["id"], "ACTIVE")
    here = server["OS-EXT-SRV-ATTR:host"]
    there = "host2" if here == "host1" else "host1"
    path = f"/servers/{server['id']}/action"
    response = api(admin, "POST", path, "2.55", json={"migrate": {"host": there}})
    assert response.status_code == 400
    response = api(admin, "POST", path, "2.56", json={"migrate": {"host": here}})
    assert (response.status_code, response.json()["badRequest"]["message"]) == (
        400, "Cannot migrate to the host where the server exists.")
    response = api(admin, "POST", path, "2.56", json={"migrate": {"host": "host9"}})
    assert response.json()["badRequest"]["message"] == "Compute host host9 could not be found."
    response = api(admin, "POST", path, "2.56", json={"migrate": {"host": there}})
    assert response.status_code == 202, response.text
    moved = helpers.wait_for_settled(admin, server["id"], "VERIFY_RESIZE")
    assert moved["OS-EXT-SRV-ATTR:host"] == there


def test_2_39_image_metadata_is_no_longer_a_quota(demo, server, conf):
    conf.set_override("metadata_items", 1, "quota")
    path = f"/servers/{server['id']}/action"
    body = {"createImage": {"name": "s", "metadata": {"a": "1", "b": "2"}}}
    response = api(demo, "POST", path, "2.38", json=body)
    assert (response.status_code, response.json()["forbidden"]["message"]) == (
        403, "Image metadata limit exceeded")
    assert api(demo, "POST", path, "2.39", json=body).status_code == 202
