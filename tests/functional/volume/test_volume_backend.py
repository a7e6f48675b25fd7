"""What mininova-volume does on the storage: sparse raw volume files,
volumes written from images (downloaded from a real in-process
mininova-image, checked, converted), snapshots and copies, extending, and
what a failure half-way leaves (a volume in error, never one stuck)."""

import hashlib
import logging

import pytest

from mininova import context as mn_context
from mininova import utils
from mininova.conf import CONF
from mininova.db import api as db_api
from mininova.image.service import models as image_models
from mininova.volume.service import app as volume_app
from mininova.volume.service import db
from tests.functional.volume.helpers import (
    ADMIN,
    GIB,
    MIB,
    fault,
    pattern_reads_back,
    qemu_io,
    upload_image,
    wait_until,
)

ADMIN_CONTEXT = mn_context.RequestContext(user_id="admin", project_id="admin", roles=["admin"])


def volume_file(tmp_path, volume_id):
    return tmp_path / "volumes" / f"volume-{volume_id}"


def fault_of(app, volume_id):
    """Why the volume is in error, as the manager recorded it."""
    return db.volume_get(app.extensions["mininova-volume"].engine, volume_id)["fault"]


@pytest.fixture
def qcow2_image(image_server, tmp_path):
    """A 64 MiB qcow2 image in the image service: 4 MiB of 0x5a at 1 MiB."""
    path = tmp_path / "data.qcow2"
    utils.execute("qemu-img", "create", "-f", "qcow2", str(path), "64M")
    qemu_io(str(path), f"write -P 0x5a {MIB} {4 * MIB}", fmt="qcow2")
    image = upload_image(path, "data", "qcow2", ADMIN_CONTEXT)
    path.unlink()
    return image


def test_a_blank_volume_is_a_sparse_raw_file(http, tmp_path):
    volume = http.create_volume(size=2)
    path = volume_file(tmp_path, volume["id"])
    assert path.stat().st_size == 2 * GIB
    assert path.stat().st_blocks * 512 < MIB  # nothing written yet
    assert '"format": "raw"' in utils.execute(
        "qemu-img", "info", "--output=json", "-f", "raw", str(path))[0]


def test_a_volume_from_a_qcow2_image(http, qcow2_image, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="mininova")
    volume = http.create_volume(imageRef=qcow2_image["id"], name="boot")

    assert volume["status"] == "available"
    assert volume["bootable"] == "true"
    metadata = volume["volume_image_metadata"]
    assert (metadata["image_id"], metadata["image_name"], metadata["disk_format"]) == (
        qcow2_image["id"], "data", "qcow2")
    path = str(volume_file(tmp_path, volume["id"]))
    assert pattern_reads_back(path, "0x5a", MIB, 4 * MIB)
    assert pattern_reads_back(path, "0", 0, MIB)
    assert volume_file(tmp_path, volume["id"]).stat().st_size == GIB
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith(f"Volume {volume['id']}: being created as image with "
                            "specification:") for m in messages)
    assert any(m.startswith("Image download ") and m.endswith(" MB/s") for m in messages)
    assert "Converted 64.00 MB image at " in "\n".join(messages)
    assert (f"Volume volume-{volume['id']} ({volume['id']}): created successfully"
            in messages)
    assert "Created volume successfully." in messages
    # The download is gone once converted.
    assert list((tmp_path / "conversion").iterdir()) == []


def test_an_image_as_big_as_the_volume_is_not_resized(http, image_server, tmp_path, caplog):
    """qemu-img resize flushes the whole converted file when it closes it:
    run only where the volume is bigger than the image (it is above)."""
    path = tmp_path / "whole.qcow2"
    utils.execute("qemu-img", "create", "-f", "qcow2", str(path), "1G")
    qemu_io(str(path), f"write -P 0x33 {GIB - MIB} {MIB}", fmt="qcow2")
    image = upload_image(path, "whole", "qcow2", ADMIN_CONTEXT)
    caplog.set_level(logging.DEBUG, logger="mininova")

    volume = http.create_volume(imageRef=image["id"], size=1)

    assert volume["status"] == "available"
    written = volume_file(tmp_path, volume["id"])
    assert written.stat().st_size == GIB
    assert pattern_reads_back(str(written), "0x33", GIB - MIB, MIB)
    commands = [r.getMessage() for r in caplog.records if "Running cmd" in r.getMessage()]
    assert any("qemu-img convert" in command for command in commands)
    assert not any("qemu-img resize" in command for command in commands)


def test_a_volume_from_a_raw_image(http, image_server, tmp_path):
    path = tmp_path / "data.raw"
    path.write_bytes(b"\x42" * MIB)
    image = upload_image(path, "raw-data", "raw", ADMIN_CONTEXT)
    volume = http.create_volume(imageRef=image["id"])
    assert volume["status"] == "available"
    assert pattern_reads_back(str(volume_file(tmp_path, volume["id"])), "0x42", 0, MIB)


def test_an_image_with_corrupt_data_leaves_the_volume_in_error(http, app, qcow2_image,
                                                               tmp_path):
    # Its file in the image store altered after the upload: the download's
    # checksum no longer matches.
    store_file = tmp_path / "images" / qcow2_image["id"]
    store_file.write_bytes(store_file.read_bytes()[:-1] + b"\x01")

    volume = http.create_volume(imageRef=qcow2_image["id"])

    assert volume["status"] == "error"
    assert "checksum mismatch" in fault_of(app, volume["id"])
    assert list((tmp_path / "conversion").iterdir()) == []
    # An error volume can be deleted.
    assert http.delete(f"/volumes/{volume['id']}").status_code == 202
    http.wait_volume_gone(volume["id"])


def _raw_image_swapped_for_a_backed_qcow2(tmp_path):
    """An image declared raw whose stored file is then replaced by a qcow2
    backed by a host file (the image service would refuse it as an upload)."""
    path = tmp_path / "innocent.raw"
    path.write_bytes(b"\0" * MIB)
    image = upload_image(path, "innocent", "raw", ADMIN_CONTEXT)
    evil = tmp_path / "evil.qcow2"
    utils.execute("qemu-img", "create", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw",
                  str(evil), "1M")
    (tmp_path / "images" / image["id"]).write_bytes(evil.read_bytes().ljust(MIB, b"\0"))
    return image


def test_an_unsafe_image_leaves_the_volume_in_error(http, app, image_server, tmp_path):
    # Declared raw, with a qcow2 header pointing at a host file: the image
    # service would refuse the upload, so it is swapped in behind its back.
    image = _raw_image_swapped_for_a_backed_qcow2(tmp_path)
    evil_bytes = (tmp_path / "images" / image["id"]).read_bytes()
    image_models.image_update(db_api.get_engine(CONF.image_service.connection), image["id"],
                              {"checksum": hashlib.md5(evil_bytes).hexdigest(),
                               "os_hash_value": hashlib.sha512(evil_bytes).hexdigest()})

    volume = http.create_volume(imageRef=image["id"])
    assert volume["status"] == "error"
    assert "ImageUnacceptable" in fault_of(app, volume["id"])
    assert "qcow2" in fault_of(app, volume["id"])


# --- the direct URL (Cinder's allowed_direct_url_schemes = file) -------------------

def _direct_urls(image_side, volume_side):
    CONF.set_override("show_image_direct_url", image_side, "image_service")
    CONF.set_override("allowed_direct_url_schemes", ["file"] if volume_side else [], "volume")


def test_with_the_direct_url_the_image_file_is_read_in_place(http, qcow2_image, tmp_path,
                                                             caplog):
    _direct_urls(image_side=True, volume_side=True)
    caplog.set_level(logging.INFO, logger="mininova")

    volume = http.create_volume(imageRef=qcow2_image["id"])

    assert volume["status"] == "available"
    path = str(volume_file(tmp_path, volume["id"]))
    assert pattern_reads_back(path, "0x5a", MIB, 4 * MIB)
    assert pattern_reads_back(path, "0", 0, MIB)
    assert volume_file(tmp_path, volume["id"]).stat().st_size == GIB
    messages = [record.getMessage() for record in caplog.records]
    store_file = tmp_path / "images" / qcow2_image["id"]
    assert any(m.startswith(f"Image {qcow2_image['id']} read in place from its direct URL "
                            f"file://{store_file} (") for m in messages)
    # Nothing downloaded, so no download line, nor a file to convert from.
    assert not any(m.startswith("Image download ") for m in messages)
    assert "Converted 64.00 MB image at " in "\n".join(messages)
    assert not any(utils.listdir(str(tmp_path / "conversion")))
    # It does not show among the image's properties copied to the volume.
    assert "direct_url" not in volume["volume_image_metadata"]


@pytest.mark.parametrize("image_side, volume_side", [(True, False), (False, True)])
def test_without_both_options_the_image_is_downloaded(http, qcow2_image, tmp_path, caplog,
                                                      image_side, volume_side):
    _direct_urls(image_side, volume_side)
    caplog.set_level(logging.INFO, logger="mininova")

    volume = http.create_volume(imageRef=qcow2_image["id"])

    assert volume["status"] == "available"
    assert pattern_reads_back(str(volume_file(tmp_path, volume["id"])), "0x5a", MIB, 4 * MIB)
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("Image download ") and m.endswith(" MB/s") for m in messages)
    assert not any(" read in place from its direct URL " in m for m in messages)


def test_a_direct_url_whose_file_is_missing_leaves_the_volume_in_error(http, app, qcow2_image,
                                                                      tmp_path, caplog):
    # Cinder opens the file and fails (IOError), it does not fall back to HTTP.
    _direct_urls(image_side=True, volume_side=True)
    caplog.set_level(logging.INFO, logger="mininova")
    (tmp_path / "images" / qcow2_image["id"]).unlink()

    volume = http.create_volume(imageRef=qcow2_image["id"])

    assert volume["status"] == "error"
    assert (f"Failed to download image {qcow2_image['id']}, reason: IOError: 2 No such file "
            "or directory") in fault_of(app, volume["id"])
    assert not any(record.getMessage().startswith("Image download ")
                   for record in caplog.records)


def test_the_direct_url_skips_the_checksum_as_cinder_does(http, qcow2_image, tmp_path):
    # The same altered store file that the download refuses (checksum
    # mismatch, above) is converted: Cinder checks no hash on this path.
    _direct_urls(image_side=True, volume_side=True)
    store_file = tmp_path / "images" / qcow2_image["id"]
    qemu_io(str(store_file), f"write -P 0x77 {MIB} 512", fmt="qcow2")

    volume = http.create_volume(imageRef=qcow2_image["id"])

    assert volume["status"] == "available"
    assert pattern_reads_back(str(volume_file(tmp_path, volume["id"])), "0x77", MIB, 512)


def test_the_direct_url_still_checks_the_format(http, app, image_server, tmp_path):
    # Declared raw, a qcow2 with a backing file in the store: refused by the
    # format checks, which the direct path makes as the download path does.
    _direct_urls(image_side=True, volume_side=True)
    image = _raw_image_swapped_for_a_backed_qcow2(tmp_path)

    volume = http.create_volume(imageRef=image["id"])

    assert volume["status"] == "error"
    assert "ImageUnacceptable" in fault_of(app, volume["id"])


def test_snapshot_then_a_volume_from_it_and_a_clone(http, tmp_path):
    volume = http.create_volume()
    path = str(volume_file(tmp_path, volume["id"]))
    qemu_io(path, f"write -P 0x11 0 {MIB}")
    snapshot = http.create_snapshot(volume["id"])
    qemu_io(path, f"write -P 0x22 0 {MIB}")  # the volume moves on; the snapshot does not

    snap_file = tmp_path / "volumes" / f"snapshot-{snapshot['id']}"
    assert pattern_reads_back(str(snap_file), "0x11", 0, MIB)
    from_snapshot = http.create_volume(snapshot_id=snapshot["id"], size=2)
    assert from_snapshot["snapshot_id"] == snapshot["id"] and from_snapshot["size"] == 2
    assert pattern_reads_back(str(volume_file(tmp_path, from_snapshot["id"])), "0x11", 0, MIB)
    assert volume_file(tmp_path, from_snapshot["id"]).stat().st_size == 2 * GIB

    clone = http.create_volume(source_volid=volume["id"])
    assert clone["source_volid"] == volume["id"] and clone["size"] == 1
    assert pattern_reads_back(str(volume_file(tmp_path, clone["id"])), "0x22", 0, MIB)

    response = http.post("/volumes", json={"volume": {"snapshot_id": snapshot["id"],
                                                      "size": 1, "name": "x"}})
    assert response.status_code == 202  # same size is fine
    http.post(f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 2}})
    http.wait_volume(volume["id"])
    response = http.post("/volumes", json={"volume": {"source_volid": volume["id"],
                                                      "size": 1}})
    assert fault(response) == (
        "badRequest", 400, "Invalid input received: Volume size '1'GB cannot be smaller than "
                           "original volume size  2GB. They must be >= original volume size.")


def test_delete_of_a_snapshot_removes_its_file(http, tmp_path):
    volume = http.create_volume()
    snapshot = http.create_snapshot(volume["id"])
    snap_file = tmp_path / "volumes" / f"snapshot-{snapshot['id']}"
    assert snap_file.exists()
    assert http.delete(f"/snapshots/{snapshot['id']}").status_code == 202
    wait_until(lambda: http.get(f"/snapshots/{snapshot['id']}").status_code,
               lambda code: code == 404, "snapshot deleted")
    assert not snap_file.exists()


def test_extend_keeps_the_data(http, tmp_path):
    volume = http.create_volume()
    path = str(volume_file(tmp_path, volume["id"]))
    qemu_io(path, f"write -P 0x33 {GIB - MIB} {MIB}")
    http.post(f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 2}})
    assert http.wait_volume(volume["id"])["size"] == 2
    assert pattern_reads_back(path, "0x33", GIB - MIB, MIB)
    assert pattern_reads_back(path, "0", GIB, MIB)


def test_a_failed_copy_leaves_error_not_creating(http, app, tmp_path):
    volume = http.create_volume()
    snapshot = http.create_snapshot(volume["id"])
    # The snapshot's file vanishes (a disk problem): the copy fails.
    (tmp_path / "volumes" / f"snapshot-{snapshot['id']}").unlink()
    broken = http.create_volume(snapshot_id=snapshot["id"])
    assert broken["status"] == "error"
    assert "qemu-img convert" in fault_of(app, broken["id"])
    # Deleting a snapshot whose file is already gone still succeeds.
    http.delete(f"/snapshots/{snapshot['id']}")
    wait_until(lambda: http.get(f"/snapshots/{snapshot['id']}").status_code,
               lambda code: code == 404, "snapshot deleted")


def test_restart_recovers_what_was_left_half_done(volume_conf, http, app, tmp_path):
    engine = app.extensions["mininova-volume"].engine
    stuck = http.create_volume()
    db.volume_update(engine, stuck["id"], {"status": "creating"})
    going = http.create_volume()
    db.volume_update(engine, going["id"], {"status": "deleting"})
    stray = tmp_path / "conversion" / "image_download_x_1234"
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"half an image")
    app.extensions["mininova-volume"].manager.stop()

    restarted = volume_app.create_app()
    try:
        assert http.volume(stuck["id"])["status"] == "error"
        http.wait_volume_gone(going["id"])
        assert not volume_file(tmp_path, going["id"]).exists()
        assert not stray.exists()
    finally:
        restarted.extensions["mininova-volume"].manager.stop()


def test_the_admin_unsticks_a_volume(http):
    volume = http.create_volume()
    http.post("/attachments", json={"attachment": {
        "volume_uuid": volume["id"], "instance_uuid": "7e1a4c5e-0000-4000-8000-00000000000a"}})
    response = http.post(f"/volumes/{volume['id']}/action", user=ADMIN, json={
        "os-reset_status": {"status": "available", "attach_status": "detached"}})
    assert response.status_code == 202
    assert http.volume(volume["id"])["status"] == "available"
    assert http.get("/attachments").get_json() == {"attachments": []}
