"""The image cache manager's decisions (mininova/virt/libvirt/imagecache.py).

Real files in tmp_path: small raw base files in ``_base`` and real qcow2
overlays on them made with ``qemu-img create``, each with its
``disk.info``, as the libvirt driver lays them out. The ages are set with
``os.utime``. What is checked is what a pass leaves on disk and what it
logs, and what the report predicts.
"""

import calendar
import hashlib
import json
import logging
import os
import subprocess
import threading
import time

import pytest

from mininova import exception
from mininova.image import glance
from mininova.virt import images
from mininova.virt.libvirt import imagecache

MiB = 1024 * 1024
DAY = 86400


@pytest.fixture
def instances_path(conf, tmp_path):
    path = tmp_path / "instances"
    (path / "_base").mkdir(parents=True)
    conf.set_override("instances_path", str(path))
    return path


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.DEBUG, logger="mininova.virt.libvirt.imagecache")

    def messages():
        return [record.getMessage() for record in caplog.records]
    return messages


def make_base(instances_path, image_id, age=0.0):
    """A 1 MiB raw base file of ``image_id``, last used ``age`` seconds ago."""
    path = instances_path / "_base" / hashlib.sha1(image_id.encode()).hexdigest()
    path.write_bytes(b"\xab" * MiB)
    set_age(path, age)
    return path


def set_age(path, age):
    then = time.time() - age
    os.utime(path, (then, then))


def age_of(path):
    return time.time() - path.stat().st_mtime


def make_overlay(instances_path, instance_uuid, base):
    """``<uuid>/disk``, a qcow2 overlay on ``base``, and its ``disk.info``."""
    instance_dir = instances_path / instance_uuid
    instance_dir.mkdir()
    disk = instance_dir / "disk"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", "-o",
                    f"backing_file={base},backing_fmt=raw", str(disk)],
                   check=True, capture_output=True)
    (instance_dir / "disk.info").write_text(json.dumps({str(disk): "qcow2"}))
    return disk


def instance(instance_uuid, image_id):
    return {"uuid": instance_uuid, "image_ref": image_id}


def run_pass(all_instances=()):
    imagecache.ImageCacheManager().update(None, list(all_instances))


# --- one pass --------------------------------------------------------------------------

def test_a_base_in_use_is_kept_and_made_young(instances_path, log):
    base = make_base(instances_path, "img-a", age=3 * DAY)
    make_overlay(instances_path, "uuid-1", base)

    run_pass([instance("uuid-1", "img-a")])

    assert base.exists()
    assert age_of(base) < 60
    assert f"image img-a at ({base}): checking" in log()
    assert f"Active base files: {base}" in log()
    assert not any(m.startswith("Removable base files") for m in log())


def test_an_unused_old_base_is_removed(instances_path, log):
    used = make_base(instances_path, "img-used", age=3 * DAY)
    make_overlay(instances_path, "uuid-1", used)
    unused = make_base(instances_path, "img-gone", age=2 * DAY)

    run_pass([instance("uuid-1", "img-used")])

    assert not unused.exists()
    assert used.exists()
    assert f"Removable base files: {unused}" in log()
    assert f"Removing base or swap file: {unused}" in log()


def test_an_unused_young_base_is_kept(instances_path, conf, log):
    conf.set_override("remove_unused_original_minimum_age_seconds", 600, "image_cache")
    young = make_base(instances_path, "img-new", age=300)

    run_pass()

    assert young.exists()
    assert f"Removable base files: {young}" in log()
    assert f"Base file too young to remove: {young}" in log()
    assert not any(m.startswith("Removing base") for m in log())


def test_unknown_files_are_logged_and_left(instances_path, log):
    notes = instances_path / "_base" / "notes.txt"
    notes.write_text("mine")
    set_age(notes, 10 * DAY)
    upper = instances_path / "_base" / ("A" * 40)  # not a sha1 as we write them
    upper.write_bytes(b"x")
    set_age(upper, 10 * DAY)
    # A fetch's temporary files belong to the fetch, not to the manager.
    part = instances_path / "_base" / (hashlib.sha1(b"img").hexdigest() + ".part")
    part.write_bytes(b"x")
    set_age(part, 10 * DAY)

    run_pass()

    assert notes.exists() and upper.exists() and part.exists()
    assert f"Unknown base file: {notes}" in log()
    assert f"Unknown base file: {upper}" in log()
    assert not any(str(part) in m for m in log())


def test_a_base_under_an_overlay_whose_instance_row_is_gone_is_kept(instances_path, log):
    # The compute lost track of the guest (a half-finished delete, a restored
    # database): no instance names the image, but a disk on this host still
    # reads its unwritten blocks from the base. Removing it would be Nova's
    # "disappearing images".
    base = make_base(instances_path, "img-orphan", age=30 * DAY)
    make_overlay(instances_path, "lost-uuid", base)

    run_pass([])

    assert base.exists()
    assert (f"Base file {base} is in use by the disk in {instances_path / 'lost-uuid'}, "
            f"which no instance of this host accounts for: keeping it") in log()
    assert f"Active base files: {base}" in log()
    assert not any(m.startswith("Removing base") for m in log())


def test_an_overlay_being_deleted_still_counts(instances_path, log):
    base = make_base(instances_path, "img-a", age=30 * DAY)
    make_overlay(instances_path, "uuid-1", base)
    # destroy renames the directory before removing it; its disk.info keeps
    # the old path.
    (instances_path / "uuid-1").rename(instances_path / "uuid-1_del")

    run_pass([])

    assert base.exists()


def test_a_base_of_an_instance_without_a_disk_yet_is_kept(instances_path, log):
    # A build between the fetch and the overlay: only the row says so.
    base = make_base(instances_path, "img-a", age=30 * DAY)

    run_pass([instance("uuid-building", "img-a")])

    assert base.exists()
    assert f"Active base files: {base}" in log()


def test_a_disk_whose_backing_file_cannot_be_read_stops_all_removals(instances_path, log):
    unused = make_base(instances_path, "img-gone", age=30 * DAY)
    instance_dir = instances_path / "uuid-1"
    instance_dir.mkdir()
    (instance_dir / "disk").write_bytes(b"not a qcow2 at all".ljust(4096, b"\0"))
    (instance_dir / "disk.info").write_text(json.dumps({str(instance_dir / "disk"): "qcow2"}))

    run_pass([instance("uuid-1", "img-other")])

    assert unused.exists()
    assert any(m.startswith(f"Cannot read the backing file of {instance_dir / 'disk'}")
               for m in log())
    assert any(m.startswith("Not removing any base file") for m in log())


def test_with_removal_turned_off_nothing_is_removed(instances_path, conf, log):
    conf.set_override("remove_unused_base_images", False, "image_cache")
    unused = make_base(instances_path, "img-gone", age=30 * DAY)

    run_pass()

    assert unused.exists()
    assert f"Removable base files: {unused}" in log()


def test_removal_waits_for_the_image_lock_and_checks_the_age_again(instances_path, log):
    base = make_base(instances_path, "img-a", age=30 * DAY)
    locked, release = threading.Event(), threading.Event()

    def boot_picking_the_base():
        # What fetch_base_image does for a cached file, slowly.
        with imagecache.image_lock(base.name):
            locked.set()
            release.wait(10)
            os.utime(base)

    boot = threading.Thread(target=boot_picking_the_base)
    boot.start()
    locked.wait(5)
    manager = threading.Thread(target=run_pass)
    manager.start()
    manager.join(0.5)
    assert manager.is_alive(), "the pass did not wait for the image's lock"
    assert base.exists()
    release.set()
    boot.join(5)
    manager.join(5)

    assert base.exists()
    assert f"Base file too young to remove: {base}" in log()


def test_removal_after_the_lock_is_released(instances_path, log):
    base = make_base(instances_path, "img-a", age=30 * DAY)
    with imagecache.image_lock(base.name):
        manager = threading.Thread(target=run_pass)
        manager.start()
        manager.join(0.5)
        assert base.exists()
    manager.join(5)

    assert not base.exists()
    assert f"Removing base or swap file: {base}" in log()


def test_fetch_of_a_cached_image_makes_it_young(instances_path, monkeypatch):
    base = make_base(instances_path, "img-a", age=30 * DAY)
    monkeypatch.setattr(images, "fetch_to_raw", lambda *a, **k: pytest.fail("downloaded"))

    path = imagecache.fetch_base_image(None, {"id": "img-a"})

    assert path == str(base)
    assert age_of(base) < 60


# --- the report ----------------------------------------------------------------------------

@pytest.fixture
def image_service(monkeypatch):
    def serve(images_list):
        monkeypatch.setattr(glance.API, "get_all", lambda self, context: images_list)
    return serve


def test_report_names_images_and_predicts_the_next_pass(instances_path, conf, image_service):
    conf.set_override("remove_unused_original_minimum_age_seconds", 3600, "image_cache")
    used = make_base(instances_path, "img-used", age=10)
    make_overlay(instances_path, "uuid-1", used)
    old = make_base(instances_path, "img-old", age=2 * 3600)
    young = make_base(instances_path, "img-young", age=600)
    unnamed = make_base(instances_path, "img-deleted-from-glance", age=2 * 3600)
    image_service([{"id": "img-used", "name": "tiny"}, {"id": "img-old", "name": "old"},
                   {"id": "img-young", "name": "young"}])
    next_pass_at = time.time() + 60

    report = imagecache.ImageCacheManager().report(
        None, [instance("uuid-1", "img-used"), instance("uuid-2", "img-used")], next_pass_at)

    by_file = {entry["filename"]: entry for entry in report}
    assert list(by_file) == sorted(by_file)
    assert by_file[used.name] == {
        "filename": used.name, "image_id": "img-used", "image_name": "tiny", "size": MiB,
        "used_by": ["uuid-1", "uuid-2"], "age_seconds": by_file[used.name]["age_seconds"],
        "will_be_removed": False, "removable_at": None}
    assert 9 <= by_file[used.name]["age_seconds"] <= 12
    assert by_file[old.name]["will_be_removed"] is True
    assert by_file[old.name]["used_by"] == []
    assert by_file[young.name]["will_be_removed"] is False
    removable_at = calendar.timegm(time.strptime(by_file[young.name]["removable_at"],
                                                 "%Y-%m-%dT%H:%M:%SZ"))
    assert abs(removable_at - (time.time() + 3000)) < 5
    assert by_file[unnamed.name]["image_id"] is None
    assert by_file[unnamed.name]["image_name"] is None
    assert by_file[unnamed.name]["will_be_removed"] is True
    # The report only predicts: nothing was removed or touched.
    assert old.exists() and unnamed.exists()
    assert age_of(used) >= 9


def test_report_when_passes_are_off_removes_nothing(instances_path, image_service):
    make_base(instances_path, "img-old", age=30 * DAY)
    image_service([])

    [entry] = imagecache.ImageCacheManager().report(None, [], None)

    assert entry["will_be_removed"] is False
    assert entry["removable_at"] is not None


def test_report_shows_the_overlay_of_an_untracked_instance(instances_path, image_service):
    base = make_base(instances_path, "img-a", age=30 * DAY)
    make_overlay(instances_path, "lost-uuid", base)
    image_service([{"id": "img-a", "name": "a"}])

    [entry] = imagecache.ImageCacheManager().report(None, [], time.time())

    assert entry["used_by"] == ["lost-uuid"]
    assert entry["will_be_removed"] is False
    assert entry["removable_at"] is None


# --- resizes ---------------------------------------------------------------------------------

def test_a_disk_set_aside_by_a_resize_keeps_its_base_quietly(instances_path, image_service, log):
    # The source host of a migration: the instance row names the destination
    # now, and <uuid>_resize waits for the confirm or the revert.
    base = make_base(instances_path, "img-a", age=30 * DAY)
    make_overlay(instances_path, "uuid-1", base)
    (instances_path / "uuid-1").rename(instances_path / "uuid-1_resize")
    image_service([{"id": "img-a", "name": "a"}])

    run_pass([])

    assert base.exists()
    assert f"Active base files: {base}" in log()
    assert not any("accounts for" in m for m in log())
    [entry] = imagecache.ImageCacheManager().report(None, [], time.time())
    assert entry["used_by"] == ["uuid-1_resize"]


def test_a_same_host_resize_shows_both_disks(instances_path, image_service):
    base = make_base(instances_path, "img-a")
    make_overlay(instances_path, "uuid-1", base)
    (instances_path / "uuid-1").rename(instances_path / "uuid-1_resize")
    make_overlay(instances_path, "uuid-1", base)
    image_service([])

    [entry] = imagecache.ImageCacheManager().report(None, [instance("uuid-1", "img-a")], None)

    assert entry["used_by"] == ["uuid-1", "uuid-1_resize"]


def test_snapshot_temporary_files_are_not_instances(instances_path, log):
    (instances_path / "snapshots" / "tmpx").mkdir(parents=True)
    run_pass([])
    assert not any("snapshots" in m for m in log())


# --- another host's base, when the image is gone -----------------------------------------

def download_fails(monkeypatch):
    def fail(context, image, path, cache_mode="none"):
        raise exception.ImageDownloadFailed(image_id=image["id"], reason="HTTP 404")
    monkeypatch.setattr(images, "fetch_to_raw", fail)


def test_a_deleted_image_is_copied_from_the_other_hosts_base(instances_path, tmp_path,
                                                             monkeypatch, log):
    download_fails(monkeypatch)
    other = tmp_path / "other-host-base"
    other.write_bytes(b"\xab" * MiB)

    path = imagecache.fetch_base_image(None, {"id": "img-gone"}, fallback_path=str(other))

    assert open(path, "rb").read() == other.read_bytes()
    assert os.path.basename(path) == hashlib.sha1(b"img-gone").hexdigest()
    assert any("could not be downloaded" in m for m in log())


def test_without_a_fallback_the_download_error_stands(instances_path, monkeypatch):
    download_fails(monkeypatch)
    with pytest.raises(exception.ImageDownloadFailed):
        imagecache.fetch_base_image(None, {"id": "img-gone"})


def test_a_copied_base_that_is_not_raw_is_refused(instances_path, tmp_path, monkeypatch):
    download_fails(monkeypatch)
    other = tmp_path / "not-raw"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(other), "1M"], check=True,
                   capture_output=True)
    with pytest.raises(exception.ImageUnacceptable):
        imagecache.fetch_base_image(None, {"id": "img-gone"}, fallback_path=str(other))
    assert os.listdir(instances_path / "_base") == []


def test_qemu_img_is_asked_again_only_of_a_disk_that_changed(instances_path, monkeypatch):
    asked = []
    real_info = images.qemu_img_info

    def counting_info(path, image_format):
        asked.append(path)
        return real_info(path, image_format)

    monkeypatch.setattr(images, "qemu_img_info", counting_info)
    first = make_base(instances_path, "img-a", age=3 * DAY)
    second = make_base(instances_path, "img-b", age=3 * DAY)
    disk = make_overlay(instances_path, "uuid-1", first)

    run_pass()
    run_pass()
    assert asked == [str(disk)]
    assert first.exists() and not second.exists()  # in use by the overlay; unused

    # The disk now reads from another base: its file changed, so it is asked
    # again, and the base it names now is the one kept.
    second = make_base(instances_path, "img-b", age=3 * DAY)
    subprocess.run(["qemu-img", "rebase", "-u", "-f", "qcow2", "-F", "raw", "-b",
                    str(second), str(disk)], check=True, capture_output=True)
    set_age(first, 3 * DAY)  # the passes made it young while it was in use
    run_pass()
    assert asked == [str(disk), str(disk)]
    assert second.exists() and not first.exists()
