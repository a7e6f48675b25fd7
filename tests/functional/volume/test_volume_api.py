"""mininova-volume's REST API through Flask's test client: Cinder's
versions, microversions, bodies, fault bodies and policy. Real SQLite and
real (sparse) volume files under tmp_path."""

import re
import uuid

import pytest

from mininova import context as mn_context
from mininova import utils
from tests.functional.volume.helpers import (
    ADMIN,
    DEMO,
    GIB,
    OTHER,
    fault,
    upload_image,
    wait_until,
)

INSTANCE = "7e1a4c5e-0000-4000-8000-000000000001"
OTHER_INSTANCE = "7e1a4c5e-0000-4000-8000-000000000002"
UNKNOWN = "00000000-0000-4000-8000-00000000dead"


# --- versions, identity, microversions ------------------------------------------------

def test_the_version_documents_need_no_token(http):
    root = http.client.get("/")
    assert root.status_code == 300
    v3 = http.client.get("/v3/")
    assert v3.status_code == 200
    (version,) = v3.get_json()["versions"]
    assert version["id"] == "v3.0" and version["status"] == "CURRENT"
    assert (version["min_version"], version["version"]) == ("3.0", "3.48")
    assert {"rel": "self", "href": "http://localhost/v3/"} in version["links"]
    assert root.get_json() == v3.get_json()


def test_no_token_is_401(http):
    response = http.client.get("/v3/demo/volumes")
    assert response.status_code == 401
    assert fault(response)[:2] == ("unauthorized", 401)


def test_the_url_names_the_callers_project(http):
    response = http.get("/v3/other/volumes", raw_path=True)
    assert fault(response) == ("badRequest", 400, "Malformed request url")


def test_every_answer_says_its_microversion(http):
    assert http.get("/volumes", version="none").headers["OpenStack-API-Version"] == "volume 3.0"
    response = http.get("/volumes", version="3.44")
    assert response.headers["OpenStack-API-Version"] == "volume 3.44"
    assert response.headers["Vary"] == "OpenStack-API-Version"
    assert re.fullmatch(r"req-[0-9a-f-]{36}", response.headers["x-openstack-request-id"])


def test_a_microversion_out_of_range_is_406_and_a_bad_one_400(http):
    response = http.get("/volumes", version="3.49")
    assert fault(response) == ("computeFault", 406, "Version 3.49 is not supported by the API. "
                                                    "Minimum is 3.0 and maximum is 3.48.")
    assert fault(http.get("/volumes", version="3.x"))[:2] == ("badRequest", 400)


def test_an_incoming_request_id_is_used(http):
    request_id = f"req-{uuid.uuid4()}"
    response = http.client.get("/v3/demo/volumes", headers={
        "X-Auth-Token": DEMO, "X-OpenStack-Request-ID": request_id})
    assert response.headers["x-openstack-request-id"] == request_id
    assert response.headers["x-compute-request-id"] == request_id


# --- volumes: create, show, list ----------------------------------------------------------

def test_a_blank_volume_in_cinders_shape(http):
    volume = http.create_volume(name="v1", description="data", metadata={"k": "v"})

    assert volume["status"] == "available"
    assert (volume["size"], volume["name"], volume["description"]) == (1, "v1", "data")
    assert volume["volume_type"] == "__DEFAULT__"
    assert volume["availability_zone"] == "nova"
    assert volume["bootable"] == "false" and volume["encrypted"] is False
    assert volume["multiattach"] is False and volume["attachments"] == []
    assert volume["metadata"] == {"k": "v"}
    assert volume["user_id"] == "demo"
    assert volume["os-vol-tenant-attr:tenant_id"] == "demo"
    assert "os-vol-host-attr:host" not in volume  # the admin's only
    assert volume["shared_targets"] is False and volume["service_uuid"] is None
    assert volume["group_id"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", volume["created_at"])
    assert volume["links"][0] == {
        "href": f"http://localhost/v3/demo/volumes/{volume['id']}", "rel": "self"}


def test_fields_follow_the_microversion(http):
    volume = http.create_volume()
    old = http.get(f"/volumes/{volume['id']}", version="3.0").get_json()["volume"]
    assert "shared_targets" not in old and "group_id" not in old
    assert "group_id" in http.get(f"/volumes/{volume['id']}", version="3.13").get_json()["volume"]


def test_the_admin_sees_the_host_and_any_projects_volume(http):
    volume = http.create_volume()
    shown = http.volume(volume["id"], user=ADMIN)
    assert shown["os-vol-host-attr:host"].endswith("@file#file")
    assert "os-vol-mig-status-attr:migstat" in shown


def test_another_projects_volume_is_404(http):
    volume = http.create_volume()
    response = http.get(f"/volumes/{volume['id']}", user=OTHER)
    assert fault(response) == ("itemNotFound", 404,
                               f"Volume {volume['id']} could not be found.")
    assert http.get("/volumes", user=OTHER).get_json() == {"volumes": []}


def test_lists_summary_detail_filters_and_all_tenants(http):
    first = http.create_volume(name="a")
    second = http.create_volume(name="b")
    http.create_volume(user=OTHER, name="c")

    summary = http.get("/volumes").get_json()["volumes"]
    assert [v["id"] for v in summary] == [second["id"], first["id"]]  # newest first
    assert set(summary[0]) == {"id", "name", "links"}
    detail = http.get("/volumes/detail?name=a").get_json()["volumes"]
    assert [v["id"] for v in detail] == [first["id"]]
    assert http.get("/volumes?status=error").get_json()["volumes"] == []
    assert len(http.get("/volumes?all_tenants=1", user=ADMIN).get_json()["volumes"]) == 3
    # all_tenants from a non-admin is the caller's own project, as in Cinder.
    assert len(http.get("/volumes?all_tenants=1").get_json()["volumes"]) == 2


def test_pagination_and_count(http):
    ids = [http.create_volume()["id"] for _ in range(3)]
    page = http.get("/volumes?limit=2").get_json()
    assert [v["id"] for v in page["volumes"]] == ids[::-1][:2]
    next_href = page["volumes_links"][0]["href"]
    marker = next_href.split("marker=")[1]
    rest = http.get(f"/volumes?limit=2&marker={marker}").get_json()
    assert [v["id"] for v in rest["volumes"]] == [ids[0]] and "volumes_links" not in rest
    assert http.get("/volumes?with_count=true").get_json()["count"] == 3
    assert "count" not in http.get("/volumes?with_count=true", version="3.44").get_json()


def test_update_name_description_metadata(http):
    volume = http.create_volume(name="old")
    response = http.put(f"/volumes/{volume['id']}", json={"volume": {
        "name": "new", "description": "d", "metadata": {"a": "b"}}})
    assert response.status_code == 200
    updated = response.get_json()["volume"]
    assert (updated["name"], updated["description"], updated["metadata"]) == (
        "new", "d", {"a": "b"})


# --- bad requests, in Cinder's words --------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ({"size": 0}, "Invalid input received: Invalid volume size provided for create request: 0 "
                  "(size argument must be an integer (or string representation of an "
                  "integer) and greater than zero)."),
    ({}, "Invalid input received: Invalid volume size provided for create request: None "
         "(size argument must be an integer (or string representation of an integer) and "
         "greater than zero)."),
    ({"size": 1, "multiattach": True},
     "multiattach parameter has been removed. The default behavior is to use multiattach "
     "enabled volume types. Contact your administrator to create a multiattach enabled "
     "volume type and use it to create multiattach volumes."),
    ({"size": 1, "availability_zone": "mars"},
     "Invalid input received: Availability zone 'mars' is invalid."),
])
def test_bad_creates_are_400(http, body, message):
    response = http.post("/volumes", json={"volume": body})
    assert fault(response) == ("badRequest", 400, message)


def test_a_body_without_volume_is_400(http):
    response = http.post("/volumes", json={"size": 1})
    assert fault(response) == ("badRequest", 400,
                               "Missing required element 'volume' in request body.")


def test_unknown_sources_are_404(http):
    response = http.post("/volumes", json={"volume": {"size": 1, "snapshot_id": UNKNOWN}})
    assert fault(response) == ("itemNotFound", 404, f"Snapshot {UNKNOWN} could not be found.")
    response = http.post("/volumes", json={"volume": {"size": 1, "source_volid": UNKNOWN}})
    assert fault(response) == ("itemNotFound", 404, f"Volume {UNKNOWN} could not be found.")
    response = http.post("/volumes", json={"volume": {"size": 1, "volume_type": "gold"}})
    assert fault(response) == ("itemNotFound", 404,
                               "Volume type with name gold could not be found.")


def test_an_unknown_image_is_cinders_400(http, image_server):
    response = http.post("/volumes", json={"volume": {"size": 1, "imageRef": UNKNOWN}})
    assert fault(response) == ("badRequest", 400, "Invalid image identifier or unable to "
                                                  "access requested image.")


def test_a_volume_smaller_than_the_image_is_400(http, image_server, tmp_path):
    image_path = tmp_path / "big.qcow2"
    utils.execute("qemu-img", "create", "-f", "qcow2", str(image_path), "2G")
    admin = mn_context.RequestContext(user_id="admin", project_id="admin", roles=["admin"])
    image = upload_image(image_path, "big", "qcow2", admin)
    assert image["virtual_size"] == 2 * GIB

    response = http.post("/volumes", json={"volume": {"size": 1, "imageRef": image["id"]}})
    assert fault(response) == (
        "badRequest", 400, f"Image {image['id']} is unacceptable: Image virtual size is 2GB "
                           f"and doesn't fit in a volume of size 1GB.")
    assert http.get("/volumes").get_json()["volumes"] == []
    # By name too, as Cinder finds an image.
    assert http.post("/volumes", json={"volume": {"size": 2, "imageRef": "big"}}
                     ).status_code == 202


# --- policy: the reader reads, the member acts, the admin does all -----------------------

def test_a_reader_reads_but_does_not_act(http):
    volume = http.create_volume()
    assert http.get(f"/volumes/{volume['id']}", roles="reader").status_code == 200
    response = http.post("/volumes", json={"volume": {"size": 1}}, roles="reader")
    assert fault(response) == ("forbidden", 403,
                               "Policy doesn't allow volume:create to be performed.")
    assert fault(http.delete(f"/volumes/{volume['id']}", roles="reader"))[1] == 403
    response = http.post("/attachments", roles="reader", json={"attachment": {
        "volume_uuid": volume["id"], "instance_uuid": INSTANCE}})
    assert fault(response) == ("forbidden", 403,
                               "Policy doesn't allow volume:attachment_create to be performed.")


def test_reset_status_is_the_admins(http):
    volume = http.create_volume()
    body = {"os-reset_status": {"status": "error"}}
    response = http.post(f"/volumes/{volume['id']}/action", json=body)
    assert fault(response)[:2] == ("forbidden", 403)
    response = http.post(f"/volumes/{volume['id']}/action", json=body, user=ADMIN)
    assert response.status_code == 202
    assert http.volume(volume["id"])["status"] == "error"


def test_the_admin_acts_on_another_projects_volume(http):
    volume = http.create_volume()
    assert http.delete(f"/volumes/{volume['id']}", user=ADMIN).status_code == 202
    http.wait_volume_gone(volume["id"])


# --- deleting and extending -------------------------------------------------------------------

def test_a_reserved_volume_cannot_be_deleted(http):
    volume = http.create_volume()
    http.post("/attachments", json={"attachment": {"volume_uuid": volume["id"],
                                                   "instance_uuid": INSTANCE}})
    response = http.delete(f"/volumes/{volume['id']}")
    assert fault(response) == (
        "badRequest", 400,
        "Invalid volume: Volume status must be available or error or error_restoring or "
        "error_extending or error_managing and must not be migrating, attached, belong to a "
        "group, have snapshots, awaiting a transfer, or be disassociated from snapshots "
        "after volume transfer.")


def test_delete_removes_the_volume_and_its_file(http, tmp_path):
    volume = http.create_volume()
    path = tmp_path / "volumes" / f"volume-{volume['id']}"
    assert path.exists()
    assert http.delete(f"/volumes/{volume['id']}").status_code == 202
    http.wait_volume_gone(volume["id"])
    assert not path.exists()


def test_extend(http, tmp_path):
    volume = http.create_volume()
    response = http.post(f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 1}})
    assert fault(response) == ("badRequest", 400, "Invalid input received: New size for extend "
                                                  "must be greater than current size. "
                                                  "(current: 1, extended: 1).")
    response = http.post(f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 3}})
    assert response.status_code == 202
    extended = http.wait_volume(volume["id"])
    assert extended["size"] == 3
    assert (tmp_path / "volumes" / f"volume-{volume['id']}").stat().st_size == 3 * GIB


def test_an_unknown_action_is_400(http):
    volume = http.create_volume()
    response = http.post(f"/volumes/{volume['id']}/action", json={"os-fly": None})
    assert fault(response)[:2] == ("badRequest", 400)
    assert "There is no such action: os-fly" in fault(response)[2]


# --- attachments: microversions and refusals ---------------------------------------------------

def test_attachments_need_3_27_and_completion_3_44(http):
    volume = http.create_volume()
    body = {"attachment": {"volume_uuid": volume["id"], "instance_uuid": INSTANCE}}
    response = http.post("/attachments", json=body, version="3.26")
    assert fault(response) == ("itemNotFound", 404, "The resource could not be found.")
    response = http.post("/attachments", json=body, version="3.27")
    assert response.status_code == 200
    attachment = response.get_json()["attachment"]
    assert attachment["status"] == "reserved" and attachment["connection_info"] == {}
    assert attachment["attached_at"] == "" and attachment["attach_mode"] == "null"
    action = http.post(f"/attachments/{attachment['id']}/action", json={"os-complete": None},
                       version="3.43")
    assert fault(action)[:2] == ("itemNotFound", 404)


def test_a_volume_attached_to_a_server_cannot_be_attached_to_another(http):
    volume = http.create_volume()
    http.post("/attachments", json={"attachment": {"volume_uuid": volume["id"],
                                                   "instance_uuid": INSTANCE}})
    response = http.post("/attachments", json={"attachment": {
        "volume_uuid": volume["id"], "instance_uuid": OTHER_INSTANCE}})
    assert fault(response) == ("badRequest", 400,
                               f"Invalid volume: Volume {volume['id']} status must be "
                               f"available to reserve, but the current status is reserved.")
    # The same server may: Nova moving it asks for a second attachment.
    response = http.post("/attachments", json={"attachment": {
        "volume_uuid": volume["id"], "instance_uuid": INSTANCE}})
    assert response.status_code == 200


def test_attachments_are_their_projects(http):
    volume = http.create_volume()
    attachment = http.post("/attachments", json={"attachment": {
        "volume_uuid": volume["id"], "instance_uuid": INSTANCE}}).get_json()["attachment"]
    response = http.get(f"/attachments/{attachment['id']}", user=OTHER)
    assert fault(response)[:2] == ("itemNotFound", 404)
    listed = http.get(f"/attachments?instance_id={INSTANCE}").get_json()["attachments"]
    assert listed == [{"id": attachment["id"], "status": "reserved", "instance": INSTANCE,
                       "volume_id": volume["id"]}]
    assert http.get("/attachments", user=OTHER).get_json() == {"attachments": []}


def test_deleting_a_reserved_attachment_frees_the_volume(http):
    volume = http.create_volume()
    attachment = http.post("/attachments", json={"attachment": {
        "volume_uuid": volume["id"], "instance_uuid": INSTANCE}}).get_json()["attachment"]
    assert http.volume(volume["id"])["status"] == "reserved"
    response = http.delete(f"/attachments/{attachment['id']}")
    assert response.status_code == 200 and response.get_json() == {"attachments": []}
    assert http.volume(volume["id"])["status"] == "available"
    assert fault(http.get(f"/attachments/{attachment['id']}"))[:2] == ("itemNotFound", 404)


def test_no_attachment_for_a_volume_in_error(http):
    volume = http.create_volume()
    http.post(f"/volumes/{volume['id']}/action", user=ADMIN,
              json={"os-reset_status": {"status": "error"}})
    response = http.post("/attachments", json={"attachment": {
        "volume_uuid": volume["id"], "instance_uuid": INSTANCE}})
    assert fault(response)[:2] == ("badRequest", 400)
    assert "Volume attachments can not be created if the volume is in an error state" in (
        fault(response)[2])


# --- snapshots --------------------------------------------------------------------------------

def test_snapshot_show_list_and_the_volume_it_holds(http):
    volume = http.create_volume()
    snapshot = http.create_snapshot(volume["id"], name="s1")
    assert snapshot["status"] == "available"
    assert (snapshot["size"], snapshot["volume_id"], snapshot["name"]) == (1, volume["id"], "s1")
    assert snapshot["os-extended-snapshot-attributes:progress"] == "100%"
    assert snapshot["user_id"] == "demo"
    assert [s["id"] for s in http.get("/snapshots").get_json()["snapshots"]] == [snapshot["id"]]
    assert fault(http.get(f"/snapshots/{snapshot['id']}", user=OTHER))[:2] == (
        "itemNotFound", 404)

    assert fault(http.delete(f"/volumes/{volume['id']}"))[:2] == ("badRequest", 400)
    assert http.delete(f"/snapshots/{snapshot['id']}").status_code == 202
    wait_until(lambda: http.get(f"/snapshots/{snapshot['id']}").status_code,
               lambda code: code == 404, "snapshot deleted")
    assert http.delete(f"/volumes/{volume['id']}").status_code == 202


def test_a_snapshot_of_a_reserved_volume_needs_force_and_an_available_status(http):
    volume = http.create_volume()
    http.post("/attachments", json={"attachment": {"volume_uuid": volume["id"],
                                                   "instance_uuid": INSTANCE}})
    response = http.post("/snapshots", json={"snapshot": {"volume_id": volume["id"]}})
    assert fault(response) == ("badRequest", 400,
                               f"Invalid volume: Volume {volume['id']} status must be "
                               f"available, but current status is: reserved.")


# --- volume types ------------------------------------------------------------------------------

def test_the_default_type_and_the_admins_types(http):
    types = http.get("/types").get_json()["volume_types"]
    assert [t["name"] for t in types] == ["__DEFAULT__"]
    assert types[0]["description"] == "Default Volume Type"
    default = http.get("/types/default").get_json()["volume_type"]
    assert default["id"] == types[0]["id"]

    response = http.post("/types", json={"volume_type": {"name": "gold"}})
    assert fault(response)[:2] == ("forbidden", 403)
    gold = http.post("/types", user=ADMIN, json={"volume_type": {
        "name": "gold", "extra_specs": {"tier": "1"}}}).get_json()["volume_type"]
    volume = http.create_volume(volume_type="gold")
    assert volume["volume_type"] == "gold"
    response = http.delete(f"/types/{gold['id']}", user=ADMIN)
    assert fault(response) == ("badRequest", 400, "Target volume type is still in use.")
