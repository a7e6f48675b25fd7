"""``mininova image-show | image-update | image-delete | image-cache`` against
the in-process cloud."""

import re

import pytest

from mininova.cli import images
from tests.functional import helpers
from tests.functional.helpers import table_rows


def properties(text):
    return dict(row for row in table_rows(text)[1:])


@pytest.fixture
def tiny(admin, tmp_path):
    path = tmp_path / "tiny.raw"
    path.write_bytes(b"\0" * 1024 * 1024)
    return admin.create_image("tiny", str(path), "raw",
                              properties={"hw_architecture": "x86_64", "os_distro": "tiny"})


def test_image_show_by_name_and_by_id(mininova, tiny):
    for name_or_id in ("tiny", tiny["id"]):
        code, out, _err = mininova("image-show", name_or_id)
        assert code == 0
        shown = properties(out)
        assert shown["id"] == tiny["id"]
        assert shown["status"] == "active"
        assert shown["hw_architecture"] == "x86_64"
        assert shown["checksum"] == tiny["checksum"]
        assert "self" not in shown and "file" not in shown


def test_image_show_of_an_unknown_image(mininova):
    code, _out, err = mininova("image-show", "nope")

    assert code == 1
    assert "No image with a name or ID of 'nope' exists." in err


def test_image_update_sets_replaces_and_removes_properties(mininova, admin, tiny):
    code, out, _err = mininova("image-update", "--property", "hw_architecture=i686",
                               "--property", "hw_disk_bus=virtio",
                               "--remove-property", "os_distro", "tiny")

    assert code == 0
    shown = properties(out)
    assert shown["hw_architecture"] == "i686"
    assert shown["hw_disk_bus"] == "virtio"
    assert "os_distro" not in shown
    stored = admin.get_image(tiny["id"])
    assert (stored["hw_architecture"], stored["hw_disk_bus"]) == ("i686", "virtio")
    assert "os_distro" not in stored


def test_image_update_renames(mininova, admin, tiny):
    code, _out, _err = mininova("image-update", "--property", "name=tinier", tiny["id"])

    assert code == 0
    assert admin.get_image(tiny["id"])["name"] == "tinier"


def test_image_update_needs_something_to_change(mininova, tiny):
    with pytest.raises(SystemExit, match="give --property and/or --remove-property"):
        mininova("image-update", "tiny")


def test_image_update_of_a_property_it_lacks_fails_clearly(mininova, tiny):
    code, _out, err = mininova("image-update", "--remove-property", "nothing_here", "tiny")

    assert code == 1
    assert err.startswith("ERROR (")


def test_image_delete(mininova, admin, tiny):
    code, out, _err = mininova("image-delete", "tiny", "nope")

    assert code == 1
    assert out.strip() == "Image tiny has been deleted."
    assert admin.list_images() == []


# --- image-cache ----------------------------------------------------------------------

def test_image_cache_with_an_empty_cache(mininova, cloud):
    code, out, _err = mininova("image-cache")

    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Host host1: image cache manager every 2400 s, next run at ")
    assert lines[0].endswith("; removes base files unused for 86400 s")
    assert table_rows(out) == [images.IMAGE_CACHE_FIELDS]


@pytest.mark.hosts("host1", "host2")
def test_image_cache_shows_each_hosts_base_files(mininova, cloud, admin, tiny):
    server = admin.create_server("vm", tiny["id"], "42")
    helpers.wait_for_status(admin, server["id"], "ACTIVE")
    in_use = {"filename": "a" * 40, "image_id": tiny["id"], "image_name": "tiny",
              "size": 32 * 1024 * 1024, "used_by": [server["id"]], "age_seconds": 75,
              "will_be_removed": False, "removable_at": None}
    old = {"filename": "b" * 40, "image_id": None, "image_name": None, "size": 512,
           "used_by": [], "age_seconds": 2 * 86400 + 3600, "will_be_removed": True,
           "removable_at": "2026-11-20T10:00:00Z"}
    young = {"filename": "c" * 40, "image_id": "img-c", "image_name": "c",
             "size": 3 * 1024 ** 3, "used_by": [], "age_seconds": 600,
             "will_be_removed": False, "removable_at": "2026-11-22T10:00:00Z"}
    driver = cloud.computes["host1"].manager.driver
    driver.get_image_cache = lambda context, all_instances, next_pass_at: [in_use, old, young]

    code, out, _err = mininova("image-cache")

    assert code == 0
    headers = [line for line in out.splitlines() if line.startswith("Host ")]
    assert [h.split(":")[0] for h in headers] == ["Host host1", "Host host2"]
    rows = table_rows(out)
    assert rows[0] == images.IMAGE_CACHE_FIELDS
    assert rows[1:4] == [
        ["a" * 40, tiny["id"], "tiny", "32.0 MiB", server["id"], "1m 15s", "no: in use"],
        ["b" * 40, "-", "-", "512 B", "-", "2d 1h", "yes"],
        ["c" * 40, "img-c", "c", "3.0 GiB", "-", "10m 0s",
         "no: unused, old enough at 2026-11-22T10:00:00Z"],
    ]
    assert rows[4] == images.IMAGE_CACHE_FIELDS  # host2's, empty

    code, out, _err = mininova("image-cache", "--host", "host2")
    # The next run is "now + the time left", each read at its own instant:
    # two answers may round to seconds a second apart.
    assert ([_without_next_run(line) for line in out.splitlines() if line.startswith("Host ")]
            == [_without_next_run(headers[1])])


def _without_next_run(header):
    return re.sub(r"next run at \S+;", "next run at <time>;", header)


def test_image_cache_when_the_manager_is_off(mininova, conf):
    conf.set_override("manager_interval", 0, "image_cache")

    code, out, _err = mininova("image-cache")

    assert out.splitlines()[0] == ("Host host1: the image cache manager is off "
                                   "([image_cache] manager_interval = 0)")


def test_image_cache_of_an_unknown_host(mininova):
    code, _out, err = mininova("image-cache", "--host", "nowhere")

    assert code == 1
    assert err.startswith("ERROR (NotFound): Compute host nowhere could not be found.")


def test_image_cache_is_for_admins(mininova, monkeypatch):
    monkeypatch.setenv("MININOVA_TOKEN", "demo:demo")

    code, _out, err = mininova("image-cache")

    assert code == 1
    assert err.startswith("ERROR (Forbidden): Policy doesn't allow")
