"""create_root_disk re-checks the cached base before each overlay.

The cache and qemu-img are replaced: the base file is written here, and
the overlay's creation is recorded instead of run.
"""

import json
import struct
import subprocess

import pytest

from mininova import exception
from mininova.virt.fake import empty_qcow2
from mininova.virt.libvirt import imagebackend, imagecache
from mininova.virt.libvirt import utils as libvirt_utils

MiB = 1024 * 1024
GiB = 1024 ** 3


@pytest.fixture
def overlays(monkeypatch):
    made = []
    monkeypatch.setattr(libvirt_utils, "create_cow_image",
                        lambda base, path, size=None: made.append((base, path, size)))
    return made


@pytest.fixture
def cached_base(tmp_path, monkeypatch):
    """Make the image cache answer with a base file holding ``data``."""
    base = tmp_path / "_base" / "0123abcd"
    base.parent.mkdir()

    def with_data(data):
        base.write_bytes(data)
        monkeypatch.setattr(imagecache, "fetch_base_image",
                            lambda context, image, cache_mode="none": str(base))
        return base
    return with_data


def instance(root_gb):
    return {"uuid": "u-1", "flavor": {"root_gb": root_gb}}


def test_raw_base_gets_an_overlay_of_the_flavor_size(tmp_path, cached_base, overlays):
    base = cached_base(b"\0" * 4 * MiB)
    instance_dir = tmp_path / "u-1"
    instance_dir.mkdir()

    disk = imagebackend.create_root_disk(None, instance(1), {"id": "img"}, str(instance_dir),
                                         "none")

    assert overlays == [(str(base), disk, 1 * GiB)]
    assert json.loads((instance_dir / "disk.info").read_text()) == {disk: "qcow2"}


def test_image_larger_than_the_root_disk_is_refused(tmp_path, cached_base, overlays):
    base = cached_base(b"")
    with open(base, "wb") as big:
        big.truncate(2 * GiB)  # sparse: takes no room

    with pytest.raises(exception.FlavorDiskSmallerThanImage):
        imagebackend.create_root_disk(None, instance(1), {"id": "img"}, str(tmp_path), "none")
    assert overlays == []


def test_base_that_is_no_longer_raw_gets_no_overlay(tmp_path, cached_base, overlays):
    # A qcow2 header where the raw base should be: altered, or cached by a
    # version that did not check.
    header = b"QFI\xfb" + struct.pack(">IQIIQ", 3, 0, 0, 16, MiB)
    cached_base(header.ljust(4096, b"\0"))

    with pytest.raises(exception.ImageUnacceptable,
                       match="Image img is unacceptable: format is qcow2, not the declared raw"):
        imagebackend.create_root_disk(None, instance(1), {"id": "img"}, str(tmp_path), "none")
    assert overlays == []


# --- a resize's destination -------------------------------------------------------------------
# Real qcow2 overlays (qemu-img create) on small raw files in tmp_path.

def qemu_img_info(path):
    out = subprocess.run(["qemu-img", "info", "--output=json", "-f", "qcow2", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def make_overlay(path, backing, size=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["qemu-img", "create", "-f", "qcow2", "-o",
           f"backing_file={backing},backing_fmt=raw", str(path)]
    subprocess.run(cmd + ([str(size)] if size else []), check=True, capture_output=True)
    return path


@pytest.fixture
def two_hosts(tmp_path, monkeypatch):
    """The source's base and set-aside overlay of image "img"; our own base
    of it, which the image cache hands out."""
    name = imagecache.get_cache_fname("img")
    source_base = tmp_path / "source" / "_base" / name
    source_base.parent.mkdir(parents=True)
    source_base.write_bytes(b"\0" * MiB)
    source_disk = make_overlay(tmp_path / "source" / "u-1_resize" / "disk", source_base)
    our_base = tmp_path / "dest" / "_base" / name
    our_base.parent.mkdir(parents=True)
    our_base.write_bytes(b"\0" * MiB)
    monkeypatch.setattr(imagecache, "fetch_base_image",
                        lambda context, image, cache_mode="none", fallback_path=None:
                        str(our_base))
    instance_dir = tmp_path / "dest" / "u-1"
    instance_dir.mkdir()
    return source_disk, our_base, instance_dir


def test_a_migrated_disk_is_copied_and_backed_by_our_base(two_hosts):
    source_disk, our_base, instance_dir = two_hosts

    disk = imagebackend.adopt_migrated_disk(None, {"id": "img"}, str(source_disk),
                                            str(instance_dir), "none")

    assert disk == str(instance_dir / "disk")
    info = qemu_img_info(disk)
    assert info["backing-filename"] == str(our_base)
    assert info["backing-filename-format"] == "raw"
    assert json.loads((instance_dir / "disk.info").read_text()) == {disk: "qcow2"}
    assert qemu_img_info(source_disk)["backing-filename"] != str(our_base)  # untouched


def test_a_migrated_disk_backed_by_another_file_is_refused(two_hosts, tmp_path):
    source_disk, _our_base, instance_dir = two_hosts
    elsewhere = tmp_path / "secret"
    elsewhere.write_bytes(b"host secrets")
    make_overlay(source_disk, elsewhere)

    with pytest.raises(exception.ImageUnacceptable, match="backed by .*secret"):
        imagebackend.adopt_migrated_disk(None, {"id": "img"}, str(source_disk),
                                         str(instance_dir), "none")


def test_a_migrated_disk_that_is_not_qcow2_is_refused(two_hosts):
    source_disk, _our_base, instance_dir = two_hosts
    source_disk.write_bytes(b"\0" * MiB)

    with pytest.raises(exception.ImageUnacceptable, match="is raw, not qcow2"):
        imagebackend.adopt_migrated_disk(None, {"id": "img"}, str(source_disk),
                                         str(instance_dir), "none")


@pytest.fixture
def resizes(monkeypatch):
    made = []
    monkeypatch.setattr(libvirt_utils, "resize_disk", lambda path, size: made.append(size))
    return made


@pytest.mark.parametrize("root_gb, virtual_size, expected", [
    (2, 1 * GiB, [2 * GiB]),      # bigger flavor: grown
    (1, 1 * GiB, []),             # same size
    (0, 32 * MiB, []),            # "as big as the image"
])
def test_the_disk_grows_to_the_new_flavor_only(tmp_path, resizes, root_gb, virtual_size,
                                               expected):
    disk = tmp_path / "disk"
    disk.write_bytes(empty_qcow2(virtual_size))
    imagebackend.grow_root_disk(instance(root_gb), str(disk))
    assert resizes == expected


@pytest.mark.parametrize("old_gb, new_gb, virtual_size, refused", [
    (1, 2, 1 * GiB, False),
    (2, 1, 2 * GiB, True),        # Nova's rule: a smaller root_gb
    (0, 1, 32 * MiB, False),      # an image-sized disk that fits
    (0, 1, 2 * GiB, True),        # ... and one that does not
    (1, 0, 1 * GiB, True),        # 0 GB is "the image's size": smaller than 1 GB here
])
def test_a_resize_that_would_shrink_the_disk_is_refused(tmp_path, old_gb, new_gb,
                                                        virtual_size, refused):
    disk = tmp_path / "disk"
    disk.write_bytes(empty_qcow2(virtual_size))
    check = imagebackend.check_can_resize_to
    if refused:
        with pytest.raises(exception.CannotResizeDisk, match="Unable to resize disk down."):
            check(instance(old_gb), str(disk), {"root_gb": new_gb})
    else:
        check(instance(old_gb), str(disk), {"root_gb": new_gb})
