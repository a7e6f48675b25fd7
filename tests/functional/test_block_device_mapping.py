"""POST /servers with block devices: every 400 Nova's API answers for a
bad ``block_device_mapping_v2`` (or legacy ``block_device_mapping``), the
``block_device_mapping`` rows written with the servers (the image's root
disk, the flavor's ephemeral and swap, volumes reserved), nothing left of a
refused request, and the rows handed to the compute by the conductor.

The volume service is the in-process cloud's real mininova-volume."""

import subprocess
import uuid

import pytest

from mininova.compute import rpcapi as compute_rpcapi
from tests.functional import helpers
from tests.functional.block_devices import Volumes, image_root, rows, volume_boot
from tests.functional.helpers import api, fault

pytestmark = pytest.mark.usefixtures("builds_settle")

BOOT_SEQUENCE = ("Block Device Mapping is Invalid: Boot sequence for the instance and "
                 "image/block device mapping combination is not valid.")


@pytest.fixture
def volumes(cloud):
    return Volumes(cloud)


@pytest.fixture
def flavor(admin):
    """A flavor with a 1 GB ephemeral disk and 512 MB of swap."""
    return admin.create_flavor("eph.swap", 64, 1, 1, flavor_id="77", ephemeral=1, swap=512)


@pytest.fixture
def bootable(volumes, image):
    """A volume with the image written into it (so, bootable)."""
    def make(size=1):
        volume = volumes.create(size=size, imageRef=image["id"])
        assert volume["status"] == "available" and volume["bootable"] == "true", volume
        return volume
    return make


def post(client, server, version=None):
    return api(client, "POST", "/servers", version, json={"server": server})


def boot(client, image=None, flavor="42", version=None, **fields):
    server = {"name": "vm", "flavorRef": flavor, **fields}
    if image is not None:
        server["imageRef"] = image["id"]
    return post(client, server, version)


def server_names(client):
    return [server["name"] for server in client.list_servers()]


# --- the 400s ------------------------------------------------------------------------------

def test_two_syntaxes_in_one_request(demo, image, volumes):
    volume = volumes.create()
    assert fault(boot(demo, image, block_device_mapping=[{"volume_id": volume["id"],
                                                          "device_name": "vdb"}],
                      block_device_mapping_v2=[image_root(image["id"])])) == (
        400, "Using different block_device_mapping syntaxes is not allowed in the same "
             "request.")


@pytest.mark.parametrize("indexes", [(0, 0), (0, 2), (1,), (-1,)])
def test_boot_indexes_from_0_without_gaps(demo, image, indexes):
    mappings = [{"boot_index": index, "source_type": "blank", "destination_type": "volume",
                 "volume_size": 1} for index in indexes]
    assert fault(boot(demo, block_device_mapping_v2=mappings)) == (400, BOOT_SEQUENCE)


def test_a_second_root_next_to_the_image_root(demo, image, volumes):
    volume = volumes.create()
    assert fault(boot(demo, image, block_device_mapping_v2=[
        image_root(image["id"]), volume_boot(volume["id"])])) == (400, BOOT_SEQUENCE)
    assert volumes.get(volume["id"])["status"] == "available"


def test_an_unknown_volume(demo):
    missing = str(uuid.uuid4())
    assert fault(boot(demo, block_device_mapping_v2=[volume_boot(missing)])) == (
        400, f"Block Device Mapping is Invalid: failed to get volume {missing}.")


def test_an_unknown_volume_that_is_not_the_root(demo, image):
    missing = str(uuid.uuid4())
    assert fault(boot(demo, image, block_device_mapping_v2=[
        image_root(image["id"]), volume_boot(missing, boot_index=1)])) == (
        400, f"Volume {missing} could not be found.")


def test_an_unknown_snapshot(demo, image):
    missing = str(uuid.uuid4())
    assert fault(boot(demo, image, block_device_mapping_v2=[
        image_root(image["id"]),
        {"boot_index": 1, "uuid": missing, "source_type": "snapshot",
         "destination_type": "volume"}])) == (
        400, f"Block Device Mapping is Invalid: failed to get snapshot {missing}.")


def test_an_unknown_image(demo):
    missing = str(uuid.uuid4())
    assert fault(boot(demo, block_device_mapping_v2=[
        {"boot_index": 0, "uuid": missing, "source_type": "image",
         "destination_type": "volume", "volume_size": 1}])) == (
        400, f"Block Device Mapping is Invalid: failed to get image {missing}.")


def test_a_blank_volume_needs_a_size(demo):
    assert fault(boot(demo, block_device_mapping_v2=[
        {"boot_index": 0, "source_type": "blank", "destination_type": "volume"}])) == (
        400, "Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size")


def test_an_image_volume_needs_a_size(demo, image):
    assert fault(boot(demo, block_device_mapping_v2=[
        {"boot_index": 0, "uuid": image["id"], "source_type": "image",
         "destination_type": "volume"}])) == (
        400, "Images with destination_type 'volume' need to have a non-zero size specified")


def test_an_image_volume_smaller_than_the_image_min_disk(demo, admin, tmp_path):
    path = tmp_path / "min2.raw"
    path.write_bytes(b"\0" * 1024)
    image = admin.create_image("min2", str(path), "raw", min_disk=2)
    admin.update_image(image["id"], {"visibility": "public"})
    assert fault(boot(demo, block_device_mapping_v2=[
        {"boot_index": 0, "uuid": image["id"], "source_type": "image",
         "destination_type": "volume", "volume_size": 1}])) == (
        400, "Volume is smaller than the minimum size specified in image metadata. Volume "
             f"size is {1 << 30} bytes, minimum size is {2 << 30} bytes.")


def test_an_image_volume_smaller_than_the_image(demo, admin, tmp_path):
    path = tmp_path / "big.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "3G"], check=True)
    image = admin.create_image("big", str(path), "qcow2")
    admin.update_image(image["id"], {"visibility": "public"})
    assert fault(boot(demo, block_device_mapping_v2=[
        {"boot_index": 0, "uuid": image["id"], "source_type": "image",
         "destination_type": "volume", "volume_size": 2}])) == (
        400, f"Block Device Mapping is Invalid: image {image['id']} needs 3GB and doesn't "
             "fit in a volume of size 2GB.")


@pytest.mark.parametrize("mapping, message", [
    ({"boot_index": 1, "source_type": "image", "destination_type": "local"},
     "Block Device Mapping is Invalid: Mapping image to local is not supported."),
    ({"boot_index": 1, "source_type": "volume", "destination_type": "local",
      "uuid": "0d4c3a39-5bd8-4d2c-a4f1-8a0f0f4c1f30"},
     "Block Device Mapping is Invalid: Mapping volume to local is not supported: a volume "
     "can only be used with destination_type volume."),
    ({"boot_index": 1, "source_type": "blank", "destination_type": "local",
      "uuid": "IMAGE"}, "Block Device Mapping is Invalid: Invalid device UUID."),
    ({"boot_index": 1, "source_type": "snapshot", "destination_type": "volume"},
     "Block Device Mapping is Invalid: Missing device UUID."),
    ({"boot_index": 1, "source_type": "blank", "destination_type": "local",
      "volume_type": "lvm"},
     "Block Device Mapping is Invalid: Specifying a volume_type with "
     "destination_type=local is not supported."),
    ({"boot_index": 1, "source_type": "blank", "destination_type": "local",
      "virtual_name": "ephemeral0"},
     "Block Device Mapping is Invalid: Following fields are invalid: virtual_name"),
    ({"boot_index": -1, "source_type": "blank", "destination_type": "volume",
      "volume_size": 1, "disk_bus": "floppy-bus"},
     "Block Device Mapping is invalid: The provided disk bus floppy-bus is not valid."),
    ({"boot_index": -1, "source_type": "blank", "destination_type": "volume",
      "volume_size": 1, "volume_type": "gold"},
     "Volume type gold could not be found."),
])
def test_mappings_nova_refuses(demo, image, mapping, message):
    mapping = dict(mapping)
    if mapping.get("uuid") == "IMAGE" or mapping["source_type"] == "image":
        mapping["uuid"] = image["id"]
    # volume_type exists from 2.67, where networks are required (2.37).
    extra = {"version": "2.67", "networks": "none"} if "volume_type" in mapping else {}
    assert fault(boot(demo, image, block_device_mapping_v2=[
        image_root(image["id"]), mapping], **extra)) == (400, message)


def test_a_volume_on_the_root_device_name_of_an_image_boot(demo, image, volumes):
    volume = volumes.create()
    assert fault(boot(demo, image, block_device_mapping_v2=[
        image_root(image["id"]), volume_boot(volume["id"], boot_index=-1,
                                             device_name="/dev/vda")])) == (
        400, "The volume cannot be assigned the same device name as the root device vda")


def test_a_blank_volume_does_not_boot(demo, volumes):
    volume = volumes.create()
    assert fault(boot(demo, block_device_mapping_v2=[volume_boot(volume["id"])])) == (
        400, f"Block Device {volume['id']} is not bootable.")


def test_one_volume_for_several_servers(demo, bootable):
    volume = bootable()
    assert fault(boot(demo, block_device_mapping_v2=[volume_boot(volume["id"])],
                      max_count=2)) == (
        400, "Cannot attach one or more volumes to multiple instances")


def test_a_volume_another_server_has(demo, volumes, bootable):
    volume = bootable()
    volumes.reserve(volume["id"], str(uuid.uuid4()))
    status, message = fault(boot(demo, block_device_mapping_v2=[volume_boot(volume["id"])]))
    # Nova's chain of wrappers around the volume service's own 400, as Nova shows it.
    assert (status, message) == (
        400, "Invalid volume: Invalid input received: Invalid volume: Volume "
             f"{volume['id']} status must be available to reserve, but the current status "
             "is reserved.")


def test_swap_and_ephemerals_within_the_flavor(demo, image, flavor):
    def local(**fields):
        return dict({"boot_index": -1, "source_type": "blank", "destination_type": "local"},
                    **fields)
    base = [image_root(image["id"])]
    assert fault(boot(demo, image, flavor="77", block_device_mapping_v2=[
        *base, local(guest_format="swap", volume_size=256),
        local(guest_format="swap", volume_size=256)])) == (
        400, "Block Device Mapping is Invalid: More than one swap drive requested.")
    assert fault(boot(demo, image, flavor="77", block_device_mapping_v2=[
        *base, local(guest_format="swap", volume_size=1024)])) == (
        400, "Swap drive requested is larger than instance type allows.")
    assert fault(boot(demo, image, flavor="77", block_device_mapping_v2=[
        *base, local(volume_size=1), local(volume_size=1)])) == (
        400, "Ephemeral disks requested are larger than the instance type allows. If no "
             "size is given in one block device mapping, flavor ephemeral size will be used.")
    assert fault(boot(demo, image, block_device_mapping_v2=[
        *base, local(guest_format="swap", volume_size=1)])) == (
        400, "Swap drive requested is larger than instance type allows.")


def test_no_more_local_disks_than_max_local_block_devices(demo, image, conf):
    conf.set_override("max_local_block_devices", 1)
    assert fault(boot(demo, image, block_device_mapping_v2=[
        image_root(image["id"]), {"boot_index": -1, "source_type": "blank",
                                  "destination_type": "local", "volume_size": 0}])) == (
        400, "Block Device Mapping is Invalid: You specified more local devices than the "
             "limit allows")


def test_an_unrecognised_legacy_mapping(demo, image):
    assert fault(boot(demo, image, block_device_mapping=[{"device_name": "vdb"}])) == (
        400, "Block Device Mapping is Invalid: Unrecognized legacy format.")


def test_without_image_or_mappings_image_ref_is_missing(demo):
    assert fault(boot(demo)) == (400, "Missing imageRef attribute")


def test_a_reader_may_not_ask_for_mappings(demo, image):
    reader = helpers.as_role(demo, "reader")
    status, _message = fault(boot(reader, image, block_device_mapping_v2=[
        image_root(image["id"])]))
    assert status == 403


# --- fields of later microversions ---------------------------------------------------------

BLANK_VOLUME = {"boot_index": -1, "source_type": "blank", "destination_type": "volume",
                "volume_size": 1}


def unexpected(index, mapping, name):
    """The 400 of Nova's schema for a key it does not have at that version."""
    return (400, f"Invalid input for field/attribute {index}. Value: {mapping}. "
                 f"Additional properties are not allowed ('{name}' was unexpected)")


def boot_with(client, image, mapping, version):
    # From 2.37 a boot must say what networks it wants.
    networks = {} if version in (None, "2.31", "2.32", "2.33") else {"networks": "auto"}
    return boot(client, image, version=version, **networks,
                block_device_mapping_v2=[image_root(image["id"]), mapping])


@pytest.mark.parametrize("version", [None, "2.31", "2.33", "2.36", "2.37", "2.41"])
def test_a_device_tag_is_refused_before_2_42_but_at_2_32(demo, image, version):
    mapping = dict(BLANK_VOLUME, tag="data")
    assert fault(boot_with(demo, image, mapping, version)) == unexpected(1, mapping, "tag")
    assert server_names(demo) == []


@pytest.mark.parametrize("version", ["2.32", "2.42", "2.79"])
def test_a_device_tag_at_2_32_and_from_2_42(demo, image, version):
    response = boot_with(demo, image, dict(BLANK_VOLUME, tag="data"), version)
    assert response.status_code == 202, response.text
    assert [r["tag"] for r in rows(response.json()["server"]["id"])] == [None, "data"]


@pytest.mark.parametrize("version", [None, "2.42", "2.66"])
def test_a_volume_type_is_refused_before_2_67(demo, image, version):
    mapping = dict(BLANK_VOLUME, volume_type="__DEFAULT__")
    assert fault(boot_with(demo, image, mapping, version)) == unexpected(
        1, mapping, "volume_type")
    assert server_names(demo) == []


@pytest.mark.parametrize("version", ["2.67", "2.79"])
def test_a_volume_type_from_2_67(demo, image, version):
    response = boot_with(demo, image, dict(BLANK_VOLUME, volume_type="__DEFAULT__"), version)
    assert response.status_code == 202, response.text
    assert [r["volume_type"] for r in rows(response.json()["server"]["id"])] == [
        None, "__DEFAULT__"]


# --- the rows ------------------------------------------------------------------------------

def test_an_image_boot_has_its_root_disk_row(demo, image):
    response = boot(demo, image)
    assert response.status_code == 202, response.text
    [root] = rows(response.json()["server"]["id"])
    assert (root["source_type"], root["destination_type"], root["boot_index"],
            root["image_id"], root["delete_on_termination"], root["device_name"]) == (
        "image", "local", 0, image["id"], True, None)


def test_the_flavor_adds_its_ephemeral_and_swap(demo, image, flavor):
    response = boot(demo, image, flavor="77")
    assert response.status_code == 202, response.text
    found = [(r["source_type"], r["destination_type"], r["boot_index"], r["guest_format"],
              r["volume_size"]) for r in rows(response.json()["server"]["id"])]
    assert found == [("image", "local", 0, None, None), ("blank", "local", -1, None, 1),
                     ("blank", "local", -1, "swap", 512)]


def test_asked_for_ephemerals_replace_the_flavors(demo, image, flavor):
    response = boot(demo, image, flavor="77", block_device_mapping_v2=[
        image_root(image["id"]),
        {"boot_index": -1, "source_type": "blank", "destination_type": "local",
         "guest_format": "ext4"}])
    assert response.status_code == 202, response.text
    found = [(r["source_type"], r["guest_format"], r["volume_size"])
             for r in rows(response.json()["server"]["id"])]
    assert found == [("image", None, None), ("blank", "ext4", 1), ("blank", "swap", 512)]


def test_boot_from_a_volume_without_image(demo, volumes, bootable):
    volume = bootable(size=2)
    response = boot(demo, version="2.42", networks="auto", block_device_mapping_v2=[
        volume_boot(volume["id"], delete_on_termination=True, tag="root")])
    assert response.status_code == 202, response.text
    server_id = response.json()["server"]["id"]
    [root] = rows(server_id)
    assert (root["source_type"], root["volume_id"], root["volume_size"], root["boot_index"],
            root["delete_on_termination"], root["tag"]) == (
        "volume", volume["id"], 2, 0, True, "root")
    assert root["attachment_id"]
    reserved = volumes.get(volume["id"])
    assert reserved["status"] in ("reserved", "attaching", "in-use")


def test_legacy_boot_from_a_volume(demo, bootable):
    volume = bootable()
    response = boot(demo, block_device_mapping=[{"volume_id": volume["id"],
                                                 "device_name": "vda",
                                                 "delete_on_termination": "true"}])
    assert response.status_code == 202, response.text
    [root] = rows(response.json()["server"]["id"])
    assert (root["source_type"], root["destination_type"], root["boot_index"],
            root["device_name"], root["delete_on_termination"]) == (
        "volume", "volume", 0, "/dev/vda", True)


def test_volumes_to_make_are_recorded_for_the_compute(demo, image, volumes):
    snapshot = volumes.snapshot(volumes.create()["id"])
    response = boot(demo, image, version="2.67", networks="auto", block_device_mapping_v2=[
        image_root(image["id"]),
        {"boot_index": 1, "uuid": snapshot["id"], "source_type": "snapshot",
         "destination_type": "volume"},
        {"boot_index": -1, "source_type": "blank", "destination_type": "volume",
         "volume_size": 1, "volume_type": "__DEFAULT__"},
        {"boot_index": -1, "uuid": image["id"], "source_type": "image",
         "destination_type": "volume", "volume_size": 1}])
    assert response.status_code == 202, response.text
    found = [(r["source_type"], r["destination_type"], r["snapshot_id"], r["image_id"],
              r["volume_size"], r["volume_type"], r["volume_id"])
             for r in rows(response.json()["server"]["id"])]
    assert found == [
        ("image", "local", None, image["id"], None, None, None),
        ("snapshot", "volume", snapshot["id"], None, 1, None, None),
        ("blank", "volume", None, None, 1, "__DEFAULT__", None),
        ("image", "volume", None, image["id"], 1, None, None)]


def test_a_refused_request_leaves_no_row_and_no_reservation(demo, volumes, bootable):
    free, taken = bootable(), volumes.create()
    volumes.reserve(taken["id"], str(uuid.uuid4()))
    status, _message = fault(boot(demo, block_device_mapping_v2=[
        volume_boot(free["id"]), volume_boot(taken["id"], boot_index=1)]))
    assert status == 400
    assert volumes.get(free["id"])["status"] == "available"
    assert "vm" not in server_names(demo)


def test_the_conductor_hands_the_rows_to_the_compute(demo, image, monkeypatch):
    sent = []
    original = compute_rpcapi.ComputeAPI.build_and_run_instance

    def spy(self, ctxt, instance, host, *args, **kwargs):
        sent.append(kwargs.get("block_device_mapping"))
        return original(self, ctxt, instance, host, *args, **kwargs)
    monkeypatch.setattr(compute_rpcapi.ComputeAPI, "build_and_run_instance", spy)
    response = boot(demo, image)
    server_id = response.json()["server"]["id"]
    helpers.wait_for_status(demo, server_id, "ACTIVE")
    [mappings] = sent
    assert [(m["instance_uuid"], m["source_type"], m["boot_index"]) for m in mappings] == [
        (server_id, "image", 0)]
