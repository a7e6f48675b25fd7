"""create_root_disk re-checks the cached base before each overlay.

The cache and qemu-img are replaced: the base file is written here, and
the overlay's creation is recorded instead of run.
"""

import json
import struct

import pytest

from mininova import exception
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
