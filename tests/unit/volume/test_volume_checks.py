"""The checks of a volume create, in Cinder's words
(mininova/volume/service/api.py, image_utils.py, manager.py)."""

import pytest

from mininova.conf import CONF
from mininova.volume.service import api, exception, image_utils, manager

GIB = 1024 ** 3


@pytest.mark.parametrize("size, expected", [(1, 1), ("2", 2), (10, 10)])
def test_a_size_is_a_whole_number_of_gib(size, expected):
    assert api._requested_size(size, None, None) == expected


@pytest.mark.parametrize("size", [0, -1, 1.5, "1.5", "x", None, True])
def test_a_bad_size_is_cinders_400(size):
    with pytest.raises(exception.InvalidInput) as raised:
        api._requested_size(size, None, None)
    assert raised.value.code == 400
    assert raised.value.format_message().startswith(
        f"Invalid input received: Invalid volume size provided for create request: {size} ")


def test_without_a_size_the_source_gives_it():
    assert api._requested_size(None, {"volume_size": 3}, None) == 3
    assert api._requested_size(None, None, {"size": 4}) == 4


def test_a_copy_is_never_smaller_than_its_source():
    api._check_size_against_sources(2, {"volume_size": 2}, None)
    with pytest.raises(exception.InvalidInput, match="cannot be smaller than the snapshot "
                                                     "size 2GB"):
        api._check_size_against_sources(1, {"volume_size": 2}, None)
    with pytest.raises(exception.InvalidInput, match="cannot be smaller than original volume "
                                                     "size  3GB"):
        api._check_size_against_sources(2, None, {"size": 3})


def test_only_usable_sources():
    with pytest.raises(exception.InvalidSnapshot):
        api._check_source_status({"status": "creating"}, None)
    with pytest.raises(exception.InvalidVolume):
        api._check_source_status(None, {"status": "error"})
    api._check_source_status({"status": "available"}, {"status": "in-use"})


@pytest.mark.parametrize("virtual_size, volume_gb, fits", [
    (GIB, 1, True),
    (GIB + 1, 1, False),       # rounded up: 2 GB
    (16 * 1024 ** 2, 1, True),
    (None, 1, True),           # unknown: checked again after the download
])
def test_an_image_must_fit_the_volume(virtual_size, volume_gb, fits):
    if fits:
        image_utils.check_virtual_size(virtual_size, volume_gb, "img")
        return
    with pytest.raises(exception.ImageUnacceptable) as raised:
        image_utils.check_virtual_size(virtual_size, volume_gb, "img")
    assert raised.value.format_message() == (
        "Image img is unacceptable: Image virtual size is 2GB and doesn't fit in a volume "
        "of size 1GB.")


def test_the_availability_zone(conf):
    assert api._availability_zone(None) == CONF.volume.storage_availability_zone
    with pytest.raises(exception.InvalidInput, match="Availability zone 'mars' is invalid."):
        api._availability_zone("mars")


def test_what_a_volume_keeps_of_its_image():
    image = {"id": "i1", "name": "tiny", "checksum": "abc", "container_format": "bare",
             "disk_format": "qcow2", "min_disk": 0, "min_ram": 64, "size": 1234,
             "virtual_size": 99, "status": "active", "visibility": "public",
             "hw_disk_bus": "virtio", "tags": []}
    assert manager.volume_image_metadata(image) == {
        "image_id": "i1", "image_name": "tiny", "checksum": "abc", "container_format": "bare",
        "disk_format": "qcow2", "min_disk": "0", "min_ram": "64", "size": "1234",
        "hw_disk_bus": "virtio"}


def test_the_create_spec_names_cinders_create_types():
    assert api._create_spec(None, None, None) == {"type": "raw"}
    assert api._create_spec({"id": "s"}, None, None) == {"type": "snap", "snapshot_id": "s"}
    assert api._create_spec(None, {"id": "v"}, None) == {"type": "source_vol",
                                                          "source_volid": "v"}
    assert api._create_spec(None, None, {"id": "i"})["type"] == "image"
