"""mininova-image end to end: its Flask app through Flask's test client, and a
real waitress server driven by the client other services use
(``mininova.image.glance.API``). Real SQLite, real files, real qemu-img."""

import hashlib
import io
import json
import logging
import os
import re
import socket
import threading
import time
import uuid

import jsonschema
import pytest
from waitress.buffers import ReadOnlyFileBasedBuffer
from werkzeug.test import EnvironBuilder

from mininova import context as mn_context
from mininova import exception, processutils, utils
from mininova.conf import CONF
from mininova.db import api as db_api
from mininova.image import glance
from mininova.image.service import app as image_app
from mininova.image.service import models

ADMIN = {"X-Auth-Token": "admin:admin"}
ALICE = {"X-Auth-Token": "alice:project-a"}
BOB = {"X-Auth-Token": "bob:project-b"}
OCTET_STREAM = {"Content-Type": "application/octet-stream"}
SIXTEEN_MIB = 16 * 1024 * 1024


# --- fixtures -------------------------------------------------------------------

@pytest.fixture
def http(image_conf):
    """Flask's test client on a fresh mininova-image app."""
    return image_app.create_app().test_client()


@pytest.fixture
def qcow2_bytes(tmp_path):
    path = tmp_path / "x.qcow2"
    utils.execute("qemu-img", "create", "-f", "qcow2", str(path), "16M")
    return path.read_bytes()


# --- helpers ----------------------------------------------------------------------

def create(http, headers=ALICE, **body):
    body.setdefault("name", "cirros")
    body.setdefault("disk_format", "qcow2")
    response = http.post("/v2/images", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def upload(http, image_id, data, headers=ALICE):
    return http.put(f"/v2/images/{image_id}/file", data=data,
                    headers={**headers, **OCTET_STREAM})


def show(http, image_id, headers=ALICE):
    return http.get(f"/v2/images/{image_id}", headers=headers)


def md5(data):
    return hashlib.md5(data).hexdigest()


def wait_for_record(caplog, text, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in caplog.records:
            if text in record.getMessage():
                return record
        time.sleep(0.01)
    raise AssertionError(f"no log record with {text!r}")


def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- versions and authentication ----------------------------------------------------

def test_versions_need_no_token(http):
    assert http.get("/").status_code == 300
    response = http.get("/versions")
    assert response.status_code == 200
    (version,) = response.get_json()["versions"]
    assert (version["id"], version["status"]) == ("v2.9", "CURRENT")


@pytest.mark.parametrize("headers", [{}, {"X-Auth-Token": "alice"}, {"X-Auth-Token": ":p"}])
def test_missing_or_malformed_token_is_401(http, headers):
    response = http.get("/v2/images", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == 401
    assert response.get_json()["error"]["title"] == "Unauthorized"


# --- creating images ------------------------------------------------------------------

def test_create_gives_a_queued_image_in_glance_shape(http):
    image = create(http, name="cirros", min_disk=1, min_ram=64, hw_architecture="x86_64")

    assert uuid.UUID(image["id"])
    assert image["status"] == "queued"
    assert image["size"] is None and image["virtual_size"] is None
    assert image["checksum"] is None
    assert (image["disk_format"], image["container_format"]) == ("qcow2", "bare")
    assert (image["min_disk"], image["min_ram"]) == (1, 64)
    assert image["visibility"] == "private"
    assert image["owner"] == "project-a"
    assert image["protected"] is False and image["tags"] == []
    assert image["hw_architecture"] == "x86_64"
    assert image["self"] == f"/v2/images/{image['id']}"
    assert image["file"] == f"/v2/images/{image['id']}/file"
    assert image["schema"] == "/v2/schemas/image"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", image["created_at"])
    assert show(http, image["id"]).get_json() == image


def test_admin_images_are_public_by_default(http):
    assert create(http, headers=ADMIN)["visibility"] == "public"


def test_create_with_a_chosen_id_and_its_reuse(http):
    image_id = str(uuid.uuid4())
    assert create(http, id=image_id)["id"] == image_id
    response = http.post("/v2/images", json={"id": image_id, "disk_format": "raw"},
                         headers=ALICE)
    assert response.status_code == 409


@pytest.mark.parametrize("body", [
    {"disk_format": "exe"},
    {"disk_format": None},
    {"container_format": "ovf"},
    {"min_disk": -1},
    {"min_ram": "64"},
    {"min_disk": True},
    {"name": "x" * 256},
    {"visibility": "shared"},
    {"hw_architecture": 64},
    {"tags": "not-a-list"},
])
def test_invalid_create_requests_are_400(http, body):
    body = {"name": "bad", "disk_format": "raw", **body}
    response = http.post("/v2/images", json=body, headers=ALICE)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["message"]


@pytest.mark.parametrize("body", [{"status": "active"}, {"size": 1}, {"visibility": "public"}])
def test_forbidden_create_requests_are_403(http, body):
    response = http.post("/v2/images", json={"disk_format": "raw", **body}, headers=ALICE)
    assert response.status_code == 403


def test_non_json_body_is_400(http):
    response = http.post("/v2/images", data=b"{not json", headers=ALICE)
    assert response.status_code == 400


# --- uploading --------------------------------------------------------------------------

def test_qcow2_upload_makes_the_image_active(http, qcow2_bytes, store_dir):
    image = create(http, disk_format="qcow2")

    response = upload(http, image["id"], qcow2_bytes)

    assert response.status_code == 204, response.get_json()
    image = show(http, image["id"]).get_json()
    assert image["status"] == "active"
    assert image["size"] == len(qcow2_bytes)
    assert image["virtual_size"] == SIXTEEN_MIB
    assert image["checksum"] == md5(qcow2_bytes)
    assert image["os_hash_algo"] == "sha512"
    assert image["os_hash_value"] == hashlib.sha512(qcow2_bytes).hexdigest()
    assert os.listdir(store_dir) == [image["id"]]


@pytest.fixture
def direct_urls_shown(image_conf):
    image_conf.set_override("show_image_direct_url", True, "image_service")
    yield
    image_conf.clear_override("show_image_direct_url", "image_service")


def test_direct_url_is_hidden_by_default(http, qcow2_bytes):
    image = create(http)
    assert upload(http, image["id"], qcow2_bytes).status_code == 204

    assert "direct_url" not in show(http, image["id"]).get_json()


def test_direct_url_of_an_active_image_when_shown(http, qcow2_bytes, store_dir,
                                                  direct_urls_shown):
    image = create(http)
    # No data, no location (Glance's answer too).
    assert "direct_url" not in image
    assert upload(http, image["id"], qcow2_bytes).status_code == 204

    location = f"file://{os.path.abspath(store_dir)}/{image['id']}"
    assert show(http, image["id"]).get_json()["direct_url"] == location
    listed = http.get("/v2/images", headers=ALICE).get_json()["images"]
    assert [i["direct_url"] for i in listed if i["id"] == image["id"]] == [location]
    # Read-only, as the other fields only the service sets.
    patch = [{"op": "replace", "path": "/direct_url", "value": "file:///etc/shadow"}]
    response = http.patch(f"/v2/images/{image['id']}", data=json.dumps(patch), headers={
        **ALICE, "Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert response.status_code == 403


def test_raw_upload_virtual_size_is_its_size(http, store_dir):
    data = os.urandom(3 * 1024 * 1024 + 17)  # several 1 MiB chunks and a bit
    image = create(http, disk_format="raw")

    assert upload(http, image["id"], data).status_code == 204

    image = show(http, image["id"]).get_json()
    assert (image["status"], image["size"], image["virtual_size"]) == (
        "active", len(data), len(data))
    with open(os.path.join(store_dir, image["id"]), "rb") as stored:
        assert stored.read() == data


def test_raw_data_declared_qcow2_is_rejected_and_killed(http, store_dir):
    image = create(http, disk_format="qcow2")

    response = upload(http, image["id"], os.urandom(100_000))

    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert message == (f"Image {image['id']} was rejected: format is raw, not the declared "
                       f"qcow2. Its status is now killed: create a new image.")
    assert store_dir not in message  # our paths are not the uploader's business
    assert show(http, image["id"]).get_json()["status"] == "killed"
    assert os.listdir(store_dir) == []
    # A killed image never gets data.
    assert upload(http, image["id"], b"x").status_code == 409


def test_qcow2_data_declared_raw_is_rejected(http, qcow2_bytes, store_dir):
    image = create(http, disk_format="raw")

    response = upload(http, image["id"], qcow2_bytes)

    assert response.status_code == 400
    assert "qcow2" in response.get_json()["error"]["message"]
    assert show(http, image["id"]).get_json()["status"] == "killed"
    assert os.listdir(store_dir) == []


def test_qcow2_with_a_backing_file_is_rejected(http, tmp_path, store_dir):
    base = tmp_path / "base.raw"
    base.write_bytes(b"\0" * 1024)
    overlay = tmp_path / "overlay.qcow2"
    utils.execute("qemu-img", "create", "-f", "qcow2", "-b", str(base), "-F", "raw",
                  str(overlay), "1M")
    image = create(http, disk_format="qcow2")

    response = upload(http, image["id"], overlay.read_bytes())

    assert response.status_code == 400
    assert "backing file" in response.get_json()["error"]["message"]
    assert os.listdir(store_dir) == []


def test_qemu_img_killed_by_its_limits_refuses_the_upload(http, qcow2_bytes, store_dir,
                                                          monkeypatch):
    """mininova-image runs qemu-img info through the compute's function, so
    under the same limits; a killed run is a refusal that says so."""
    def killed(*cmd, **kwargs):
        assert kwargs["limits"].cpu_time == 30
        assert kwargs["limits"].address_space == 2 * 1024 ** 3
        assert list(cmd[-5:-1]) == ["--force-share", "--output=json", "-f", "qcow2"]
        raise exception.ProcessLimitExceeded(cmd="qemu-img info",
                                             limit="CPU time limit (30 s)")

    monkeypatch.setattr(processutils, "execute", killed)
    image = create(http, disk_format="qcow2")

    response = upload(http, image["id"], qcow2_bytes)

    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == (
        f"Image {image['id']} was rejected: qemu-img cannot read it as qcow2: "
        f"{image['id']}.part: qemu-img info was stopped by its CPU time limit (30 s). "
        f"Its status "
        f"is now killed: create a new image.")
    assert show(http, image["id"]).get_json()["status"] == "killed"
    assert os.listdir(store_dir) == []


def test_upload_to_an_active_image_is_409(http):
    image = create(http, disk_format="raw")
    assert upload(http, image["id"], b"data").status_code == 204
    response = upload(http, image["id"], b"other")
    assert response.status_code == 409
    assert "from active to saving" in response.get_json()["error"]["message"]


def test_upload_must_be_octet_stream(http):
    image = create(http, disk_format="raw")
    response = http.put(f"/v2/images/{image['id']}/file", json={"a": 1}, headers=ALICE)
    assert response.status_code == 415
    assert show(http, image["id"]).get_json()["status"] == "queued"


def test_only_the_owner_may_upload(http):
    image = create(http, headers=ADMIN, disk_format="raw")  # public: alice sees it
    assert upload(http, image["id"], b"data", headers=ALICE).status_code == 403
    assert show(http, image["id"]).get_json()["status"] == "queued"


def test_client_disconnecting_mid_upload_kills_the_image(http, store_dir):
    image = create(http, disk_format="raw")

    # The body ends long before the announced Content-Length.
    response = http.put(f"/v2/images/{image['id']}/file",
                        input_stream=io.BytesIO(b"x" * 1000), headers={**ALICE, **OCTET_STREAM},
                        environ_overrides={"CONTENT_LENGTH": "5000000"})

    assert response.status_code == 400
    assert "disconnected" in response.get_json()["error"]["message"]
    assert show(http, image["id"]).get_json()["status"] == "killed"
    assert os.listdir(store_dir) == []


def test_restart_kills_uploads_left_saving(image_conf, store_dir):
    first_app = image_app.create_app()
    image = create(first_app.test_client(), disk_format="raw")
    engine = db_api.get_engine(image_conf.image_service.connection)
    models.image_update(engine, image["id"], {"status": models.SAVING})
    partial = os.path.join(store_dir, image["id"] + ".part")
    with open(partial, "wb") as part:
        part.write(b"half an image")

    restarted = image_app.create_app().test_client()

    assert show(restarted, image["id"]).get_json()["status"] == "killed"
    assert not os.path.exists(partial)


# --- listing, showing, visibility, deleting ------------------------------------------------

def test_list_is_newest_first_with_filters(http):
    first = create(http, name="one", disk_format="raw")
    second = create(http, name="two", disk_format="raw")
    third = create(http, name="two", disk_format="raw")
    assert upload(http, first["id"], b"data").status_code == 204

    body = http.get("/v2/images", headers=ALICE).get_json()
    assert [i["id"] for i in body["images"]] == [third["id"], second["id"], first["id"]]
    assert (body["first"], body["schema"]) == ("/v2/images", "/v2/schemas/images")

    named = http.get("/v2/images?name=two", headers=ALICE).get_json()["images"]
    assert [i["id"] for i in named] == [third["id"], second["id"]]
    active = http.get("/v2/images?status=active", headers=ALICE).get_json()["images"]
    assert [i["id"] for i in active] == [first["id"]]
    assert http.get("/v2/images?status=bogus", headers=ALICE).status_code == 400


def test_private_images_are_invisible_to_other_projects(http):
    private = create(http, headers=ALICE, disk_format="raw")
    public = create(http, headers=ADMIN, disk_format="raw")

    response = show(http, private["id"], headers=BOB)
    assert response.status_code == 404
    assert response.get_json() == {"error": {
        "code": 404, "title": "Not Found",
        "message": f"No image found with ID {private['id']}"}}
    assert http.get(f"/v2/images/{private['id']}/file", headers=BOB).status_code == 404
    assert http.delete(f"/v2/images/{private['id']}", headers=BOB).status_code == 404
    listed = http.get("/v2/images", headers=BOB).get_json()["images"]
    assert [i["id"] for i in listed] == [public["id"]]
    assert show(http, public["id"], headers=BOB).status_code == 200
    assert http.delete(f"/v2/images/{public['id']}", headers=BOB).status_code == 403
    # The admin sees everything, as in Glance.
    assert show(http, private["id"], headers=ADMIN).status_code == 200


def test_unknown_image_is_404(http):
    assert show(http, str(uuid.uuid4())).status_code == 404
    assert show(http, "../../etc/passwd").status_code == 404


def test_the_image_schemas_are_served_as_glance_serves_them(http):
    """glanceclient builds its image model from /v2/schemas/image before
    it shows or lists an image (Rally's image lookup 404ed without it)."""
    image_schema = http.get("/v2/schemas/image", headers=ALICE)
    images_schema = http.get("/v2/schemas/images", headers=ALICE)

    assert image_schema.status_code == images_schema.status_code == 200
    schema = image_schema.get_json()
    assert schema["name"] == "image"
    assert schema["additionalProperties"] == {"type": "string"}
    assert {"rel": "describedby", "href": "{schema}"} in schema["links"]
    assert images_schema.get_json()["properties"]["images"]["items"] == schema
    assert http.get("/v2/schemas/image").status_code == 401


def test_every_image_shown_is_valid_against_the_served_schema(http, qcow2_bytes):
    """What glanceclient's validating model checks: each image the service
    shows, in each status, and the list, fit the schemas it serves."""
    image_schema = http.get("/v2/schemas/image", headers=ALICE).get_json()
    images_schema = http.get("/v2/schemas/images", headers=ALICE).get_json()
    queued = create(http, tags=["a", "b"], os_distro="cirros", min_ram=64)
    active = create(http, name=None)
    assert upload(http, active["id"], qcow2_bytes).status_code == 204
    killed = create(http, disk_format="qcow2")
    assert upload(http, killed["id"], b"not a qcow2").status_code == 400

    for image in (queued, active, killed):
        shown = show(http, image["id"]).get_json()
        jsonschema.validate(shown, image_schema)
    assert show(http, active["id"]).get_json()["status"] == "active"
    assert show(http, killed["id"]).get_json()["status"] == "killed"
    jsonschema.validate(http.get("/v2/images", headers=ALICE).get_json(), images_schema)
    # A custom property is a string, as the schema says: a number is refused.
    assert http.post("/v2/images", json={"disk_format": "raw", "os_version": 12},
                     headers=ALICE).status_code == 400


def test_delete_removes_the_file_and_hides_the_image(http, store_dir):
    image = create(http, disk_format="raw")
    assert upload(http, image["id"], b"data").status_code == 204

    assert http.delete(f"/v2/images/{image['id']}", headers=ALICE).status_code == 204

    assert os.listdir(store_dir) == []
    assert show(http, image["id"]).status_code == 404
    assert http.get("/v2/images", headers=ALICE).get_json()["images"] == []
    assert http.delete(f"/v2/images/{image['id']}", headers=ALICE).status_code == 404


def test_protected_image_cannot_be_deleted(http):
    image = create(http, disk_format="raw", protected=True)
    assert http.delete(f"/v2/images/{image['id']}", headers=ALICE).status_code == 403
    assert show(http, image["id"]).status_code == 200


# --- updating with a JSON patch ---------------------------------------------------------------

JSON_PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}


def patch(http, image_id, operations, headers=ALICE):
    return http.patch(f"/v2/images/{image_id}", data=json.dumps(operations),
                      headers={**headers, **JSON_PATCH})


def test_patch_updates_fields_and_custom_properties(http):
    image = create(http, name="old", disk_format="raw", hw_architecture="x86_64",
                   os_distro="debian")

    response = patch(http, image["id"], [
        {"op": "replace", "path": "/name", "value": "new"},
        {"op": "replace", "path": "/min_disk", "value": 2},
        {"op": "add", "path": "/min_ram", "value": 128},
        {"op": "replace", "path": "/hw_architecture", "value": "aarch64"},
        {"op": "add", "path": "/hw_disk_bus", "value": "virtio"},
        {"op": "remove", "path": "/os_distro"},
        {"op": "add", "path": "/a~1b", "value": "escaped slash"},
    ])

    assert response.status_code == 200, response.get_json()
    updated = response.get_json()
    assert (updated["name"], updated["min_disk"], updated["min_ram"]) == ("new", 2, 128)
    assert updated["hw_architecture"] == "aarch64"
    assert updated["hw_disk_bus"] == "virtio"
    assert updated["a/b"] == "escaped slash"
    assert "os_distro" not in updated
    assert show(http, image["id"]).get_json() == updated


def test_patch_of_visibility(http):
    image = create(http, disk_format="raw")

    response = patch(http, image["id"], [{"op": "replace", "path": "/visibility",
                                          "value": "public"}])
    assert response.status_code == 403
    assert response.get_json()["error"]["message"] == "Only the admin may make an image public."

    response = patch(http, image["id"], [{"op": "replace", "path": "/visibility",
                                          "value": "public"}], headers=ADMIN)
    assert response.status_code == 200
    assert show(http, image["id"], headers=BOB).get_json()["visibility"] == "public"
    response = patch(http, image["id"], [{"op": "replace", "path": "/visibility",
                                          "value": "shared"}])
    assert response.status_code == 400


def test_only_the_owner_or_the_admin_may_patch(http):
    private = create(http, disk_format="raw")
    public = create(http, headers=ADMIN, disk_format="raw")
    rename = [{"op": "replace", "path": "/name", "value": "mine now"}]

    assert patch(http, private["id"], rename, headers=BOB).status_code == 404
    assert patch(http, public["id"], rename, headers=BOB).status_code == 403
    assert patch(http, private["id"], rename, headers=ADMIN).status_code == 200
    assert show(http, public["id"]).get_json()["name"] == "cirros"


@pytest.mark.parametrize("path", ["/status", "/size", "/virtual_size", "/checksum",
                                  "/os_hash_value", "/owner", "/id", "/created_at", "/file"])
def test_patch_of_a_read_only_field_is_403(http, path):
    image = create(http, disk_format="raw")
    response = patch(http, image["id"], [{"op": "replace", "path": path, "value": "x"}])
    assert response.status_code == 403
    assert response.get_json()["error"]["message"] == f"Attribute '{path[1:]}' is read-only."


@pytest.mark.parametrize("operations, code, message", [
    ([{"op": "move", "from": "/a", "path": "/b"}], 400,
     "Operation 'move' is not supported: use one of add, replace, remove."),
    ([{"op": "test", "path": "/name", "value": "x"}], 400,
     "Operation 'test' is not supported: use one of add, replace, remove."),
    ([{"op": "replace", "path": "/locations/0", "value": "x"}], 400,
     "Invalid path '/locations/0': it must name one attribute, as in '/name'."),
    ([{"op": "replace", "path": "name", "value": "x"}], 400,
     "Invalid path 'name': it must name one attribute, as in '/name'."),
    ([{"op": "replace", "path": "/name"}], 400, "Operation 'replace' on /name needs a 'value'."),
    ([{"op": "replace", "path": "/min_ram", "value": "64"}], 400,
     "Invalid value '64' for 'min_ram': it must be an integer >= 0."),
    ([{"op": "add", "path": "/hw_x", "value": 64}], 400,
     "Invalid value for property 'hw_x': custom properties are strings of at most 65535 "
     "characters."),
    ({"op": "replace", "path": "/name", "value": "x"}, 400,
     'A JSON patch must be a list of objects such as {"op": "replace", "path": "/name", '
     '"value": "cirros"}.'),
    ([{"op": "remove", "path": "/name"}], 403,
     "Attribute 'name' cannot be removed: it is not a custom property."),
    ([{"op": "add", "path": "/os_distro", "value": "x"}], 409,
     "Property 'os_distro' already exists: use replace."),
    ([{"op": "replace", "path": "/hw_x", "value": "x"}], 409,
     "Property 'hw_x' does not exist: use add."),
    ([{"op": "remove", "path": "/hw_x"}], 409, "Property 'hw_x' does not exist."),
])
def test_invalid_patches(http, operations, code, message):
    image = create(http, disk_format="raw", os_distro="debian")

    response = patch(http, image["id"], operations)

    assert response.status_code == code
    assert response.get_json()["error"]["message"] == message
    assert show(http, image["id"]).get_json() == image


def test_a_patch_is_applied_whole_or_not_at_all(http):
    image = create(http, name="before", disk_format="raw")

    response = patch(http, image["id"], [
        {"op": "replace", "path": "/name", "value": "after"},
        {"op": "replace", "path": "/status", "value": "active"},
    ])

    assert response.status_code == 403
    assert show(http, image["id"]).get_json()["name"] == "before"


def test_patch_needs_the_json_patch_media_type(http):
    image = create(http, disk_format="raw")
    response = http.patch(f"/v2/images/{image['id']}", headers=ALICE,
                          json=[{"op": "replace", "path": "/name", "value": "x"}])
    assert response.status_code == 415


def test_disk_format_can_change_only_while_queued(http):
    image = create(http, disk_format="qcow2")
    to_raw = [{"op": "replace", "path": "/disk_format", "value": "raw"}]

    assert patch(http, image["id"], to_raw).get_json()["disk_format"] == "raw"
    # The data is then checked against the new format.
    assert upload(http, image["id"], b"raw bytes").status_code == 204

    response = patch(http, image["id"], [{"op": "replace", "path": "/disk_format",
                                          "value": "qcow2"}])
    assert response.status_code == 403
    assert response.get_json()["error"]["message"] == (
        "Attribute 'disk_format' can change only while the image is queued: its data was "
        "checked as raw.")


def test_patch_of_a_deleted_image_is_404(http):
    image = create(http, disk_format="raw")
    assert http.delete(f"/v2/images/{image['id']}", headers=ALICE).status_code == 204
    rename = [{"op": "replace", "path": "/name", "value": "x"}]
    assert patch(http, image["id"], rename).status_code == 404


def test_update_from_a_stale_read_is_refused(image_conf, http):
    """The compare-and-swap behind PATCH: a write based on an old read of
    the image does not happen."""
    image = create(http, disk_format="raw")
    engine = db_api.get_engine(image_conf.image_service.connection)
    stale = models.image_get(engine, image["id"])
    models.image_update(engine, image["id"], {"properties": {"a": "1"}},
                        expected_updated_at=stale["updated_at"])

    again = models.image_update(engine, image["id"], {"properties": {"b": "2"}},
                                expected_updated_at=stale["updated_at"])

    assert again is None
    assert models.image_get(engine, image["id"])["properties"] == {"a": "1"}


# --- downloading through the test client -----------------------------------------------------

def test_download_streams_the_data_with_its_checksum(http):
    data = os.urandom(2 * 1024 * 1024 + 5)
    image = create(http, disk_format="raw")
    assert http.get(f"/v2/images/{image['id']}/file", headers=ALICE).status_code == 204
    assert upload(http, image["id"], data).status_code == 204

    response = http.get(f"/v2/images/{image['id']}/file", headers=ALICE)

    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["Content-MD5"] == md5(data)


def test_a_download_hands_waitress_the_file_itself_and_logs_when_it_is_closed(http, caplog):
    """waitress sends a body that is its own file wrapper straight from the
    file; wrapped in anything else (an iterator that logs at the end, as
    the download was until 1 Dec 2026), it copies the body through a
    temporary file of its own, 32 KiB at a time."""
    data = os.urandom(1024 * 1024)
    image = create(http, disk_format="raw")
    assert upload(http, image["id"], data).status_code == 204
    caplog.set_level(logging.INFO, logger="mininova.image.service.app")
    environ = EnvironBuilder(path=f"/v2/images/{image['id']}/file", headers=ALICE).get_environ()
    environ["wsgi.file_wrapper"] = ReadOnlyFileBasedBuffer

    body = http.application(environ, lambda status, headers: None)

    assert isinstance(body, ReadOnlyFileBasedBuffer)
    assert body.prepare() == len(data) and body.get(len(data)) == data
    assert not [r for r in caplog.records if "status:" in r.getMessage()]
    body.close()  # what waitress does once the last byte is sent
    (line,) = [r.getMessage() for r in caplog.records if "status:" in r.getMessage()]
    assert f'"GET /v2/images/{image["id"]}/file" status: 200 len: {len(data)}' in line


# --- request ids and the access log ------------------------------------------------------------

def test_request_id_is_honoured_and_logged(http, caplog):
    request_id = f"req-{uuid.uuid4()}"
    caplog.set_level(logging.INFO, logger="mininova.image.service.app")

    response = http.get("/v2/images?name=x", headers={**ALICE,
                                                      "X-OpenStack-Request-ID": request_id})
    response.close()

    assert response.headers["x-openstack-request-id"] == request_id
    (line,) = [r for r in caplog.records if "status:" in r.getMessage()]
    assert re.fullmatch(r'127\.0\.0\.1 "GET /v2/images\?name=x" status: 200 len: \d+ '
                        r"time: \d+\.\d{7}", line.getMessage())
    assert line.context.request_id == request_id


def test_malformed_request_id_is_replaced(http):
    response = http.get("/v2/images", headers={**ALICE, "X-OpenStack-Request-ID": "req-evil"})
    assert re.fullmatch(r"req-[0-9a-f-]{36}", response.headers["x-openstack-request-id"])


# --- the glance client against a real server -----------------------------------------------------

def test_client_round_trip(image_server, alice, qcow2_bytes, tmp_path):
    api = glance.API()
    source = tmp_path / "upload.qcow2"
    source.write_bytes(qcow2_bytes)

    image = api.create(alice, "cirros", "qcow2", min_disk=1,
                       properties={"hw_architecture": "x86_64"})
    assert image["status"] == "queued"
    with open(source, "rb") as data:
        image = api.upload(alice, image["id"], data, size=len(qcow2_bytes))

    assert image["status"] == "active"
    assert image["checksum"] == md5(qcow2_bytes)
    assert image["virtual_size"] == SIXTEEN_MIB
    assert image["hw_architecture"] == "x86_64"
    assert api.show(alice, image["id"]) == image
    assert [i["id"] for i in api.get_all(alice, name="cirros")] == [image["id"]]
    assert api.get_all(alice, name="other") == []

    target = tmp_path / "downloaded"
    assert api.download(alice, image["id"], str(target)) == len(qcow2_bytes)
    assert target.read_bytes() == qcow2_bytes

    assert api.delete(alice, image["id"]) is True
    with pytest.raises(exception.ImageNotFound):
        api.show(alice, image["id"])


def test_client_update(image_server, alice):
    api = glance.API()
    image = api.create(alice, "old", "raw", properties={"os_distro": "debian",
                                                        "hw_disk_bus": "ide"})

    image = api.update(alice, image["id"], {"name": "new", "min_ram": 64,
                                            "hw_disk_bus": "virtio",
                                            "hw_architecture": "x86_64"},
                       remove_props=["os_distro"])

    assert (image["name"], image["min_ram"]) == ("new", 64)
    assert (image["hw_disk_bus"], image["hw_architecture"]) == ("virtio", "x86_64")
    assert "os_distro" not in image
    assert api.show(alice, image["id"]) == image
    bob = mn_context.RequestContext(user_id="bob", project_id="project-b")
    with pytest.raises(exception.ImageNotFound):
        api.update(bob, image["id"], {"name": "stolen"})
    with pytest.raises(exception.Forbidden, match="read-only"):
        api.update(alice, image["id"], {"status": "active"})


def test_client_uploads_an_iterable_chunked(image_server, alice, tmp_path):
    api = glance.API()
    chunks = [os.urandom(700_000) for _ in range(3)]
    image = api.create(alice, "raw", "raw")

    image = api.upload(alice, image["id"], iter(chunks))

    data = b"".join(chunks)
    assert (image["status"], image["size"], image["checksum"]) == (
        "active", len(data), md5(data))
    target = tmp_path / "downloaded"
    api.download(alice, image["id"], str(target), expected_checksum=md5(data))
    assert target.read_bytes() == data


def test_client_rejected_upload_says_why(image_server, alice):
    api = glance.API()
    image = api.create(alice, "bad", "qcow2")
    with pytest.raises(exception.Invalid, match="format is raw, not the declared qcow2"):
        api.upload(alice, image["id"], io.BytesIO(b"\0" * 4096))
    assert api.show(alice, image["id"])["status"] == "killed"


def test_client_sees_no_private_image_of_another_project(image_server, alice):
    api = glance.API()
    image = api.create(alice, "mine", "raw")
    bob = mn_context.RequestContext(user_id="bob", project_id="project-b")
    with pytest.raises(exception.ImageNotFound):
        api.show(bob, image["id"])


def test_download_of_a_tampered_file_fails_and_leaves_nothing(image_server, alice, store_dir,
                                                              tmp_path):
    api = glance.API()
    image = api.create(alice, "raw", "raw")
    api.upload(alice, image["id"], io.BytesIO(b"good data" * 1000))
    with open(os.path.join(store_dir, image["id"]), "r+b") as stored:
        stored.write(b"EVIL")
    target = tmp_path / "downloaded"

    with pytest.raises(exception.ImageDataInvalid, match="checksum mismatch"):
        api.download(alice, image["id"], str(target))

    assert not target.exists()


def test_download_checks_the_multihash_when_the_image_has_one(image_server, alice,
                                                             store_dir, tmp_path):
    # The file altered and its md5 updated to match: the sha512 still tells.
    api = glance.API()
    image = api.create(alice, "raw", "raw")
    api.upload(alice, image["id"], io.BytesIO(b"good data" * 1000))
    evil = b"EVIL" + b"good data" * 1000
    with open(os.path.join(store_dir, image["id"]), "wb") as stored:
        stored.write(evil)
    models.image_update(db_api.get_engine(CONF.image_service.connection), image["id"],
                        {"checksum": md5(evil), "size": len(evil)})
    record = api.show(alice, image["id"])
    assert record["os_hash_algo"] == "sha512"
    target = tmp_path / "downloaded"

    with pytest.raises(exception.ImageDataInvalid,
                       match=f"checksum mismatch: the downloaded data has sha512 "
                             f"{hashlib.sha512(evil).hexdigest()}, expected "
                             f"{record['os_hash_value']}"):
        api.download(alice, image["id"], str(target), image_meta=record)

    assert not target.exists()


def test_download_of_an_image_without_a_multihash_checks_its_md5(image_server, alice,
                                                                  store_dir, tmp_path):
    api = glance.API()
    image = api.create(alice, "raw", "raw")
    api.upload(alice, image["id"], io.BytesIO(b"good data" * 1000))
    with open(os.path.join(store_dir, image["id"]), "r+b") as stored:
        stored.write(b"EVIL")
    record = dict(api.show(alice, image["id"]), os_hash_algo=None, os_hash_value=None)
    target = tmp_path / "downloaded"

    with pytest.raises(exception.ImageDataInvalid, match="has md5 .*, expected "
                                                         f"{record['checksum']}"):
        api.download(alice, image["id"], str(target), image_meta=record)

    assert not target.exists()


def test_download_with_a_wrong_expected_checksum_fails(image_server, alice, tmp_path):
    api = glance.API()
    image = api.create(alice, "raw", "raw")
    api.upload(alice, image["id"], io.BytesIO(b"data"))
    target = tmp_path / "downloaded"

    with pytest.raises(exception.ImageDataInvalid, match="checksum mismatch"):
        api.download(alice, image["id"], str(target), expected_checksum="0" * 32)

    assert not target.exists()


def test_download_of_an_image_without_data_fails(image_server, alice, tmp_path):
    api = glance.API()
    image = api.create(alice, "empty", "raw")
    target = tmp_path / "downloaded"
    target.write_bytes(b"left over from an earlier try")

    with pytest.raises(exception.ImageDataInvalid, match="not active"):
        api.download(alice, image["id"], str(target))
    with pytest.raises(exception.ImageNotFound, match="could not be found"):
        api.download(alice, str(uuid.uuid4()), str(target))

    assert not target.exists()


def test_download_correlates_request_ids(image_server, alice, tmp_path, caplog):
    api = glance.API()
    image = api.create(alice, "raw", "raw")
    api.upload(alice, image["id"], io.BytesIO(b"data"))
    caplog.set_level(logging.INFO)

    api.download(alice, image["id"], str(tmp_path / "downloaded"))

    # The server logs once it has sent the last byte: maybe just after the
    # client got it.
    line = wait_for_record(caplog, '"GET /v2/images/' + image["id"] + '/file"')
    assert line.context.request_id == alice.request_id
    assert any("Image download" in r.getMessage() and "MB/s" in r.getMessage()
               for r in caplog.records)


def test_client_fails_over_to_the_next_server(image_server, alice):
    live = CONF.glance.api_servers[0]
    CONF.set_override("api_servers", [f"http://127.0.0.1:{unused_port()}", live], "glance")
    api = glance.API()
    image = api.create(alice, "x", "raw")
    assert api.show(alice, image["id"])["id"] == image["id"]


def test_unreachable_service(image_conf, alice, tmp_path):
    CONF.set_override("api_servers", [f"http://127.0.0.1:{unused_port()}"], "glance")
    try:
        api = glance.API()
        with pytest.raises(exception.ImageServiceUnavailable):
            api.show(alice, str(uuid.uuid4()))
        target = tmp_path / "downloaded"
        with pytest.raises(exception.ImageDownloadFailed, match="unavailable"):
            api.download(alice, str(uuid.uuid4()), str(target))
        assert not target.exists()
    finally:
        CONF.clear_override("api_servers", "glance")


def test_download_cut_short_fails_and_leaves_nothing(image_conf, alice, tmp_path):
    """A server that promises 1 MB, sends 10 bytes and hangs up."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve_one_short_answer():
        connection, _ = listener.accept()
        with connection:
            while b"\r\n\r\n" not in connection.recv(65536):
                pass
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                               b"Content-Length: 1000000\r\n\r\n0123456789")

    server = threading.Thread(target=serve_one_short_answer, daemon=True)
    server.start()
    CONF.set_override("api_servers", [f"http://127.0.0.1:{listener.getsockname()[1]}"],
                      "glance")
    target = tmp_path / "downloaded"
    try:
        with pytest.raises(exception.ImageDownloadFailed, match="image service broke"):
            glance.API().download(alice, str(uuid.uuid4()), str(target))
    finally:
        CONF.clear_override("api_servers", "glance")
        server.join(timeout=5)
        listener.close()
    assert not target.exists()


def test_upload_cut_short_under_waitress_leaves_the_image_queued(image_server, alice,
                                                                  store_dir):
    """waitress buffers a request's body before calling the application: an
    upload whose client hangs up half-way never reaches mininova-image."""
    image = glance.API().create(alice, "cut", "raw")
    with socket.create_connection(("127.0.0.1", image_server.port)) as connection:
        connection.sendall(
            f"PUT /v2/images/{image['id']}/file HTTP/1.1\r\nHost: x\r\n"
            f"X-Auth-Token: alice:project-a\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: 5000000\r\n\r\n".encode() + b"x" * 1_000_000)
    time.sleep(0.2)

    assert glance.API().show(alice, image["id"])["status"] == "queued"
    assert os.listdir(store_dir) == []
    # ... so the upload can simply be tried again.
    assert glance.API().upload(alice, image["id"], iter([b"data"]))["status"] == "active"
