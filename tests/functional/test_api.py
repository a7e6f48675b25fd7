"""The REST API's answers to bad input, missing tokens and other projects:
a clear 4xx that says what to fix, and nothing left behind."""

import subprocess

import pytest
import requests

from mininova import context
from mininova.cli.client import ClientException
from mininova.db import api as db
from tests.functional import helpers


def _post_server(client, server):
    return client.session.post(f"{client.compute_url}/servers", json={"server": server})


def _no_instances_left():
    return db.instance_get_all_by_filters(context.get_admin_context(), read_deleted=True) == []


def test_unknown_flavor_is_400_naming_it(admin, image):
    response = _post_server(admin, {"name": "vm", "imageRef": image["id"], "flavorRef": "999"})
    assert response.status_code == 400
    assert response.json() == {"badRequest": {"code": 400,
                                              "message": "Flavor 999 could not be found."}}
    assert _no_instances_left()


def test_unknown_image_is_400_naming_it(admin):
    response = _post_server(admin, {"name": "vm", "imageRef": "nope", "flavorRef": "42"})
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"] == "Image nope could not be found."
    assert _no_instances_left()


@pytest.mark.parametrize("name", ["", " leading", "trailing ", "x" * 256])
def test_invalid_names_are_400(admin, image, name):
    response = _post_server(admin, {"name": name, "imageRef": image["id"], "flavorRef": "42"})
    assert response.status_code == 400
    message = response.json()["badRequest"]["message"]
    assert message.startswith("Invalid input for field/attribute name.")
    assert _no_instances_left()


def test_unknown_field_is_400_naming_it(admin, image):
    response = _post_server(admin, {"name": "vm", "imageRef": image["id"], "flavorRef": "42",
                                    "colour": "blue"})
    assert response.status_code == 400
    assert "'colour' was unexpected" in response.json()["badRequest"]["message"]
    assert _no_instances_left()


def test_body_that_is_not_json_is_400(admin):
    response = admin.session.post(f"{admin.compute_url}/servers", data="{nope",
                                  headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"] == "Malformed request body"


def test_too_large_body_is_413(admin):
    response = admin.session.post(f"{admin.compute_url}/servers", data="x" * 200_000,
                                  headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"overLimit": {"code": 413, "message": "Request is too large."}}


def test_missing_token_is_401(cloud, admin):
    response = requests.get(f"{admin.compute_url}/servers", timeout=10)
    assert response.status_code == 401
    assert response.json()["unauthorized"]["code"] == 401
    assert response.headers["x-compute-request-id"].startswith("req-")


def test_versions_need_no_token(admin):
    response = requests.get(f"{admin.compute_url}", timeout=10)
    assert response.status_code == 200
    assert response.json()["version"]["id"] == "v2.1"


def test_unknown_url_is_404_in_novas_shape(admin):
    response = admin.session.get(f"{admin.compute_url}/no-such-thing")
    assert response.status_code == 404
    assert response.json()["itemNotFound"]["code"] == 404


def test_another_projects_server_does_not_exist(admin, demo, image):
    mine = demo.create_server("mine", image["id"], "42")
    helpers.wait_for_status(demo, mine["id"], "ACTIVE")
    other = helpers.make_client_like(demo, "alice:other")
    for call in (other.get_server, other.delete_server, other.console_output):
        with pytest.raises(ClientException) as error:
            call(mine["id"])
        assert error.value.code == 404
    assert other.list_servers() == []
    assert [s["id"] for s in demo.list_servers()] == [mine["id"]]
    # The admin sees it, and all projects' servers with all_tenants.
    assert admin.get_server(mine["id"])["tenant_id"] == "demo"
    assert admin.list_servers() == []
    assert [s["id"] for s in admin.list_servers(all_tenants=True)] == [mine["id"]]


@pytest.mark.parametrize("detailed", [True, False])
def test_all_tenants_is_for_admins(demo, detailed):
    with pytest.raises(ClientException) as error:
        demo.list_servers(detailed=detailed, all_tenants=True)
    view = "detail" if detailed else "index"
    assert (error.value.code, error.value.message) == (
        403, f"Policy doesn't allow os_compute_api:servers:{view}:get_all_tenants "
             "to be performed.")


def test_metadata_items_over_the_quota_are_403_and_leave_nothing(admin, image):
    metadata = {f"k{i}": "v" for i in range(129)}
    response = _post_server(admin, {"name": "vm", "imageRef": image["id"], "flavorRef": "42",
                                    "metadata": metadata})
    assert response.status_code == 403
    assert response.json()["forbidden"]["message"] == (
        "Maximum number of metadata items exceeds 128")
    assert _no_instances_left()
    metadata.pop("k0")
    response = _post_server(admin, {"name": "vm", "imageRef": image["id"], "flavorRef": "42",
                                    "metadata": metadata})
    assert response.status_code == 202


def test_non_admins_get_403_on_admin_apis(demo):
    for call in (demo.list_services, demo.list_hypervisors):
        with pytest.raises(ClientException) as error:
            call()
        assert error.value.code == 403
        assert error.value.message.startswith("Policy doesn't allow os_compute_api:")


def test_non_admin_sees_no_host_fields(demo, image):
    server = demo.create_server("vm", image["id"], "42")
    server = helpers.wait_for_status(demo, server["id"], "ACTIVE")
    assert "OS-EXT-SRV-ATTR:host" not in server
    assert server["hostId"]


def test_image_too_big_for_the_flavor_is_400(admin, tmp_path):
    big = tmp_path / "big.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(big), "2G"], check=True,
                   capture_output=True)  # 2 GiB virtual, a few KB of file
    image = admin.create_image("big", str(big), "qcow2")
    response = _post_server(admin, {"name": "vm", "imageRef": image["id"], "flavorRef": "1"})
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"].startswith(
        "Flavor's disk is too small for requested image.")
    assert _no_instances_left()


def test_image_min_ram_above_flavor_is_400(admin, tmp_path):
    path = tmp_path / "x.raw"
    path.write_bytes(b"\0" * 1024)
    image = admin.create_image("needs-ram", str(path), "raw", min_ram=1024)
    response = _post_server(admin, {"name": "vm", "imageRef": image["id"], "flavorRef": "42"})
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"] == (
        "Flavor's memory is too small for requested image.")


def test_flavors(admin):
    flavors = {f["name"]: f for f in admin.list_flavors()}
    assert {name: (f["ram"], f["disk"], f["vcpus"], f["id"]) for name, f in flavors.items()} == {
        "m1.nano": (64, 0, 1, "42"), "m1.micro": (128, 0, 1, "84"),
        "m1.tiny": (512, 1, 1, "1"), "m1.small": (2048, 20, 1, "2"),
        "m1.medium": (4096, 40, 2, "3"), "m1.large": (8192, 80, 4, "4"),
        "m1.xlarge": (16384, 160, 8, "5")}
    response = admin.session.get(f"{admin.compute_url}/flavors/nope")
    assert response.status_code == 404
    assert response.json()["itemNotFound"]["message"] == "Flavor nope could not be found."


def test_images_through_the_compute_api(admin, image):
    response = admin.session.get(f"{admin.compute_url}/images/detail")
    [shown] = response.json()["images"]
    assert (shown["id"], shown["name"], shown["status"]) == (image["id"], "tiny", "ACTIVE")
    assert shown["OS-EXT-IMG-SIZE:size"] == image["size"]
    response = admin.session.get(f"{admin.compute_url}/images/nope")
    assert response.status_code == 404


def test_unknown_server_action_is_400(admin, image):
    server = admin.create_server("vm", image["id"], "42")
    response = admin.session.post(f"{admin.compute_url}/servers/{server['id']}/action",
                                  json={"os-explode": None})
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"] == "There is no such action: os-explode"
