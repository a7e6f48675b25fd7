"""The libvirt driver's lifecycle logic (mininova/virt/libvirt/driver.py)
against stand-in domains: graceful shutdown and its timeout, reboots,
ownership on a shared libvirtd, resize refusals and set-aside files, and a
snapshot's temporary files and guest restored whatever fails.

No libvirtd and no qemu-img: the Host, the domains, the clock, the image
service and the disk copy are replaced; files live in tmp_path."""

import json
import logging
import os
from concurrent import futures

import libvirt
import pytest

from mininova import exception
from mininova.compute import power_state, task_states
from mininova.network import model as network_model
from mininova.virt import images
from mininova.virt.fake import empty_qcow2
from mininova.virt.libvirt import driver as libvirt_driver
from mininova.virt.libvirt import imagebackend, remotefs

GiB = 1024 ** 3
UUID = "0e4b5c1a-8c1f-4d7e-9a57-2b1f3c5d6e7f"
NANO = {"name": "m1.nano", "flavorid": "42", "memory_mb": 64, "vcpus": 1, "root_gb": 0,
        "ephemeral_gb": 0, "swap": 0}
SMALL = {**NANO, "name": "m1.small", "flavorid": "2", "memory_mb": 2048, "root_gb": 20}


class FakeClock:
    """Stands for the driver module's ``time``: sleeping moves it on."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class FakeDomain:
    def __init__(self, clock, owner="host-a", state=libvirt.VIR_DOMAIN_RUNNING,
                 goes_down_after=None, uuid=UUID):
        self.clock = clock
        self.owner = owner
        self._state = state
        # Seconds after the first shutdown request when the guest is off
        # (None: it ignores the power button).
        self.goes_down_after = goes_down_after
        self.uuid = uuid
        self.managed_save = False
        self.calls = []
        self._asked_at = None
        # What defineXML was given; libvirt's own XML adds the addresses.
        self.xml = "<domain><devices /></domain>"

    def _settle(self):
        if (self._asked_at is not None and self.goes_down_after is not None
                and self.clock.now - self._asked_at >= self.goes_down_after):
            self._state = libvirt.VIR_DOMAIN_SHUTOFF
            self._asked_at = None

    def UUIDString(self):
        return self.uuid

    def XMLDesc(self, flags):
        return self.xml

    def isActive(self):
        self._settle()
        return int(self._state != libvirt.VIR_DOMAIN_SHUTOFF)

    def state(self):
        self._settle()
        return [self._state, 0]

    def metadata(self, kind, namespace):
        if self.owner is None:
            raise libvirt.libvirtError("metadata not found")
        return f"<instance><host>{self.owner}</host></instance>"

    def shutdown(self):
        self.calls.append("shutdown")
        if self._asked_at is None:
            self._asked_at = self.clock.now

    def destroy(self):
        self.calls.append("destroy")
        self._state = libvirt.VIR_DOMAIN_SHUTOFF

    def undefineFlags(self, flags):
        self.calls.append("undefine")

    def hasManagedSaveImage(self, flags):
        return int(self.managed_save)

    def managedSave(self, flags):
        self.calls.append("managedSave")
        self.managed_save = True
        self._state = libvirt.VIR_DOMAIN_SHUTOFF

    def managedSaveRemove(self, flags):
        self.calls.append("managedSaveRemove")
        self.managed_save = False

    def createWithFlags(self, flags):
        self.calls.append(("create", flags))
        self.managed_save = False
        self._state = (libvirt.VIR_DOMAIN_PAUSED if flags & libvirt.VIR_DOMAIN_START_PAUSED
                       else libvirt.VIR_DOMAIN_RUNNING)

    def suspend(self):
        self._state = libvirt.VIR_DOMAIN_PAUSED

    def injectNMI(self, flags):
        if self._state != libvirt.VIR_DOMAIN_RUNNING:
            error = libvirt.libvirtError("domain is not running")
            error.err = (libvirt.VIR_ERR_OPERATION_INVALID,)
            raise error
        self.calls.append("injectNMI")

    def resume(self):
        self._state = libvirt.VIR_DOMAIN_RUNNING


class FakeConnection:
    def __init__(self, host):
        self.host = host
        self.defined = []

    def defineXML(self, xml):
        self.defined.append(xml)
        domain = self.host.domain
        if domain is None:
            domain = self.host.domain = FakeDomain(self.host.clock)
        domain.owner = "host-a"
        domain.xml = xml
        return domain


class FakeHost:
    def __init__(self, clock):
        self.clock = clock
        self.domain = None
        self.conn = FakeConnection(self)

    def lookup(self, instance_uuid):
        return self.domain if self.domain and self.domain.uuid == instance_uuid else None

    def get_connection(self):
        return self.conn


class FakeImageAPI:
    def __init__(self, fail=False):
        self.fail = fail
        self.uploads = []

    def upload(self, context, image_id, data, size=None):
        if self.fail:
            raise exception.ImageServiceUnavailable(url="http://images", reason="down")
        self.uploads.append((image_id, data.read(), size))


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(libvirt_driver, "time", fake)
    return fake


@pytest.fixture
def instances_path(conf, tmp_path):
    path = tmp_path / "instances"
    path.mkdir()
    conf.set_override("instances_path", str(path))
    return path


class FakeRemoteFS:
    """Another host over ssh: records each operation. ``shared``: a file
    made "there" appears here (the same filesystem); ``fails``: the names of
    the operations whose ssh fails."""

    def __init__(self, shared=True):
        self.shared = shared
        self.fails = set()
        self.calls = []

    def _do(self, name, *args):
        self.calls.append((name, *args))
        if name in self.fails:
            raise exception.ProcessExecutionFailed(
                cmd=f"ssh {name}", reason="ssh: connect to host port 22: Connection refused")

    def create_file(self, host, path):
        self._do("create_file", host)
        if self.shared:
            open(path, "w").close()

    def remove_file(self, host, path):
        self._do("remove_file", host)

    def create_dir(self, host, path):
        self._do("create_dir", host, path)

    def remove_dir(self, host, path):
        self._do("remove_dir", host, path)

    def copy_file(self, src, dst, compression=False):
        self._do("copy_file", src, dst)


@pytest.fixture
def remote_fs(monkeypatch):
    fake = FakeRemoteFS()
    monkeypatch.setattr(remotefs, "get_driver", lambda: fake)
    return fake


@pytest.fixture
def drv(conf, instances_path, clock, remote_fs):
    the_driver = libvirt_driver.LibvirtDriver()
    the_driver._host = FakeHost(clock)
    the_driver.host = "host-a"
    the_driver.virt_type = "qemu"
    the_driver._image_api = FakeImageAPI()
    return the_driver


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.DEBUG, logger="mininova.virt.libvirt.driver")

    def messages():
        return [record.getMessage() for record in caplog.records]
    return messages


def instance(flavor=NANO):
    return {"uuid": UUID, "id": 42, "display_name": "vm1", "flavor": flavor,
            "user_id": "u", "project_id": "p", "image_ref": "img-1", "host": "host-a"}


def add_domain(drv, **kwargs):
    drv._host.domain = FakeDomain(drv._host.clock, **kwargs)
    return drv._host.domain


def make_instance_dir(instances_path, name=UUID, disk=b"disk"):
    directory = instances_path / name
    directory.mkdir()
    (directory / "disk").write_bytes(disk)
    return directory


# --- disk_available_least --------------------------------------------------------------

class StatVFS:
    """``os.statvfs`` of a disk with ``free_gb`` available to us."""

    def __init__(self, free_gb):
        self.f_frsize = 4096
        self.f_bavail = free_gb * GiB // 4096


def test_disk_available_least_is_free_space_minus_what_overlays_may_grow_into(
        drv, instances_path, monkeypatch):
    directory = make_instance_dir(instances_path, disk=empty_qcow2(3 * GiB))
    disk = directory / "disk"
    (directory / "disk.info").write_text(json.dumps({str(disk): "qcow2"}))
    other = "9c1f0e4b-0000-4000-8000-000000000000"   # listed, but its files are gone
    monkeypatch.setattr(drv, "list_instance_uuids", lambda: [UUID, other])
    # 10 GB free, 3 GB of overlay still to fill (less the few KiB it holds):
    # a little over 7 GB, counted in whole GB as Nova does.
    assert drv._disk_available_least(StatVFS(free_gb=10)) == 7


def test_disk_available_least_can_be_negative_on_an_over_committed_disk(
        drv, instances_path, monkeypatch):
    directory = make_instance_dir(instances_path, disk=empty_qcow2(20 * GiB))
    (directory / "disk.info").write_text(json.dumps({str(directory / "disk"): "qcow2"}))
    monkeypatch.setattr(drv, "list_instance_uuids", lambda: [UUID])
    assert drv._disk_available_least(StatVFS(free_gb=5)) == -15


# --- power off ----------------------------------------------------------------------------

def test_power_off_waits_for_the_guest_to_shut_down(drv, log):
    domain = add_domain(drv, goes_down_after=3)
    drv.power_off(instance(), timeout=60, retry_interval=10)
    assert "Instance shutdown successfully after 3 seconds." in log()
    assert "Instance destroyed successfully." in log()
    assert domain.calls == ["shutdown"]        # off by itself: nothing to destroy
    assert drv.get_power_state(instance()) == power_state.SHUTDOWN


def test_power_off_asks_again_then_pulls_the_plug_after_the_timeout(drv, log):
    domain = add_domain(drv, goes_down_after=None)
    drv.power_off(instance(), timeout=4, retry_interval=1)
    assert "Instance failed to shutdown in 4 seconds." in log()
    # Asked at 0, 1, 2 and 3 s; then destroyed, and still defined.
    assert domain.calls == ["shutdown"] * 4 + ["destroy"]
    assert "Instance in state 1 after 1 seconds - resending shutdown" in log()
    assert drv.get_power_state(instance()) == power_state.SHUTDOWN


def test_power_off_without_timeout_pulls_the_plug_at_once(drv):
    domain = add_domain(drv)
    drv.power_off(instance())
    assert domain.calls == ["destroy"]


def test_power_off_of_a_stopped_guest_only_says_so(drv, log):
    domain = add_domain(drv, state=libvirt.VIR_DOMAIN_SHUTOFF)
    drv.power_off(instance(), timeout=60, retry_interval=10)
    assert "Instance already shutdown." in log()
    assert domain.calls == []


def test_power_off_drops_what_a_suspend_saved(drv):
    domain = add_domain(drv, state=libvirt.VIR_DOMAIN_SHUTOFF)
    domain.managed_save = True
    assert drv.get_power_state(instance()) == power_state.SUSPENDED
    drv.power_off(instance())
    assert domain.calls == ["managedSaveRemove"]
    assert drv.get_power_state(instance()) == power_state.SHUTDOWN


@pytest.mark.parametrize("state, managed_save, expected", [
    (libvirt.VIR_DOMAIN_RUNNING, False, power_state.RUNNING),
    (libvirt.VIR_DOMAIN_PAUSED, False, power_state.PAUSED),
    (libvirt.VIR_DOMAIN_SHUTOFF, False, power_state.SHUTDOWN),
    (libvirt.VIR_DOMAIN_SHUTOFF, True, power_state.SUSPENDED),
])
def test_power_states(drv, state, managed_save, expected):
    add_domain(drv, state=state).managed_save = managed_save
    assert drv.get_power_state(instance()) == expected


def test_no_domain_is_nostate(drv):
    assert drv.get_power_state(instance()) == power_state.NOSTATE


# --- reboot --------------------------------------------------------------------------------

def test_soft_reboot_shuts_down_and_starts_the_same_definition(drv, log, instances_path):
    domain = add_domain(drv, goes_down_after=2)
    drv.reboot(None, instance(), "SOFT", timeout=30)
    assert domain.calls == ["shutdown", ("create", 0)]
    assert "Instance shutdown successfully." in log()
    assert "Instance soft rebooted successfully." in log()
    assert drv._host.conn.defined == []


def test_soft_reboot_of_a_deaf_guest_becomes_a_hard_one(drv, log, instances_path):
    make_instance_dir(instances_path)
    domain = add_domain(drv, goes_down_after=None)
    drv.reboot(None, instance(), "SOFT", timeout=3)
    assert "Failed to soft reboot instance. Trying hard reboot." in log()
    assert "Instance rebooted successfully." in log()
    assert domain.calls[-2:] == ["destroy", ("create", 0)]
    [xml] = drv._host.conn.defined
    assert (instances_path / UUID / "libvirt.xml").read_text() == xml


def test_hard_reboot_defines_the_guest_again_from_the_instance(drv, instances_path):
    make_instance_dir(instances_path)
    domain = add_domain(drv, state=libvirt.VIR_DOMAIN_PAUSED)
    drv.reboot(None, instance(SMALL), "HARD")
    assert domain.calls == ["destroy", ("create", 0)]
    assert "<memory unit=\"KiB\">2097152</memory>" in drv._host.conn.defined[0]


def test_power_on_defines_a_vanished_domain_again(drv, instances_path):
    make_instance_dir(instances_path)
    drv.power_on(None, instance())
    assert drv._host.domain.calls == [("create", 0)]
    assert drv.get_power_state(instance()) == power_state.RUNNING


# --- spawn: the disks are made while the ports are ---------------------------------------

PORT_ID = "5c3f0b7e-2a51-4d6e-8f11-0a9b8c7d6e5f"
VIF = {"id": PORT_ID, "address": "fa:16:3e:00:00:01", "type": "bridge",
       "devname": network_model.tap_name(PORT_ID), "active": True,
       "network": {"id": "net-1", "label": "private", "bridge": "brqnet-1", "mtu": 1500,
                   "subnets": []}}


@pytest.fixture
def spawn_steps(drv, monkeypatch):
    """What spawn did, in order: the root disk (and whether the ports were
    known by then), the VIFs plugged."""
    steps = []

    def create_root_disk(context, inst, image_meta, instance_dir, cache_mode):
        steps.append(("root disk", drv.allocation.done()))
        drv.allocation_arrives()

    monkeypatch.setattr(imagebackend, "create_root_disk", create_root_disk)
    monkeypatch.setattr(drv, "_plug_vifs", lambda inst, network_info: steps.append(
        ("plug", [vif["id"] for vif in network_info])))
    drv.allocation = futures.Future()
    return steps


def test_spawn_makes_the_root_disk_before_it_waits_for_the_ports(drv, instances_path,
                                                                spawn_steps):
    drv.allocation_arrives = lambda: drv.allocation.set_result([VIF])
    server = instance()
    drv.spawn(None, server, {"id": "img-1"},
              network_info=network_model.NetworkInfoAsyncWrapper(drv.allocation))
    assert spawn_steps == [("root disk", False), ("plug", [PORT_ID])]
    assert server["network_info"] == [VIF]
    xml = (instances_path / UUID / "libvirt.xml").read_text()
    assert f'<target dev="{VIF["devname"]}" />' in xml
    assert drv.get_power_state(server) == power_state.RUNNING


def test_a_failed_allocation_fails_the_spawn_before_anything_is_plugged(drv, instances_path,
                                                                       spawn_steps):
    error = exception.PortNotFound(port_id=PORT_ID)
    drv.allocation_arrives = lambda: drv.allocation.set_exception(error)
    with pytest.raises(type(error)):
        drv.spawn(None, instance(), {"id": "img-1"},
                  network_info=network_model.NetworkInfoAsyncWrapper(drv.allocation))
    assert spawn_steps == [("root disk", False)]
    assert drv._host.conn.defined == []


# --- ownership on a shared libvirtd ---------------------------------------------------------

def test_destroy_leaves_another_hosts_guest_alone(drv, instances_path, log):
    make_instance_dir(instances_path)
    domain = add_domain(drv, owner="host-b")
    drv.destroy(None, instance(), destroy_disks=True)
    assert domain.calls == []
    assert "Not destroying the guest: it belongs to host host-b now" in log()
    assert not (instances_path / UUID).exists()     # our files go all the same


@pytest.mark.parametrize("owner", ["host-a", None])
def test_destroy_removes_our_guest_or_one_without_an_owner(drv, owner):
    domain = add_domain(drv, owner=owner)
    drv.destroy(None, instance(), destroy_disks=False)
    assert domain.calls == ["destroy", "undefine"]


def test_destroy_keeps_what_a_same_host_resize_set_aside(drv, instances_path):
    make_instance_dir(instances_path)
    make_instance_dir(instances_path, f"{UUID}_resize")
    drv.destroy(None, instance(), destroy_disks=True)
    assert sorted(os.listdir(instances_path)) == [f"{UUID}_resize"]


@pytest.mark.parametrize("owner, expected", [("host-a", True), ("host-b", False),
                                             (None, False)])
def test_events_are_only_for_guests_naming_this_host(drv, owner, expected):
    add_domain(drv, owner=owner)
    assert drv._is_own_guest(UUID) is expected
    assert drv._is_own_guest("some-other-uuid") is False


# --- resize: the source ---------------------------------------------------------------------

def test_a_smaller_root_disk_is_refused_before_the_guest_is_touched(drv, instances_path):
    make_instance_dir(instances_path)
    domain = add_domain(drv)
    with pytest.raises(exception.CannotResizeDisk) as caught:
        drv.migrate_disk_and_power_off(None, instance(SMALL), "host-b",
                                       {**SMALL, "root_gb": 10})
    assert caught.value.format_message() == (
        "Server disk was unable to be resized because: Unable to resize disk down.")
    assert domain.calls == []
    assert os.listdir(instances_path) == [UUID]


def test_an_image_sized_disk_bigger_than_the_new_root_disk_is_refused(drv, instances_path):
    # root_gb 0: the disk is as big as the image, here 2 GiB.
    make_instance_dir(instances_path, disk=empty_qcow2(2 * GiB))
    domain = add_domain(drv)
    with pytest.raises(exception.CannotResizeDisk):
        drv.migrate_disk_and_power_off(None, instance(NANO), "host-b",
                                       {**NANO, "root_gb": 1})
    assert domain.calls == []


def test_migrate_powers_off_and_sets_the_files_aside(drv, instances_path, conf):
    make_instance_dir(instances_path, disk=empty_qcow2(32 * 1024 * 1024))
    domain = add_domain(drv)
    disk_info = drv.migrate_disk_and_power_off(None, instance(), "host-b", SMALL)
    resize_dir = instances_path / f"{UUID}_resize"
    assert os.listdir(instances_path) == [resize_dir.name]
    assert disk_info == {
        "source_host": "host-a",
        "disk_path": str(resize_dir / "disk"),
        "disk_format": "qcow2",
        "image_id": "img-1",
        "base_path": str(instances_path / "_base" / "3c9875d4ce035043f843d25f28119ae501bdd661"),
        "shared_storage": True,
        "source_ip": conf.my_ip,
    }
    assert domain.calls == ["destroy"]              # stopped, still defined


def test_a_destination_at_our_own_address_shares_storage_without_ssh(drv, instances_path,
                                                                     remote_fs, conf):
    make_instance_dir(instances_path)
    add_domain(drv)
    disk_info = drv.migrate_disk_and_power_off(None, instance(), conf.my_ip, SMALL)
    assert disk_info["shared_storage"] is True
    assert remote_fs.calls == []


def test_a_test_file_seen_here_means_shared_storage(drv, instances_path, remote_fs):
    make_instance_dir(instances_path)
    add_domain(drv)
    disk_info = drv.migrate_disk_and_power_off(None, instance(), "192.0.2.20", SMALL)
    assert disk_info["shared_storage"] is True
    # Made there over ssh, found and removed here; no copy.
    assert remote_fs.calls == [("create_file", "192.0.2.20")]
    assert os.listdir(instances_path) == [f"{UUID}_resize"]


def test_without_shared_storage_the_disk_is_pushed_over_ssh(drv, instances_path, remote_fs):
    remote_fs.shared = False
    make_instance_dir(instances_path)
    domain = add_domain(drv)
    disk_info = drv.migrate_disk_and_power_off(None, instance(), "192.0.2.20", SMALL)
    resize_dir = str(instances_path / f"{UUID}_resize")
    assert remote_fs.calls == [
        ("create_file", "192.0.2.20"),          # the test file, not seen here...
        ("remove_file", "192.0.2.20"),          # ...so removed there
        ("create_dir", "192.0.2.20", resize_dir),
        ("copy_file", f"{resize_dir}/disk", f"192.0.2.20:{resize_dir}/disk"),
    ]
    assert disk_info["shared_storage"] is False
    assert disk_info["disk_path"] == f"{resize_dir}/disk"
    # The source keeps its set-aside copy for a revert.
    assert os.listdir(instances_path) == [f"{UUID}_resize"]
    assert domain.calls == ["destroy"]


def test_a_failed_copy_puts_the_files_back(drv, instances_path, remote_fs):
    remote_fs.shared, remote_fs.fails = False, {"copy_file"}
    make_instance_dir(instances_path)
    add_domain(drv)
    with pytest.raises(exception.ProcessExecutionFailed, match="Connection refused"):
        drv.migrate_disk_and_power_off(None, instance(), "192.0.2.20", SMALL)
    assert os.listdir(instances_path) == [UUID]
    assert remote_fs.calls[-1] == ("remove_dir", "192.0.2.20",
                                   str(instances_path / f"{UUID}_resize"))


def test_an_unreachable_destination_fails_with_sshs_message(drv, instances_path, remote_fs):
    remote_fs.shared = False
    remote_fs.fails = {"create_file", "create_dir", "remove_dir"}
    make_instance_dir(instances_path)
    add_domain(drv)
    with pytest.raises(exception.ProcessExecutionFailed, match="Connection refused"):
        drv.migrate_disk_and_power_off(None, instance(), "192.0.2.20", SMALL)
    assert [call[0] for call in remote_fs.calls] == ["create_file", "create_dir",
                                                     "remove_dir"]
    assert os.listdir(instances_path) == [UUID]


def test_a_stale_resize_directory_is_replaced(drv, instances_path):
    make_instance_dir(instances_path)
    stale = make_instance_dir(instances_path, f"{UUID}_resize", disk=b"old")
    add_domain(drv)
    drv.migrate_disk_and_power_off(None, instance(), "host-b", SMALL)
    assert (stale / "disk").read_bytes() == b"disk"


def test_a_resize_directory_without_the_instance_directory_is_not_touched(drv, instances_path):
    make_instance_dir(instances_path, f"{UUID}_resize")
    domain = add_domain(drv)
    with pytest.raises(exception.ResizeError):
        drv.migrate_disk_and_power_off(None, instance(), "host-b", SMALL)
    assert domain.calls == []
    assert os.listdir(instances_path) == [f"{UUID}_resize"]


def migration(source, dest):
    return {"source_compute": source, "dest_compute": dest}


@pytest.mark.parametrize("owner, same_host, undefined", [
    ("host-b", False, False),     # shared libvirtd: the destination's guest now
    ("host-a", False, True),      # another machine: our stopped copy
    ("host-a", True, False),      # same host: it is the resized guest
])
def test_confirm_removes_the_set_aside_files_and_our_old_domain(drv, instances_path, owner,
                                                                same_host, undefined):
    make_instance_dir(instances_path, f"{UUID}_resize")
    domain = add_domain(drv, owner=owner, state=libvirt.VIR_DOMAIN_SHUTOFF)
    drv.confirm_migration(None, migration("host-a", "host-a" if same_host else "host-b"),
                          instance())
    assert os.listdir(instances_path) == []
    assert ("undefine" in domain.calls) is undefined


def test_revert_puts_the_files_back_and_starts_the_old_flavor(drv, instances_path):
    make_instance_dir(instances_path, f"{UUID}_resize", disk=b"original")
    make_instance_dir(instances_path, disk=b"the same-host copy")
    drv.finish_revert_migration(None, instance(NANO), power_on=True)
    assert os.listdir(instances_path) == [UUID]
    assert (instances_path / UUID / "disk").read_bytes() == b"original"
    [xml] = drv._host.conn.defined
    assert "<memory unit=\"KiB\">65536</memory>" in xml
    assert drv._host.domain.calls == [("create", 0)]


def test_revert_of_a_stopped_server_does_not_start_it(drv, instances_path):
    make_instance_dir(instances_path, f"{UUID}_resize")
    drv.finish_revert_migration(None, instance(), power_on=False)
    assert drv._host.domain.calls == []


def test_revert_with_nothing_set_aside_says_so(drv, instances_path):
    with pytest.raises(exception.ResizeError, match="nothing to revert to"):
        drv.finish_revert_migration(None, instance())
    assert drv._host.conn.defined == []


# --- resize: the destination ----------------------------------------------------------------

@pytest.mark.parametrize("disk_info", [
    {"disk_path": "/etc/shadow", "disk_format": "qcow2"},
    {"disk_path": f"/x/{UUID}/disk", "disk_format": "qcow2"},
    {"disk_path": f"relative/{UUID}_resize/disk", "disk_format": "qcow2"},
    {"disk_path": f"/x/{UUID}_resize/disk", "disk_format": "raw"},
])
def test_finish_migration_takes_only_a_set_aside_qcow2(drv, instances_path, disk_info):
    with pytest.raises(exception.ResizeError):
        drv.finish_migration(None, migration("host-b", "host-a"), instance(),
                             {**disk_info, "image_id": "img-1"}, {"id": "img-1"}, True)
    assert os.listdir(instances_path) == []


def test_a_failed_finish_migration_leaves_nothing(drv, instances_path, monkeypatch):
    def adopt(context, image, source_disk, instance_dir, cache_mode, source_base=None):
        open(os.path.join(instance_dir, "disk"), "wb").close()
        return os.path.join(instance_dir, "disk")
    monkeypatch.setattr(imagebackend, "adopt_migrated_disk", adopt)
    monkeypatch.setattr(imagebackend, "grow_root_disk", lambda instance, path: None)
    add_domain(drv, owner="host-b", state=libvirt.VIR_DOMAIN_SHUTOFF)

    def start_fails(flags):
        raise libvirt.libvirtError("Cannot access storage file")
    drv._host.domain.createWithFlags = start_fails
    disk_info = {"disk_path": f"/src/{UUID}_resize/disk", "disk_format": "qcow2",
                 "image_id": "img-1"}
    with pytest.raises(libvirt.libvirtError):
        drv.finish_migration(None, migration("host-b", "host-a"), instance(SMALL), disk_info,
                             {"id": "img-1"}, True)
    assert os.listdir(instances_path) == []
    assert "undefine" in drv._host.domain.calls    # our definition of it: gone


def test_a_pushed_disk_is_adopted_then_removed(drv, instances_path, monkeypatch):
    adopted = []

    def adopt(context, image, source_disk, instance_dir, cache_mode, source_base=None):
        adopted.append((source_disk, source_base))
        open(os.path.join(instance_dir, "disk"), "wb").close()
        return os.path.join(instance_dir, "disk")
    monkeypatch.setattr(imagebackend, "adopt_migrated_disk", adopt)
    pushed = make_instance_dir(instances_path, f"{UUID}_resize")
    disk_info = {"disk_path": str(pushed / "disk"), "disk_format": "qcow2",
                 "image_id": "img-1", "base_path": "/var/lib/x/_base/abc",
                 "shared_storage": False, "source_ip": "192.0.2.10"}
    drv.finish_migration(None, migration("host-b", "host-a"), instance(NANO), disk_info,
                         {"id": "img-1"}, False, power_on=False)
    # The base, if the image is gone, comes from the source over ssh.
    assert adopted == [(str(pushed / "disk"), "192.0.2.10:/var/lib/x/_base/abc")]
    assert os.listdir(instances_path) == [UUID]


# --- snapshot -----------------------------------------------------------------------------------

@pytest.fixture
def task_states_seen():
    seen = []

    def update_task_state(task_state, expected_state=task_states.IMAGE_SNAPSHOT):
        seen.append((task_state, expected_state))
    update_task_state.seen = seen
    return update_task_state


def snapshots_left(instances_path):
    return os.listdir(instances_path / "snapshots")


def test_snapshot_saves_copies_restores_and_uploads(drv, instances_path, monkeypatch, log,
                                                    task_states_seen):
    make_instance_dir(instances_path)
    domain = add_domain(drv)
    converted = []

    def convert(source, dest, in_format, out_format, cache_mode="none"):
        # The guest is saved while its disk is read.
        assert domain.managed_save
        converted.append((source, in_format, out_format))
        with open(dest, "wb") as f:
            f.write(b"flattened")
    monkeypatch.setattr(images, "convert_image", convert)
    drv.snapshot(None, instance(), "snap-1", task_states_seen)
    assert converted == [(str(instances_path / UUID / "disk"), "qcow2", "qcow2")]
    assert drv._image_api.uploads == [("snap-1", b"flattened", 9)]
    assert domain.calls == ["managedSave", ("create", 0)]
    assert task_states_seen.seen == [
        (task_states.IMAGE_PENDING_UPLOAD, task_states.IMAGE_SNAPSHOT),
        (task_states.IMAGE_UPLOADING, task_states.IMAGE_PENDING_UPLOAD)]
    lines = [m for m in log() if "napshot" in m]
    assert lines == ["Beginning cold snapshot process",
                     "Snapshot extracted, beginning image upload",
                     "Snapshot image upload complete"]
    assert snapshots_left(instances_path) == []


def test_a_paused_guest_is_paused_again(drv, instances_path, monkeypatch, task_states_seen):
    make_instance_dir(instances_path)
    domain = add_domain(drv, state=libvirt.VIR_DOMAIN_PAUSED)
    monkeypatch.setattr(images, "convert_image",
                        lambda source, dest, *args: open(dest, "wb").close())
    drv.snapshot(None, instance(), "snap-1", task_states_seen)
    assert domain.calls == ["managedSave", ("create", libvirt.VIR_DOMAIN_START_PAUSED)]
    assert drv.get_power_state(instance()) == power_state.PAUSED


def test_a_stopped_guest_stays_stopped(drv, instances_path, monkeypatch, task_states_seen):
    make_instance_dir(instances_path)
    domain = add_domain(drv, state=libvirt.VIR_DOMAIN_SHUTOFF)
    monkeypatch.setattr(images, "convert_image",
                        lambda source, dest, *args: open(dest, "wb").close())
    drv.snapshot(None, instance(), "snap-1", task_states_seen)
    assert domain.calls == []


def test_a_failed_extraction_restores_the_guest_and_leaves_no_file(
        drv, instances_path, monkeypatch, task_states_seen):
    make_instance_dir(instances_path)
    domain = add_domain(drv)

    def convert_fails(source, dest, *args):
        open(dest, "wb").close()
        raise exception.ProcessExecutionFailed(cmd="qemu-img", reason="No space left on device")
    monkeypatch.setattr(images, "convert_image", convert_fails)
    with pytest.raises(exception.ProcessExecutionFailed):
        drv.snapshot(None, instance(), "snap-1", task_states_seen)
    assert domain.calls == ["managedSave", ("create", 0)]
    assert snapshots_left(instances_path) == []
    assert drv._image_api.uploads == []


def test_a_failed_task_state_update_restores_the_guest(drv, instances_path, monkeypatch):
    make_instance_dir(instances_path)
    domain = add_domain(drv)

    def deleted_meanwhile(task_state, expected_state=None):
        raise exception.UnexpectedTaskStateError(instance_uuid=UUID, expected="x", actual="y")
    with pytest.raises(exception.UnexpectedTaskStateError):
        drv.snapshot(None, instance(), "snap-1", deleted_meanwhile)
    assert domain.calls == ["managedSave", ("create", 0)]
    assert snapshots_left(instances_path) == []


def test_a_failed_upload_leaves_no_file(drv, instances_path, monkeypatch, task_states_seen):
    make_instance_dir(instances_path)
    add_domain(drv)
    drv._image_api = FakeImageAPI(fail=True)
    monkeypatch.setattr(images, "convert_image",
                        lambda source, dest, *args: open(dest, "wb").close())
    with pytest.raises(exception.ImageServiceUnavailable):
        drv.snapshot(None, instance(), "snap-1", task_states_seen)
    assert snapshots_left(instances_path) == []
    assert drv.get_power_state(instance()) == power_state.RUNNING


def test_snapshot_of_a_vanished_guest_makes_nothing(drv, instances_path, task_states_seen):
    with pytest.raises(exception.InstanceNotFound):
        drv.snapshot(None, instance(), "snap-1", task_states_seen)
    assert not (instances_path / "snapshots").exists()
    assert task_states_seen.seen == []


def test_start_up_removes_interrupted_snapshots_and_fetches(drv, instances_path):
    (instances_path / "snapshots" / "tmpab12").mkdir(parents=True)
    (instances_path / "snapshots" / "tmpab12" / "snapshot").write_bytes(b"half")
    base = instances_path / "_base"
    base.mkdir()
    name = "3c9875d4ce035043f843d25f28119ae501bdd661"
    for leftover in (f"{name}.part", f"{name}.converted", name):
        (base / leftover).write_bytes(b"x")
    (instances_path / "locks").mkdir()
    drv.remove_interrupted_leftovers()
    assert snapshots_left(instances_path) == []
    assert os.listdir(base) == [name]


def test_a_crash_dump_is_an_nmi(drv):
    domain = add_domain(drv)
    drv.trigger_crash_dump(instance())
    assert domain.calls == ["injectNMI"]


def test_a_guest_not_running_takes_no_nmi(drv):
    add_domain(drv, state=libvirt.VIR_DOMAIN_SHUTOFF)
    with pytest.raises(exception.InstanceNotRunning):
        drv.trigger_crash_dump(instance())
