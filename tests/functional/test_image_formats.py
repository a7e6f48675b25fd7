"""Disk formats through the whole cloud: what mininova-image refuses at
upload, the image statuses and hashes, metadata updates, and the compute's
fetch_to_raw converting VMDK and VDI images it downloads from the running
image service (the fake driver never fetches images, so fetch_to_raw is
called directly, as the libvirt driver would).

Images are made in the test with qemu-img, qemu-io and a few byte edits.
"""

import hashlib
import os
import struct
import subprocess
import threading

import pytest

from mininova import context as mn_context
from mininova import exception
from mininova.cli.client import ClientException
from mininova.conf import CONF
from mininova.db import api as db_api
from mininova.image.service import models
from mininova.image.service import store as image_store
from mininova.virt import images
from tests.functional.helpers import make_client

MiB = 1024 * 1024


# --- making images -------------------------------------------------------------------------

def run(*cmd, cwd=None):
    subprocess.run([str(arg) for arg in cmd], check=True, capture_output=True, cwd=cwd)


def qemu_img_create(path, fmt, *options, size="1M"):
    """In the image's directory: a relative data_file=x.data lands there too."""
    run("qemu-img", "create", "-f", fmt, *options, path, size, cwd=path.parent)
    return path


def pattern_disk(tmp_path):
    """A 4 MiB raw disk: 1 MiB of 0x5a (written by qemu-io), then zeros."""
    path = tmp_path / "pattern.raw"
    qemu_img_create(path, "raw", size="4M")
    run("qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 1M", path)
    return path


def converted(tmp_path, source, fmt, *options):
    path = tmp_path / f"pattern.{fmt}"
    run("qemu-img", "convert", "-f", "raw", "-O", fmt, *options, source, path)
    return path


def qcow2_with_backing_file(tmp_path):
    (tmp_path / "host-file").write_bytes(b"\0" * MiB)
    return qemu_img_create(tmp_path / "x.qcow2", "qcow2", "-b", tmp_path / "host-file",
                           "-F", "raw")


def qcow2_with_data_file(tmp_path):
    return qemu_img_create(tmp_path / "x.qcow2", "qcow2", "-o", "data_file=x.data")


def qcow2_with_header_edit(tmp_path, offset, data):
    path = qemu_img_create(tmp_path / "x.qcow2", "qcow2", "-o", "compat=1.1")
    with open(path, "r+b") as image:
        image.seek(offset)
        image.write(data)
    return path


def vmdk_flat_descriptor(tmp_path):
    return qemu_img_create(tmp_path / "x.vmdk", "vmdk", "-o", "subformat=monolithicFlat")


def vmdk_with_an_extra_extent(tmp_path):
    path = qemu_img_create(tmp_path / "x.vmdk", "vmdk")
    with open(path, "r+b") as image:
        offset, size = struct.unpack_from("<QQ", image.read(512), 28)
        image.seek(offset * 512)
        text = image.read(size * 512).split(b"\0", 1)[0]
        text = text.replace(b'SPARSE "x.vmdk"\n',
                            b'SPARSE "x.vmdk"\nRW 2048 FLAT "/etc/shadow" 0\n')
        image.seek(offset * 512)
        image.write(text)
    return path


def raw_file(tmp_path):
    path = tmp_path / "x.raw"
    path.write_bytes(b"\x01" * MiB)
    return path


REFUSED = {
    "qcow2-backing-file": (qcow2_with_backing_file, "qcow2", "has a backing file"),
    "qcow2-data-file": (qcow2_with_data_file, "qcow2",
                        "qcow2 image has an external data file ('x.data')"),
    "qcow2-unknown-feature": (
        lambda tmp_path: qcow2_with_header_edit(tmp_path, 79, b"\x80"), "qcow2",
        "qcow2 image uses unknown incompatible feature bits 7"),
    "qcow2-version-4": (
        lambda tmp_path: qcow2_with_header_edit(tmp_path, 4, struct.pack(">I", 4)), "qcow2",
        "qcow2 version 4 is not accepted (only versions 2 and 3)"),
    "qed": (lambda tmp_path: qemu_img_create(tmp_path / "x.qed", "qed"), "qcow2",
            "format is qed, not the declared qcow2"),
    "vmdk-flat-descriptor": (vmdk_flat_descriptor, "vmdk", "VMDK is a descriptor file"),
    "vmdk-extent-naming-a-host-file": (vmdk_with_an_extra_extent, "vmdk",
                                       "VMDK descriptor lists 2 extents"),
    "raw-declared-qcow2": (raw_file, "qcow2", "format is raw, not the declared qcow2"),
    "qcow2-declared-raw": (lambda tmp_path: qemu_img_create(tmp_path / "x.qcow2", "qcow2"),
                           "raw", "format is qcow2, not the declared raw"),
    "vdi-declared-raw": (lambda tmp_path: qemu_img_create(tmp_path / "x.vdi", "vdi"), "raw",
                         "format is vdi, not the declared raw"),
    "vmdk-declared-raw": (lambda tmp_path: qemu_img_create(tmp_path / "x.vmdk", "vmdk"),
                          "raw", "format is vmdk, not the declared raw"),
    "raw-declared-iso": (raw_file, "iso", "format is raw, not the declared iso"),
}


def store_files():
    return sorted(os.listdir(CONF.image_service.store_path))


def image_named(client, name):
    (image,) = [i for i in client.list_images() if i["name"] == name]
    return image


# --- refused at upload ------------------------------------------------------------------------

@pytest.mark.parametrize("case", sorted(REFUSED))
def test_unsafe_or_mismatched_images_are_refused_at_upload(admin, tmp_path, case):
    make, disk_format, reason = REFUSED[case]
    path = make(tmp_path)

    with pytest.raises(ClientException) as caught:
        admin.create_image(case, str(path), disk_format)

    assert caught.value.code == 400
    assert reason in caught.value.message
    image = image_named(admin, case)
    assert caught.value.message.startswith(f"Image {image['id']} was rejected: ")
    assert image["status"] == "killed"
    assert (image["size"], image["checksum"]) == (None, None)
    assert store_files() == []


# --- accepted: statuses, hashes, sizes ----------------------------------------------------------

@pytest.mark.parametrize("fmt, options", [
    ("raw", []),
    ("qcow2", []),
    ("vmdk", []),
    ("vmdk", ["-o", "subformat=streamOptimized"]),
    ("vdi", []),
])
def test_accepted_images_have_hashlibs_digests_and_their_virtual_size(admin, tmp_path, fmt,
                                                                       options):
    source = pattern_disk(tmp_path)
    path = source if fmt == "raw" else converted(tmp_path, source, fmt, *options)
    data = path.read_bytes()

    image = admin.create_image(f"pattern-{fmt}", str(path), fmt)

    assert image["status"] == "active"
    assert image["size"] == len(data)
    assert image["virtual_size"] == 4 * MiB
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    assert image["os_hash_algo"] == "sha512"
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert store_files() == [image["id"]]


def test_statuses_go_queued_saving_active(admin, tmp_path, monkeypatch):
    """The upload is held while its data is being checked, so the status
    can be read then: it must be saving."""
    checking, may_finish = threading.Event(), threading.Event()
    real_inspect_disk = image_store.inspect_disk

    def held_inspect_disk(*args):
        checking.set()
        assert may_finish.wait(30)
        return real_inspect_disk(*args)

    monkeypatch.setattr(image_store, "inspect_disk", held_inspect_disk)
    path = raw_file(tmp_path)
    image = admin.image("POST", "/v2/images", json={"name": "held", "disk_format": "raw"})
    statuses = [admin.get_image(image["id"])["status"]]

    def upload():
        with open(path, "rb") as data:
            admin.image("PUT", f"/v2/images/{image['id']}/file", expect_json=False, data=data,
                        headers={"Content-Type": "application/octet-stream"})

    uploader = threading.Thread(target=upload)
    uploader.start()
    try:
        assert checking.wait(30), "the upload never reached the check"
        statuses.append(admin.get_image(image["id"])["status"])
    finally:
        may_finish.set()
        uploader.join(30)
    statuses.append(admin.get_image(image["id"])["status"])

    assert statuses == ["queued", "saving", "active"]


# --- metadata updates ----------------------------------------------------------------------------

JSON_PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}


def test_patch_updates_properties_for_the_owner_only(cloud, admin, demo, tmp_path):
    image = demo.create_image("mine", str(raw_file(tmp_path)), "raw",
                              properties={"os_distro": "debian"})
    assert image["visibility"] == "private"
    operations = [{"op": "replace", "path": "/name", "value": "renamed"},
                  {"op": "replace", "path": "/min_ram", "value": 64},
                  {"op": "add", "path": "/hw_architecture", "value": "x86_64"},
                  {"op": "remove", "path": "/os_distro"}]

    updated = demo.image("PATCH", f"/v2/images/{image['id']}", json=operations,
                         headers=JSON_PATCH)

    assert (updated["name"], updated["min_ram"]) == ("renamed", 64)
    assert updated["hw_architecture"] == "x86_64"
    assert "os_distro" not in updated
    assert demo.get_image(image["id"]) == updated

    other = make_client(cloud, "eve:other-project")
    rename = [{"op": "replace", "path": "/name", "value": "stolen"}]
    with pytest.raises(ClientException) as hidden:
        other.image("PATCH", f"/v2/images/{image['id']}", json=rename, headers=JSON_PATCH)
    assert hidden.value.code == 404

    public = admin.create_image("public", str(raw_file(tmp_path)), "raw")
    with pytest.raises(ClientException) as forbidden:
        demo.image("PATCH", f"/v2/images/{public['id']}", json=rename, headers=JSON_PATCH)
    assert forbidden.value.code == 403
    assert admin.get_image(public["id"])["name"] == "public"


# --- the compute's fetch_to_raw against the running image service ---------------------------------

@pytest.mark.parametrize("fmt, options", [
    ("vmdk", []),
    ("vmdk", ["-o", "subformat=streamOptimized"]),
    ("vdi", []),
    ("qcow2", []),
])
def test_fetch_to_raw_converts_what_it_downloads(cloud, admin, tmp_path, caplog, fmt,
                                                 options):
    source = pattern_disk(tmp_path)
    image = admin.create_image(f"pattern-{fmt}", str(converted(tmp_path, source, fmt,
                                                                *options)), fmt)
    base = tmp_path / "_base" / "abc"
    base.parent.mkdir()
    caplog.set_level("INFO", logger="mininova.virt.images")

    images.fetch_to_raw(mn_context.get_admin_context(), image, str(base))

    assert base.read_bytes() == source.read_bytes()
    assert os.listdir(base.parent) == ["abc"]
    assert any(r.getMessage().startswith("Converted 4.00 MB image at ")
               for r in caplog.records)


def test_fetch_to_raw_refuses_an_image_altered_in_the_store(cloud, admin, tmp_path):
    """Should the store's file change behind the image service's back (its
    checksum updated too), the compute still refuses it, from its bytes."""
    image = admin.create_image("altered", str(raw_file(tmp_path)), "raw")
    evil = qcow2_with_backing_file(tmp_path).read_bytes()
    with open(os.path.join(CONF.image_service.store_path, image["id"]), "wb") as stored:
        stored.write(evil)
    engine = db_api.get_engine(CONF.image_service.connection)
    models.image_update(engine, image["id"], {"checksum": hashlib.md5(evil).hexdigest(),
                                              "os_hash_value": hashlib.sha512(evil).hexdigest()})
    image = admin.get_image(image["id"])  # the record as a boot would read it now
    base = tmp_path / "_base" / "abc"
    base.parent.mkdir()

    with pytest.raises(exception.ImageUnacceptable,
                       match="format is qcow2, not the declared raw"):
        images.fetch_to_raw(mn_context.get_admin_context(), image, str(base))

    assert os.listdir(base.parent) == []
