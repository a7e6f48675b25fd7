"""The in-memory driver (mininova/virt/fake.py): power states, the events
it reports, the test helpers, a snapshot's real qcow2, resizes."""

import io
import subprocess

import pytest

from mininova import exception
from mininova.compute import power_state, task_states
from mininova.image import glance
from mininova.virt import driver, fake, format_inspector

NANO = {"name": "m1.nano", "memory_mb": 64, "root_gb": 0, "vcpus": 1}
SMALL = {"name": "m1.small", "memory_mb": 2048, "root_gb": 20, "vcpus": 1}


def instance(uuid="u-1", flavor=NANO):
    return {"uuid": uuid, "display_name": "vm1", "flavor": flavor, "image_ref": "img-1"}


@pytest.fixture
def fake_driver(conf):
    the_driver = fake.FakeDriver()
    the_driver.init_host("host-a")
    the_driver.events = []
    the_driver.register_event_listener(
        lambda event: the_driver.events.append((event.uuid, event.name)))
    the_driver.spawn(None, instance(), {"id": "img-1"})
    return the_driver


def state(the_driver, uuid="u-1"):
    return the_driver.get_power_state({"uuid": uuid})


def test_each_action_leaves_its_power_state_and_reports_it(fake_driver):
    steps = [
        (lambda: fake_driver.power_off(instance(), 60, 10), power_state.SHUTDOWN, "Stopped"),
        (lambda: fake_driver.power_on(None, instance()), power_state.RUNNING, "Started"),
        (lambda: fake_driver.reboot(None, instance(), "SOFT"), power_state.RUNNING, "Started"),
        (lambda: fake_driver.pause(instance()), power_state.PAUSED, "Paused"),
        (lambda: fake_driver.unpause(instance()), power_state.RUNNING, "Resumed"),
        (lambda: fake_driver.suspend(None, instance()), power_state.SUSPENDED, "Suspended"),
        (lambda: fake_driver.resume(None, instance()), power_state.RUNNING, "Started"),
    ]
    for action, expected_state, expected_event in steps:
        fake_driver.events.clear()
        action()
        assert state(fake_driver) == expected_state
        assert fake_driver.events == [("u-1", expected_event)]


def test_spawn_reports_started(conf):
    the_driver = fake.FakeDriver()
    seen = []
    the_driver.register_event_listener(seen.append)
    the_driver.spawn(None, instance(), {})
    assert seen == [driver.LifecycleEvent("u-1", driver.EVENT_LIFECYCLE_STARTED)]


def test_pausing_a_stopped_guest_fails_as_libvirt_would(fake_driver):
    fake_driver.power_off(instance())
    with pytest.raises(exception.InternalError, match="the guest is shutdown, not running"):
        fake_driver.pause(instance())


def test_power_off_of_a_vanished_guest_is_not_an_error(fake_driver):
    fake_driver.destroy_behind_back("u-1")
    fake_driver.power_off(instance())
    assert state(fake_driver) == power_state.NOSTATE


def test_the_guest_powers_itself_off(fake_driver):
    fake_driver.events.clear()
    fake_driver.guest_powers_off("u-1")
    assert state(fake_driver) == power_state.SHUTDOWN
    assert fake_driver.events == [("u-1", "Stopped")]


def test_a_guest_destroyed_behind_the_computes_back_vanishes_silently(fake_driver):
    fake_driver.events.clear()
    fake_driver.destroy_behind_back("u-1")
    assert fake_driver.list_instance_uuids() == []
    assert fake_driver.events == []


def test_power_on_brings_a_vanished_guest_back(fake_driver):
    fake_driver.destroy_behind_back("u-1")
    fake_driver.power_on(None, {"uuid": "u-1"})
    assert state(fake_driver) == power_state.RUNNING


def test_fail_next_fails_once(fake_driver):
    fake_driver.fail_next("pause")
    with pytest.raises(exception.InternalError, match="pause failed"):
        fake_driver.pause(instance())
    fake_driver.pause(instance())
    assert state(fake_driver) == power_state.PAUSED


# --- snapshot ---------------------------------------------------------------------------------

@pytest.fixture
def uploads(monkeypatch):
    made = []

    def upload(self, context, image_id, data, size=None):
        made.append((image_id, data.read(), size))
    monkeypatch.setattr(glance.API, "upload", upload)
    return made


def test_snapshot_uploads_a_real_qcow2_of_the_root_disk_size(conf, uploads):
    the_driver = fake.FakeDriver()
    the_driver.spawn(None, instance(flavor=SMALL), {})
    seen = []
    the_driver.snapshot(None, instance(), "snap-1",
                        lambda task_state, expected_state=None: seen.append(task_state))
    [(image_id, data, size)] = uploads
    assert (image_id, size) == ("snap-1", len(data))
    inspection = format_inspector.detect(io.BytesIO(data))
    assert (inspection.format, inspection.virtual_size) == ("qcow2", 20 * 1024 ** 3)
    assert inspection.safety_problems() == []
    assert seen == [task_states.IMAGE_PENDING_UPLOAD, task_states.IMAGE_UPLOADING]


def test_empty_qcow2_is_one_qemu_accepts(tmp_path):
    path = tmp_path / "empty.qcow2"
    path.write_bytes(fake.empty_qcow2(32 * 1024 * 1024))
    subprocess.run(["qemu-img", "check", "-f", "qcow2", str(path)], check=True,
                   capture_output=True)


# --- resize -----------------------------------------------------------------------------------

def test_resize_on_another_host_then_confirm(fake_driver, conf):
    dest = fake.FakeDriver()
    dest.init_host("host-b")
    disk_info = fake_driver.migrate_disk_and_power_off(None, instance(), "host-b", SMALL)
    assert disk_info["source_host"] == "host-a"
    assert state(fake_driver) == power_state.SHUTDOWN
    dest.finish_migration(None, {}, instance(flavor=SMALL), disk_info, {}, True)
    assert (state(dest), dest.instances["u-1"]["flavor"]) == (power_state.RUNNING, SMALL)
    fake_driver.confirm_migration(None, {"source_compute": "host-a", "dest_compute": "host-b"},
                                  instance())
    assert fake_driver.list_instance_uuids() == [] and fake_driver.set_aside == {}


def test_resize_on_the_same_host_then_revert(fake_driver):
    disk_info = fake_driver.migrate_disk_and_power_off(None, instance(), "host-a", SMALL)
    fake_driver.finish_migration(None, {}, instance(flavor=SMALL), disk_info, {}, True,
                                 power_on=False)
    assert state(fake_driver) == power_state.SHUTDOWN
    fake_driver.destroy(None, instance(), destroy_disks=True)   # the destination's part
    fake_driver.finish_revert_migration(None, instance(flavor=NANO))
    assert (state(fake_driver), fake_driver.instances["u-1"]["flavor"]) == (
        power_state.RUNNING, NANO)
    assert fake_driver.set_aside == {}


def test_a_smaller_root_disk_is_refused_before_the_guest_stops(conf):
    the_driver = fake.FakeDriver()
    the_driver.spawn(None, instance(flavor=SMALL), {})
    with pytest.raises(exception.CannotResizeDisk, match="Unable to resize disk down."):
        the_driver.migrate_disk_and_power_off(None, instance(flavor=SMALL), "host-b", NANO)
    assert state(the_driver) == power_state.RUNNING


def test_a_crash_dump_needs_a_running_guest(fake_driver):
    fake_driver.trigger_crash_dump(instance())
    assert fake_driver.instances["u-1"]["nmis"] == 1
    fake_driver.power_off(instance())
    with pytest.raises(exception.InstanceNotRunning):
        fake_driver.trigger_crash_dump(instance())


def test_spawn_leaves_the_tagged_devices_on_the_instance(conf):
    the_driver = fake.FakeDriver()
    the_driver.init_host("host-a")
    server = dict(instance(), network_info=[
        {"id": "p1", "address": "fa:16:3e:00:00:01", "tag": None},
        {"id": "p2", "address": "fa:16:3e:00:00:02", "tag": "nic2"}])
    mappings = [{"id": 1, "boot_index": 0, "source_type": "image",
                 "destination_type": "local", "device_name": "/dev/vda"},
                {"id": 2, "boot_index": None, "source_type": "volume",
                 "destination_type": "volume", "device_name": "/dev/vdb",
                 "volume_id": "vol-1", "connection_info": {"serial": "vol-1"}, "tag": "db"}]
    the_driver.spawn(None, server, {"id": "img-1"}, block_device_info={"mappings": mappings})
    # libvirt's order on a pc machine: NICs from slot 2, then the disks.
    assert server["device_metadata"] == [
        {"type": "nic", "mac": "fa:16:3e:00:00:02", "tags": ["nic2"], "vf_trusted": False,
         "bus": {"type": "pci", "address": "0000:00:03.0"}},
        {"type": "disk", "serial": "vol-1", "tags": ["db"],
         "bus": {"type": "pci", "address": "0000:00:05.0"}}]
    untagged = instance(uuid="u-2")
    the_driver.spawn(None, untagged, {"id": "img-1"})
    assert untagged["device_metadata"] is None
