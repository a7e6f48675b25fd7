"""The libvirt driver's lifecycle methods on real libvirt + QEMU, called
directly, without the services: power off and on, soft and hard reboots,
pause, suspend, a cold snapshot that boots, and resizes between two
"hosts" (two drivers with their own host names and instances_path on this
machine's one libvirtd) and on one, confirmed and reverted; and the
lifecycle events each driver hears.

An image service runs in this process (for the tiny image and the
snapshots). The tiny image's busybox runs acpid, which starts late: a guest
is asked to shut down only once ``login:`` is on its console.
"""

import json
import logging
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt
import pytest

from mininova import context as mn_context
from mininova.cmd import image as image_cmd
from mininova.compute import power_state, task_states
from mininova.conf import CONF
from mininova.db import api as db_api
from mininova.image import glance
from mininova.virt.libvirt import driver as libvirt_driver
from mininova.virt.libvirt import host as libvirt_host
from mininova.virt.libvirt import imagecache
from tests.integration import deployment as dep
from tests.waiting import wait_until

NANO = {"name": "m1.nano", "flavorid": "42", "memory_mb": 64, "vcpus": 1, "root_gb": 0,
        "ephemeral_gb": 0, "swap": 0}
MICRO = {**NANO, "name": "m1.micro", "flavorid": "84", "memory_mb": 128}
GROWN = {**NANO, "name": "m1.grown", "flavorid": "99", "memory_mb": 96, "root_gb": 1}
# Short, so a test can see a STOPPED event arrive (Nova's is 15 s), yet longer
# than a hard reboot takes on a loaded 2-core runner (1 s was not: a STOPPED
# slipped out between the destroy and the start).
STOPPED_DELAY = 4


class ComputeHost:
    """One pretend compute host: a LibvirtDriver with its host name, its
    instances_path and the lifecycle events it heard.

    ``[DEFAULT] instances_path`` is one global option: every driver call
    made through this object points it at this host's first."""

    def __init__(self, name, instances_path):
        self.name = name
        self.instances_path = instances_path
        self.events = []
        self.use()
        self.driver = libvirt_driver.LibvirtDriver()
        self.driver.init_host(name)
        self.driver.register_event_listener(self.events.append)

    def use(self):
        CONF.set_override("instances_path", str(self.instances_path))

    def __getattr__(self, method):
        bound = getattr(self.driver, method)

        def call(*args, **kwargs):
            self.use()
            return bound(*args, **kwargs)
        return call

    def heard(self, instance):
        return [event.name for event in self.events if event.uuid == instance["uuid"]]


class Env:
    def __init__(self, root, prefix):
        self.root = root
        self.prefix = prefix
        self.context = mn_context.get_admin_context()
        self.images = glance.API()
        self.tiny = None
        self.a = self.b = None
        self._next_id = 0

    def new_instance(self, flavor=NANO, image=None):
        self._next_id += 1
        return {"uuid": str(uuid.uuid4()), "id": self._next_id,
                "display_name": f"drv-{self._next_id}", "flavor": dict(flavor),
                "user_id": "demo", "project_id": "demo",
                "image_ref": (image or self.tiny)["id"]}


@pytest.fixture(scope="module")
def env(work_root):
    try:
        libvirt.open("qemu:///system").close()
    except libvirt.libvirtError as exc:
        pytest.fail(f"libvirtd is not reachable at qemu:///system ({exc})")
    if not dep.TINY_IMAGE.exists():
        pytest.fail(f"{dep.TINY_IMAGE} is missing; run tools/build-tiny-image")
    root = work_root / "driver_lifecycle"
    root.mkdir(mode=0o755)
    the_env = Env(root, f"mntest-{uuid.uuid4().hex[:6]}")
    CONF([], project="mininova", default_config_files=[])
    CONF.set_override("state_path", str(root))
    CONF.set_override("instance_name_template", f"{the_env.prefix}-%08x")
    CONF.set_override("shutdown_retry_interval", 2, "compute")
    image_service = image_cmd.build_service(port=0)
    image_service.start()
    hosts = []
    try:
        CONF.set_override("api_servers", [f"http://127.0.0.1:{image_service.port}"], "glance")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(libvirt_host, "LIFECYCLE_STOPPED_DELAY", STOPPED_DELAY)
            the_env.a = ComputeHost(f"{the_env.prefix}-a", root / "instances-a")
            hosts.append(the_env.a)
            the_env.b = ComputeHost(f"{the_env.prefix}-b", root / "instances-b")
            hosts.append(the_env.b)
        image = the_env.images.create(the_env.context, "tiny", "qcow2")
        with open(dep.TINY_IMAGE, "rb") as data:
            the_env.tiny = the_env.images.upload(the_env.context, image["id"], data,
                                                 size=dep.TINY_IMAGE.stat().st_size)
        yield the_env
    finally:
        for host in hosts:
            host.cleanup_host(host.name)
        remove_domains(the_env.prefix)
        image_service.stop()
        db_api.dispose_engines()
        CONF.reset()


@pytest.fixture
def guests(env):
    """Boots guests for a test; destroys what the test left, and checks
    that no domain of ours remains."""
    booted = []

    def boot(host, flavor=NANO, image=None, wait=True):
        """``wait``: until ``login:``, for a test that shuts the guest down
        gracefully or must see that it boots."""
        instance = env.new_instance(flavor, image)
        booted.append((host, instance))
        host.spawn(env.context, instance, image or env.tiny)
        if wait:
            wait_for_login(host, instance)
        return instance
    yield boot
    for host in (env.a, env.b):
        for _booted_on, instance in booted:
            host.destroy(env.context, instance, destroy_disks=True)
            resize_dir = host.instances_path / f"{instance['uuid']}_resize"
            assert not resize_dir.exists(), f"{resize_dir} left behind"
    assert domain_names(env.prefix) == []


# --- looking at libvirt, the files, the console ------------------------------------------

def libvirt_call(action):
    conn = libvirt.open("qemu:///system")
    try:
        return action(conn)
    finally:
        conn.close()


def domain_names(prefix):
    return sorted(libvirt_call(lambda conn: [d.name() for d in conn.listAllDomains()
                                             if d.name().startswith(prefix)]))


def remove_domains(prefix):
    def remove(conn):
        for domain in conn.listAllDomains():
            if domain.name().startswith(prefix):
                if domain.isActive():
                    domain.destroy()
                domain.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                                     | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
    libvirt_call(remove)


def domain_memory_mib(instance):
    xml = libvirt_call(lambda conn: conn.lookupByUUIDString(instance["uuid"]).XMLDesc(0))
    return int(ET.fromstring(xml).findtext("memory")) // 1024


def domain_state(instance):
    def state(conn):
        domain = conn.lookupByUUIDString(instance["uuid"])
        return domain.state()[0], domain.hasManagedSaveImage(0) == 1
    return libvirt_call(state)


def wait_for_login(host, instance, timeout=120):
    console = Path(host.instances_path) / instance["uuid"] / "console.log"
    wait_until(lambda: console.read_text(errors="replace") if console.exists() else "",
               lambda text: "login:" in text, timeout, interval=0.3,
               what=f"'login:' on the console of {instance['uuid']}")


def wait_for_events(host, instance, expected, timeout=15):
    """Until the events ``host`` heard of ``instance`` end with ``expected``."""
    return wait_until(lambda: host.heard(instance),
                      lambda heard: heard[-len(expected):] == expected, timeout,
                      interval=0.1, what=f"events {expected}")


def qemu_img_info(path):
    out = subprocess.run(["qemu-img", "info", "--force-share", "--output=json", "-f", "qcow2",
                          str(path)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.DEBUG, logger="mininova.virt.libvirt.driver")

    def messages():
        return [record.getMessage() for record in caplog.records]
    return messages


# --- power ---------------------------------------------------------------------------------

def test_power_actions_leave_their_power_states_and_events(env, guests, log):
    a, b = env.a, env.b
    vm = guests(a)
    a.events.clear()

    a.power_off(vm, 30, 2)
    assert a.get_power_state(vm) == power_state.SHUTDOWN
    assert any(m.startswith("Instance shutdown successfully after") for m in log())
    assert domain_state(vm) == (libvirt.VIR_DOMAIN_SHUTOFF, False)   # still defined
    # STOPPED arrives after the delay when nothing follows it.
    wait_for_events(a, vm, ["Stopped"])

    a.power_on(env.context, vm)
    assert a.get_power_state(vm) == power_state.RUNNING
    wait_for_login(a, vm)

    a.reboot(env.context, vm, "SOFT", timeout=30)
    assert a.get_power_state(vm) == power_state.RUNNING
    assert "Instance soft rebooted successfully." in log()

    a.events.clear()
    a.reboot(env.context, vm, "HARD")
    assert a.get_power_state(vm) == power_state.RUNNING
    assert "Instance rebooted successfully." in log()
    # A reboot's STOPPED is cancelled by the STARTED that follows: the
    # compute never hears "Stopped", even once the delay is over.
    wait_for_events(a, vm, ["Started"])
    time.sleep(STOPPED_DELAY + 0.5)
    assert "Stopped" not in a.heard(vm)

    a.pause(vm)
    assert a.get_power_state(vm) == power_state.PAUSED
    wait_for_events(a, vm, ["Paused"])
    a.unpause(vm)
    assert a.get_power_state(vm) == power_state.RUNNING
    wait_for_events(a, vm, ["Resumed"])

    a.suspend(env.context, vm)
    assert a.get_power_state(vm) == power_state.SUSPENDED
    assert domain_state(vm) == (libvirt.VIR_DOMAIN_SHUTOFF, True)
    wait_for_events(a, vm, ["Suspended"])
    a.resume(env.context, vm)
    assert a.get_power_state(vm) == power_state.RUNNING
    assert domain_state(vm) == (libvirt.VIR_DOMAIN_RUNNING, False)
    wait_for_events(a, vm, ["Started", "Resumed"])

    # The other host shares the libvirtd, and heard of none of it.
    assert b.heard(vm) == []
    assert vm["uuid"] in a.list_instance_uuids()
    assert vm["uuid"] not in b.list_instance_uuids()


# --- snapshot -------------------------------------------------------------------------------

def test_a_cold_snapshot_is_flattened_uploaded_and_boots(env, guests, log):
    a, b = env.a, env.b
    vm = guests(a, wait=False)
    image = env.images.create(env.context, "drv-snap", "qcow2")
    seen = []

    def update_task_state(task_state, expected_state=task_states.IMAGE_SNAPSHOT):
        seen.append((task_state, expected_state))

    a.snapshot(env.context, vm, image["id"], update_task_state)

    assert seen == [(task_states.IMAGE_PENDING_UPLOAD, task_states.IMAGE_SNAPSHOT),
                    (task_states.IMAGE_UPLOADING, task_states.IMAGE_PENDING_UPLOAD)]
    assert [m for m in log() if "napshot" in m] == [
        "Beginning cold snapshot process", "Snapshot extracted, beginning image upload",
        "Snapshot image upload complete"]
    snapshot = env.images.show(env.context, image["id"])
    assert snapshot["status"] == "active"
    assert snapshot["virtual_size"] == env.tiny["virtual_size"]
    assert a.get_power_state(vm) == power_state.RUNNING
    assert list((a.instances_path / "snapshots").iterdir()) == []

    # Self-contained: it boots on the other host, from its own _base.
    from_snapshot = guests(b, image=snapshot)
    assert b.get_power_state(from_snapshot) == power_state.RUNNING
    env.images.delete(env.context, image["id"])


# --- resize and cold migration between two hosts ----------------------------------------

def migration(source, dest):
    return {"source_compute": source.name, "dest_compute": dest.name}


def test_migration_to_another_host_grows_the_disk_and_is_confirmed(env, guests):
    a, b = env.a, env.b
    vm = guests(a)
    # Graceful here (the guest is up); the other moves pull the plug.
    disk_info = a.migrate_disk_and_power_off(env.context, vm, b.name, GROWN, 30, 2)
    resize_dir = a.instances_path / f"{vm['uuid']}_resize"
    assert disk_info == {"source_host": a.name, "disk_path": str(resize_dir / "disk"),
                         "disk_format": "qcow2", "image_id": env.tiny["id"],
                         "base_path": str(a.instances_path / "_base"
                                          / imagecache.get_cache_fname(env.tiny["id"]))}
    assert not (a.instances_path / vm["uuid"]).exists()
    assert a.get_power_state(vm) == power_state.SHUTDOWN

    moved = {**vm, "flavor": GROWN}
    b.finish_migration(env.context, migration(a, b), moved, disk_info, env.tiny,
                       resize_instance=True, power_on=True)
    disk = b.instances_path / vm["uuid"] / "disk"
    info = qemu_img_info(disk)
    assert info["backing-filename"] == str(
        b.instances_path / "_base" / imagecache.get_cache_fname(env.tiny["id"]))
    assert info["virtual-size"] == 1024 ** 3
    assert domain_memory_mib(vm) == 96
    assert vm["uuid"] in b.list_instance_uuids()
    assert vm["uuid"] not in a.list_instance_uuids()
    wait_for_login(b, moved)

    a.confirm_migration(env.context, migration(a, b), vm)
    assert not resize_dir.exists()
    # The source cleaning up never touches the destination's guest.
    a.destroy(env.context, vm, destroy_disks=True)
    assert b.get_power_state(moved) == power_state.RUNNING


def test_migration_to_another_host_reverted(env, guests):
    a, b = env.a, env.b
    vm = guests(a, wait=False)
    disk_info = a.migrate_disk_and_power_off(env.context, vm, b.name, MICRO)
    moved = {**vm, "flavor": MICRO}
    b.finish_migration(env.context, migration(a, b), moved, disk_info, env.tiny,
                       resize_instance=True, power_on=True)
    assert domain_memory_mib(vm) == 128

    b.destroy(env.context, moved, destroy_disks=True)       # revert_resize, destination
    assert not (b.instances_path / vm["uuid"]).exists()
    a.finish_revert_migration(env.context, vm, power_on=True)
    assert not (a.instances_path / f"{vm['uuid']}_resize").exists()
    assert domain_memory_mib(vm) == 64
    assert a.get_power_state(vm) == power_state.RUNNING
    assert vm["uuid"] in a.list_instance_uuids()


def test_resize_on_one_host_reverted_then_confirmed(env, guests):
    a = env.a
    vm = guests(a, wait=False)
    resize_dir = a.instances_path / f"{vm['uuid']}_resize"
    disk_info = a.migrate_disk_and_power_off(env.context, vm, a.name, MICRO)
    resized = {**vm, "flavor": MICRO}
    a.finish_migration(env.context, migration(a, a), resized, disk_info, env.tiny,
                       resize_instance=True, power_on=True)
    assert domain_memory_mib(vm) == 128
    # Both disks read the same base: the image cache manager sees both.
    [cached] = a.get_image_cache(env.context, [resized], None)
    assert cached["used_by"] == [vm["uuid"], resize_dir.name]

    a.destroy(env.context, resized, destroy_disks=True)     # revert_resize: the "destination"
    assert resize_dir.exists()
    a.finish_revert_migration(env.context, vm, power_on=True)
    # Running: QEMU opened the disk that came back, and its base.
    assert a.get_power_state(vm) == power_state.RUNNING
    assert domain_memory_mib(vm) == 64 and not resize_dir.exists()

    disk_info = a.migrate_disk_and_power_off(env.context, vm, a.name, MICRO)
    a.finish_migration(env.context, migration(a, a), resized, disk_info, env.tiny,
                       resize_instance=True, power_on=True)
    a.confirm_migration(env.context, migration(a, a), vm)
    assert not resize_dir.exists()
    assert a.get_power_state(resized) == power_state.RUNNING
    assert domain_memory_mib(vm) == 128
