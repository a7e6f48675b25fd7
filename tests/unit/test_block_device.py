"""mininova/block_device.py: the v2 entries and the legacy form as the
internal mapping, as Nova's BlockDeviceDict makes them."""

import pytest

from mininova import block_device, exception

IMAGE = "11111111-1111-1111-1111-111111111111"
VOLUME = "22222222-2222-2222-2222-222222222222"
SNAPSHOT = "33333333-3333-3333-3333-333333333333"


def test_the_uuid_becomes_the_sources_id_and_every_field_is_there():
    bdm = block_device.from_api({"source_type": "volume", "uuid": VOLUME,
                                 "destination_type": "volume", "boot_index": "0",
                                 "device_name": "vdb", "delete_on_termination": "yes"},
                                image_uuid_specified=False)
    assert bdm["volume_id"] == VOLUME and "uuid" not in bdm
    assert bdm["boot_index"] == 0 and bdm["device_name"] == "/dev/vdb"
    assert bdm["delete_on_termination"] is True
    assert set(bdm) == block_device.FIELDS


@pytest.mark.parametrize("source, destination", [
    ("volume", "volume"), ("snapshot", "volume"), ("blank", "local"), ("image", "local")])
def test_a_missing_destination_is_where_the_source_can_live(source, destination):
    entry = {"source_type": source, "boot_index": 0}
    if source != "blank":
        entry["uuid"] = IMAGE
    assert block_device.from_api(entry, True)["destination_type"] == destination


@pytest.mark.parametrize("entry, details", [
    ({"source_type": "image", "uuid": IMAGE, "destination_type": "local", "boot_index": 0},
     "Mapping image to local is not supported."),
    ({"source_type": "blank", "uuid": IMAGE}, "Invalid device UUID."),
    ({"source_type": "volume"}, "Missing device UUID."),
    ({"uuid": VOLUME}, "Some required fields are missing"),
    ({"source_type": "volume", "uuid": VOLUME, "volume_type": "x"},
     "Specifying volume type to existing volume is not supported."),
    ({"source_type": "blank", "device_name": "vd b"}, "Device name contains spaces."),
    ({"source_type": "blank", "boot_index": "first"}, "Boot index is invalid."),
])
def test_what_from_api_refuses(entry, details):
    """(The first without imageRef: only an image boot's root is local.)"""
    with pytest.raises(exception.InvalidBDMFormat) as caught:
        block_device.from_api(entry, image_uuid_specified=False)
    assert caught.value.format_message() == f"Block Device Mapping is Invalid: {details}"
    assert caught.value.code == 400


def test_legacy_mappings_on_an_image():
    bdms = block_device.from_legacy_mapping(
        [{"virtual_name": "swap", "device_name": "vdc", "volume_size": 512},
         {"virtual_name": "ephemeral0", "device_name": "vdd"},
         {"snapshot_id": SNAPSHOT, "device_name": "vde"}], IMAGE, "vda")
    assert [(b["source_type"], b["destination_type"], b["boot_index"], b.get("guest_format"))
            for b in bdms] == [("image", "local", 0, None), ("blank", "local", -1, "swap"),
                               ("blank", "local", -1, None), ("snapshot", "volume", -1, None)]
    assert bdms[0]["image_id"] == IMAGE and bdms[1]["delete_on_termination"] is True


def test_a_legacy_volume_on_the_root_device_boots():
    bdms = block_device.from_legacy_mapping([{"volume_id": VOLUME, "device_name": "/dev/vda"}],
                                            "", "vda")
    assert [(b["source_type"], b["boot_index"]) for b in bdms] == [("volume", 0)]


def test_no_legacy_mapping_is_the_image_root_alone():
    [root] = block_device.from_legacy_mapping([], IMAGE, "vda")
    assert (root["source_type"], root["destination_type"], root["boot_index"],
            root["delete_on_termination"]) == ("image", "local", 0, True)


def test_an_unrecognised_legacy_entry():
    with pytest.raises(exception.InvalidBDMFormat, match="Unrecognized legacy format."):
        block_device.from_legacy({"device_name": "vdb"})


def test_an_image_from_a_volume():
    meta = block_device.get_image_metadata_from_volume({
        "size": 2, "volume_image_metadata": {"image_id": IMAGE, "min_disk": "1",
                                             "min_ram": "64", "hw_architecture": "x86_64"}})
    assert meta == {"size": 2 << 30, "status": "active", "min_disk": 1, "min_ram": 64,
                    "hw_architecture": "x86_64"}


@pytest.mark.parametrize("name, letter", [("/dev/vda", "a"), ("sdb1", "b"), ("xvdc", "c"),
                                          ("", "")])
def test_device_letters(name, letter):
    assert block_device.get_device_letter(name) == letter


def test_swap_and_ephemeral():
    swap = block_device.create_blank_bdm(512, "swap")
    ephemeral = block_device.create_blank_bdm(1)
    assert block_device.new_format_is_swap(swap) and not block_device.new_format_is_swap(
        ephemeral)
    assert block_device.new_format_is_ephemeral(ephemeral)
    assert block_device.get_bdm_swap_list([swap, ephemeral]) == [swap]
    assert block_device.get_root_bdm([swap, block_device.create_image_bdm(IMAGE)])[
        "image_id"] == IMAGE
