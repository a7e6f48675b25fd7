"""An in-memory hypervisor (mirrors ``nova/virt/fake.py``).

Guests are entries in a dict; "spawning" one takes ``[fake_driver]
spawn_seconds``. It reports the resources in ``[fake_driver]``, so tests
and the scheduler benchmark can run many pretend hosts in one process. It
exists for fast tests and demos only: the integration tests boot real
guests with the libvirt driver.

Every lifecycle action changes the pretend guest's power state at once and
emits the lifecycle event a real hypervisor would. Tests make the guest do
what a user inside it (or an operator behind mininova's back) might:
:meth:`FakeDriver.guest_powers_off`, :meth:`FakeDriver.destroy_behind_back`.
A snapshot uploads a real, empty qcow2 (made once by ``qemu-img``), so the
image service's format checks pass and the snapshot can be booted.
"""


import os
import subprocess
import tempfile
import threading
import time

from oslo_log import log as logging

from mininova.compute import power_state
from mininova.conf import CONF
from mininova.image import glance
from mininova.virt import driver

LOG = logging.getLogger(__name__)

# What a power change announces, as libvirt's events do.
_EVENT_FOR_STATE = {
    power_state.RUNNING: driver.EVENT_LIFECYCLE_STARTED,
    power_state.SHUTDOWN: driver.EVENT_LIFECYCLE_STOPPED,
    power_state.PAUSED: driver.EVENT_LIFECYCLE_PAUSED,
    power_state.SUSPENDED: driver.EVENT_LIFECYCLE_SUSPENDED,
}


class FakeDriver(driver.ComputeDriver):
    def __init__(self):
        self.host = None
        self.instances = {}
        # Guests set aside by a resize, until it is confirmed or reverted.
        self.set_aside = {}
        self._lock = threading.Lock()
        # What this pretend hypervisor reports; tests may change them per
        # host (then call the compute's update_available_resource).
        self.memory_mb = CONF.fake_driver.memory_mb
        self.vcpus = CONF.fake_driver.vcpus
        self.local_gb = CONF.fake_driver.local_gb
        self.cpu_arch = "x86_64"
        self.hypervisor_type = "fake"

    def init_host(self, host):
        self.host = host
        LOG.info("Fake driver ready on %s", host)

    def get_available_resource(self):
        return {
            "hypervisor_hostname": self.host,
            "hypervisor_type": self.hypervisor_type,
            "hypervisor_version": 1000,
            "vcpus": self.vcpus,
            "memory_mb": self.memory_mb,
            "local_gb": self.local_gb,
            "cpu_info": {"arch": self.cpu_arch, "model": "fake", "vendor": "mininova"},
            "stats": {"cpu_arch": self.cpu_arch,
                      "supported_instances": [[self.cpu_arch, self.hypervisor_type, "hvm"]]},
        }

    def spawn(self, context, instance, image_meta):
        if CONF.fake_driver.spawn_seconds:
            time.sleep(CONF.fake_driver.spawn_seconds)
        with self._lock:
            self.instances[instance["uuid"]] = {"state": power_state.RUNNING,
                                                "name": instance["display_name"]}
        LOG.info("Instance spawned successfully.", instance=instance)

    def destroy(self, context, instance, destroy_disks=True):
        with self._lock:
            self.instances.pop(instance["uuid"], None)
        LOG.info("Instance destroyed successfully.", instance=instance)

    # --- lifecycle actions ------------------------------------------------------------

    def power_off(self, instance, timeout=0, retry_interval=0):
        self._set_state(instance["uuid"], power_state.SHUTDOWN)

    def power_on(self, context, instance, image_meta=None):
        self._set_state(instance["uuid"], power_state.RUNNING)

    def reboot(self, context, instance, reboot_type, timeout=0):
        self._set_state(instance["uuid"], power_state.RUNNING)

    def pause(self, instance):
        self._set_state(instance["uuid"], power_state.PAUSED)

    def unpause(self, instance):
        self._set_state(instance["uuid"], power_state.RUNNING,
                        event=driver.EVENT_LIFECYCLE_RESUMED)

    def suspend(self, context, instance):
        self._set_state(instance["uuid"], power_state.SUSPENDED)

    def resume(self, context, instance):
        self._set_state(instance["uuid"], power_state.RUNNING,
                        event=driver.EVENT_LIFECYCLE_RESUMED)

    def snapshot(self, context, instance, image_id, update_task_state):
        from mininova.compute import task_states

        data = _empty_qcow2()
        update_task_state(task_state=task_states.IMAGE_PENDING_UPLOAD,
                          expected_state=task_states.IMAGE_SNAPSHOT)
        update_task_state(task_state=task_states.IMAGE_UPLOADING,
                          expected_state=task_states.IMAGE_PENDING_UPLOAD)
        glance.API().upload(context, image_id, [data], size=len(data))

    def migrate_disk_and_power_off(self, context, instance, dest_host, flavor,
                                   timeout=0, retry_interval=0):
        self._set_state(instance["uuid"], power_state.SHUTDOWN)
        with self._lock:
            # Set aside, as the libvirt driver renames the directory.
            self.set_aside[instance["uuid"]] = self.instances.pop(instance["uuid"])
        return {"source_host": self.host}

    def finish_migration(self, context, migration, instance, disk_info, image_meta,
                         resize_instance, power_on=True):
        self._add_guest(instance, power_state.RUNNING if power_on else power_state.SHUTDOWN)

    def confirm_migration(self, context, migration, instance):
        with self._lock:
            self.set_aside.pop(instance["uuid"], None)

    def finish_revert_migration(self, context, instance, power_on=True):
        with self._lock:
            self.set_aside.pop(instance["uuid"], None)
        self._add_guest(instance, power_state.RUNNING if power_on else power_state.SHUTDOWN)

    # --- what tests make a guest do ---------------------------------------------------------

    def guest_powers_off(self, instance_uuid):
        """The user ran ``poweroff`` inside the guest."""
        self._set_state(instance_uuid, power_state.SHUTDOWN)

    def destroy_behind_back(self, instance_uuid):
        """An operator removed the guest with virsh, unknown to mininova."""
        with self._lock:
            self.instances.pop(instance_uuid, None)

    # --- helpers --------------------------------------------------------------------------

    def _add_guest(self, instance, state):
        with self._lock:
            self.instances[instance["uuid"]] = {"state": state,
                                                "name": instance["display_name"]}
        self.emit_event(driver.LifecycleEvent(instance["uuid"], _EVENT_FOR_STATE[state]))

    def _set_state(self, instance_uuid, state, event=None):
        with self._lock:
            guest = self.instances.get(instance_uuid)
            if guest is None:
                raise RuntimeError(f"no guest {instance_uuid} on the fake hypervisor")
            guest["state"] = state
        self.emit_event(driver.LifecycleEvent(instance_uuid,
                                              event or _EVENT_FOR_STATE[state]))

    def get_power_state(self, instance):
        with self._lock:
            guest = self.instances.get(instance["uuid"])
        return guest["state"] if guest else power_state.NOSTATE

    def get_console_output(self, context, instance):
        return (f"FAKE CONSOLE OUTPUT of {instance['uuid']}\n"
                f"{instance['display_name']} login: ").encode()

    def list_instance_uuids(self):
        with self._lock:
            return list(self.instances)

    def manage_image_cache(self, context, all_instances):
        # Pretend guests have no disks, so there is no cache to tend.
        LOG.debug("Image cache manager pass: no image cache (%d instances)",
                  len(all_instances))

    def get_image_cache(self, context, all_instances, next_pass_at):
        return []


_qcow2_lock = threading.Lock()
_qcow2_bytes = None


def _empty_qcow2():
    """A real 1 MiB qcow2 with no data: the snapshot a fake guest uploads."""
    global _qcow2_bytes
    with _qcow2_lock:
        if _qcow2_bytes is None:
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "snapshot.qcow2")
                subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, "1M"],
                               check=True)
                with open(path, "rb") as f:
                    _qcow2_bytes = f.read()
        return _qcow2_bytes
