"""The ``mininova`` volume commands and boot's block device options against
the in-process cloud (its real mininova-volume): the mappings boot sends
as novaclient's, booting from a volume without --image, the attachment
table, and a clear message for what cannot work."""

import uuid

import pytest

from mininova.cli import volumes as cli_volumes
from mininova.compute import manager as compute_manager
from tests.functional.block_devices import Volumes, rows

pytestmark = pytest.mark.usefixtures("builds_settle")


@pytest.fixture
def volumes(cloud):
    return Volumes(cloud, "admin:admin")


@pytest.fixture
def tiny(admin, tmp_path):
    path = tmp_path / "tiny.raw"
    path.write_bytes(b"\0" * 1024 * 1024)
    return admin.create_image("tiny", str(path), "raw")


def _parsed(*argv):
    import argparse
    parser = argparse.ArgumentParser()
    cli_volumes.add_boot_arguments(parser)
    return parser.parse_args(list(argv))


def test_block_device_options_are_novaclients():
    args = _parsed("--block-device", "source=volume,id=V,dest=volume,bootindex=0,"
                   "shutdown=remove,tag=root", "--swap", "512",
                   "--ephemeral", "size=1,format=ext4")
    assert cli_volumes.block_device_mapping_v2(args, None) == [
        {"source_type": "volume", "uuid": "V", "destination_type": "volume", "boot_index": 0,
         "delete_on_termination": True, "tag": "root"},
        {"source_type": "blank", "destination_type": "local", "boot_index": -1,
         "delete_on_termination": True, "volume_size": 1, "guest_format": "ext4"},
        {"source_type": "blank", "destination_type": "local", "guest_format": "swap",
         "volume_size": 512, "boot_index": -1, "delete_on_termination": True}]


def test_with_an_image_its_root_disk_comes_first():
    args = _parsed("--block-device", "source=blank,dest=volume,size=1")
    image_root, blank = cli_volumes.block_device_mapping_v2(args, "I")
    assert image_root == {"uuid": "I", "source_type": "image", "destination_type": "local",
                          "boot_index": 0, "delete_on_termination": True}
    assert blank == {"source_type": "blank", "destination_type": "volume",
                     "volume_size": 1, "boot_index": -1}
    assert cli_volumes.block_device_mapping_v2(_parsed(), "I") is None


def test_an_unknown_block_device_key_is_named():
    with pytest.raises(SystemExit, match="unknown key 'colour'"):
        cli_volumes.block_device_mapping_v2(_parsed("--block-device", "colour=red"), None)


def test_boot_from_a_volume_then_its_attachments(mininova, tiny, volumes):
    volume = volumes.create(imageRef=tiny["id"])
    code, out, err = mininova("boot", "--flavor", "m1.nano", "--block-device",
                              f"source=volume,id={volume['id']},dest=volume,bootindex=0,"
                              "shutdown=remove", "--wait", "bfv")
    assert code == 0, err
    assert "Attempt to boot from volume - no image supplied" in out
    assert f'[{{"id": "{volume["id"]}"}}]' in out
    code, out, err = mininova("volume-attachments", "bfv")
    assert code == 0, err
    header, row = [line for line in out.splitlines() if line.startswith("|")]
    assert [cell.strip() for cell in header.split("|")[1:-1]] == [
        "ID", "DEVICE", "SERVER ID", "VOLUME ID", "TAG", "DELETE ON TERMINATION"]
    assert volume["id"] in row and "True" in row


def test_boot_with_swap_and_ephemeral_makes_their_rows(mininova, admin, tiny):
    admin.create_flavor("eph", 64, 1, 1, flavor_id="78", ephemeral=1, swap=512)
    code, out, err = mininova("boot", "--image", "tiny", "--flavor", "eph", "--swap", "256",
                              "--ephemeral", "size=1,format=ext4", "--wait", "disks")
    assert code == 0, err
    server_id = admin.find_server("disks")["id"]
    assert [(r["source_type"], r["destination_type"], r["guest_format"], r["volume_size"])
            for r in rows(server_id)] == [("image", "local", None, None),
                                          ("blank", "local", "ext4", 1),
                                          ("blank", "local", "swap", 256)]


@pytest.mark.parametrize("option, column, value", [
    ("tag=data", "tag", "data"), ("volume_type=__DEFAULT__", "volume_type", "__DEFAULT__")])
def test_boot_with_a_field_of_a_later_microversion(mininova, admin, tiny, option, column,
                                                   value):
    # tag needs 2.42 and volume_type 2.67 (a 400 at 2.1): boot asks for them.
    code, _out, err = mininova("boot", "--image", "tiny", "--flavor", "m1.nano",
                               "--block-device", f"source=blank,dest=volume,size=1,{option}",
                               "--wait", "later")
    assert code == 0, err
    assert [r[column] for r in rows(admin.find_server("later")["id"])] == [None, value]


def test_boot_without_image_or_block_device(mininova):
    # As the other argument errors of the CLI: the command ends with the message.
    with pytest.raises(SystemExit, match="boot needs --image, or a --block-device"):
        mininova("boot", "--flavor", "m1.nano", "vm")


def test_a_refused_attach_says_why(mininova, tiny):
    code, _out, err = mininova("boot", "--image", "tiny", "--flavor", "m1.nano", "--wait",
                               "vm")
    assert code == 0, err
    missing = str(uuid.uuid4())
    code, _out, err = mininova("volume-attach", "vm", missing)
    assert code != 0 and f"Volume {missing} could not be found. (HTTP 404)" in err
    code, _out, err = mininova("volume-detach", "vm", missing)
    assert code != 0 and "(HTTP 404)" in err


@pytest.mark.skipif(not hasattr(compute_manager.ComputeManager, "reserve_block_device_name"),
                    reason="the compute's attach and detach are not on this branch")
def test_attach_list_detach(mininova, tiny, volumes):
    code, _out, err = mininova("boot", "--image", "tiny", "--flavor", "m1.nano", "--wait",
                               "vm")
    assert code == 0, err
    volume = volumes.create()
    code, out, err = mininova("volume-attach", "vm", volume["id"], "--tag", "data",
                              "--delete-on-termination")
    assert code == 0, err
    assert "/dev/vd" in out and "data" in out
    volumes.wait_status(volume["id"], "in-use")
    code, out, _err = mininova("volume-attachments", "vm")
    assert volume["id"] in out
    code, _out, err = mininova("volume-detach", "vm", volume["id"])
    assert code == 0, err
    volumes.wait_status(volume["id"], "available")
