"""An in-memory hypervisor (mirrors ``nova/virt/fake.py``).

Guests are entries in a dict; "spawning" one takes ``[fake_driver]
spawn_seconds``. It reports the resources in ``[fake_driver]``, so tests
and the scheduler benchmark can run many pretend hosts in one process. It
exists for fast tests and demos only: the integration tests boot real
guests with the libvirt driver.

Every action is instant and leaves the power state the libvirt driver
would (RUNNING, SHUTDOWN, PAUSED, SUSPENDED), and reports the change as a
lifecycle event (``emit_event``), from the calling thread: STARTED, STOPPED,
PAUSED, RESUMED, SUSPENDED, as libvirt's would after the driver's filtering
(a reboot is one STARTED: libvirt's STOPPED is held back and cancelled).
A snapshot uploads a small but real qcow2 (an empty disk of the flavor's
size) to the image service, so the image goes active. A resize keeps the
guest's flavor, sets the source's guest aside and gives it back on revert.

Test helpers, for what a real guest or operator may do behind the compute's
back: :meth:`FakeDriver.guest_powers_off` (``poweroff`` inside the guest),
:meth:`FakeDriver.destroy_behind_back` (``virsh undefine``: the guest
vanishes), :meth:`FakeDriver.fail_next` (the next call of an action raises).

Device role tagging: a spawn leaves the tagged NICs and disks on the
instance (``device_metadata``) as the libvirt driver does, at the PCI
addresses libvirt would most likely give them (see ``_pci_devices``).

Block devices: the guest records its volumes (``{"/dev/vdb": volume id}``,
from the spawn's ``block_device_info`` and each attach and detach) and its
local disks (``disk.local``, ``disk.eph0``, ``disk.swap``), with the names
the libvirt driver would give them (``libvirt/blockinfo.py``, which needs no
libvirt).

Left out: Nova's fake driver's many other hooks (consoles, migrations in
progress, per-method call records).
"""

import io
import struct
import threading
import time

from oslo_log import log as logging
from oslo_utils import units

from mininova import exception
from mininova.compute import power_state, task_states
from mininova.conf import CONF
from mininova.image import glance
from mininova.network import model as network_model
from mininova.virt import driver
from mininova.virt.libvirt import blockinfo, device_metadata

LOG = logging.getLogger(__name__)

# The virtual size of a snapshot of a 0 GB root disk ("as big as the
# image"), which the fake does not know: the tiny test image's.
FAKE_IMAGE_VIRTUAL_SIZE = 32 * 1024 * 1024


class FakeDriver(driver.ComputeDriver):
    def __init__(self):
        self.host = None
        # uuid -> {"state", "name", "flavor"}
        self.instances = {}
        # uuid -> the guest as it was when a resize set it aside (source host)
        self.set_aside = {}
        self._failures = {}
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
            "disk_available_least": self._disk_available_least(),
            "cpu_info": {"arch": self.cpu_arch, "model": "fake", "vendor": "mininova"},
            "stats": {"cpu_arch": self.cpu_arch,
                      "supported_instances": [[self.cpu_arch, self.hypervisor_type, "hvm"]]},
        }

    def _disk_available_least(self):
        """As if each guest's disks were thin and could grow to their
        flavor's size: the free space less all of that."""
        with self._lock:
            flavors = [guest["flavor"] for guest in self.instances.values()]
        return self.local_gb - sum(flavor.get("root_gb", 0) + flavor.get("ephemeral_gb", 0)
                                   for flavor in flavors)

    def spawn(self, context, instance, image_meta, block_device_info=None,
              network_info=None):
        self._maybe_fail("spawn")
        if CONF.fake_driver.spawn_seconds:
            time.sleep(CONF.fake_driver.spawn_seconds)
        if network_info is not None:
            instance["network_info"] = network_model.wait(network_info)
        guest = _guest(instance, power_state.RUNNING)
        _add_block_devices(guest, instance, block_device_info)
        bdms = (block_device_info or {}).get("mappings") or []
        instance["device_metadata"] = device_metadata.build(
            _pci_devices(instance, bdms), instance.get("network_info"), bdms)
        with self._lock:
            self.instances[instance["uuid"]] = guest
        self._emit(instance["uuid"], driver.EVENT_LIFECYCLE_STARTED)
        LOG.info("Instance spawned successfully.", instance=instance)

    def attach_interface(self, context, instance, vif):
        self._maybe_fail("attach_interface")
        self._guest(instance["uuid"])["vifs"].append(vif["id"])

    def detach_interface(self, context, instance, vif):
        vifs = self._guest(instance["uuid"])["vifs"]
        if vif["id"] in vifs:
            vifs.remove(vif["id"])

    # --- block devices ---------------------------------------------------------------

    def default_device_names_for_instance(self, instance, bdms):
        return blockinfo.default_device_names(instance, bdms)

    def get_device_name_for_instance(self, instance, bdms, requested=None):
        return blockinfo.get_device_name_for_instance(instance, bdms, requested)

    def get_volume_connector(self, instance):
        return {"host": self.host, "ip": "127.0.0.1", "initiator": None,
                "platform": self.cpu_arch, "os_type": "linux", "multipath": False}

    def attach_volume(self, context, connection_info, instance, mountpoint, disk_bus=None,
                      device_type=None):
        self._maybe_fail("attach_volume")
        self._guest(instance["uuid"])["volumes"][mountpoint] = connection_info.get("serial")

    def detach_volume(self, context, connection_info, instance, mountpoint):
        self._maybe_fail("detach_volume")
        with self._lock:
            guest = self.instances.get(instance["uuid"])
            if guest is not None:
                guest["volumes"].pop(mountpoint, None)

    def destroy(self, context, instance, destroy_disks=True):
        # No event: the guest is gone, and libvirt's events of a guest that
        # no longer exists never reach the compute either.
        self._maybe_fail("destroy")
        with self._lock:
            self.instances.pop(instance["uuid"], None)
        LOG.info("Instance destroyed successfully.", instance=instance)

    # --- power actions ----------------------------------------------------------------

    def power_off(self, instance, timeout=0, retry_interval=0):
        self._maybe_fail("power_off")
        # As the libvirt driver: a guest that is already gone is not an error.
        self._change_state(instance["uuid"], power_state.SHUTDOWN,
                           driver.EVENT_LIFECYCLE_STOPPED, missing_ok=True)

    def power_on(self, context, instance, image_meta=None, block_device_info=None):
        self._maybe_fail("power_on")
        self._start(instance, block_device_info)

    def reboot(self, context, instance, reboot_type, timeout=0, block_device_info=None):
        self._maybe_fail("reboot")
        self._start(instance, block_device_info)

    def _start(self, instance, block_device_info=None):
        """Power on or reboot: the libvirt driver defines the guest again
        from the instance (a hard reboot), so a vanished one comes back."""
        with self._lock:
            guest = self.instances.get(instance["uuid"])
            if guest is None:
                guest = _guest(instance, power_state.RUNNING)
                _add_block_devices(guest, instance, block_device_info)
            guest["state"] = power_state.RUNNING
            self.instances[instance["uuid"]] = guest
        self._emit(instance["uuid"], driver.EVENT_LIFECYCLE_STARTED)

    def pause(self, instance):
        self._maybe_fail("pause")
        self._change_state(instance["uuid"], power_state.PAUSED,
                           driver.EVENT_LIFECYCLE_PAUSED, expected=power_state.RUNNING)

    def unpause(self, instance):
        self._maybe_fail("unpause")
        self._change_state(instance["uuid"], power_state.RUNNING,
                           driver.EVENT_LIFECYCLE_RESUMED, expected=power_state.PAUSED)

    def trigger_crash_dump(self, instance):
        self._maybe_fail("trigger_crash_dump")
        with self._lock:
            guest = self.instances.get(instance["uuid"])
            if guest is None or guest["state"] != power_state.RUNNING:
                raise exception.InstanceNotRunning(instance_id=instance["uuid"])
            # The guest's kernel would panic and reboot; the fake counts.
            guest["nmis"] = guest.get("nmis", 0) + 1

    def suspend(self, context, instance):
        self._maybe_fail("suspend")
        self._change_state(instance["uuid"], power_state.SUSPENDED,
                           driver.EVENT_LIFECYCLE_SUSPENDED)

    def resume(self, context, instance):
        self._maybe_fail("resume")
        # libvirt reports a restore from a managed save as STARTED.
        self._change_state(instance["uuid"], power_state.RUNNING,
                           driver.EVENT_LIFECYCLE_STARTED, expected=power_state.SUSPENDED)

    # --- snapshot ---------------------------------------------------------------------

    def snapshot(self, context, instance, image_id, update_task_state):
        """The task states of the real thing, and a real upload: an empty
        qcow2 of the flavor's root disk size."""
        self._maybe_fail("snapshot")
        guest = self._guest(instance["uuid"])
        update_task_state(task_state=task_states.IMAGE_PENDING_UPLOAD,
                          expected_state=task_states.IMAGE_SNAPSHOT)
        root_gb = guest["flavor"].get("root_gb") or 0
        data = empty_qcow2(root_gb * units.Gi or FAKE_IMAGE_VIRTUAL_SIZE)
        update_task_state(task_state=task_states.IMAGE_UPLOADING,
                          expected_state=task_states.IMAGE_PENDING_UPLOAD)
        glance.API().upload(context, image_id, io.BytesIO(data), size=len(data))
        LOG.info("Snapshot image upload complete", instance=instance)

    # --- resize and cold migration ------------------------------------------------------

    def migrate_disk_and_power_off(self, context, instance, dest_host, flavor,
                                   timeout=0, retry_interval=0):
        self._maybe_fail("migrate_disk_and_power_off")
        guest = self._guest(instance["uuid"])
        if flavor["root_gb"] < (guest["flavor"].get("root_gb") or 0):
            # As the libvirt driver, before the guest is touched.
            raise exception.CannotResizeDisk(reason="Unable to resize disk down.")
        self.power_off(instance)
        with self._lock:
            self.set_aside[instance["uuid"]] = dict(self.instances[instance["uuid"]])
        return {"source_host": self.host,
                "disk_path": f"fake://{self.host}/{instance['uuid']}_resize/disk",
                "disk_format": "qcow2", "image_id": instance["image_ref"],
                "base_path": None}

    def finish_migration(self, context, migration, instance, disk_info, image_meta,
                         resize_instance, power_on=True):
        self._maybe_fail("finish_migration")
        state = power_state.RUNNING if power_on else power_state.SHUTDOWN
        with self._lock:
            self.instances[instance["uuid"]] = _guest(instance, state)
        if power_on:
            self._emit(instance["uuid"], driver.EVENT_LIFECYCLE_STARTED)

    def confirm_migration(self, context, migration, instance):
        self._maybe_fail("confirm_migration")
        with self._lock:
            self.set_aside.pop(instance["uuid"], None)
            if migration["source_compute"] != migration["dest_compute"]:
                # The source's stopped guest; on the same host it is the
                # resized one, which stays.
                self.instances.pop(instance["uuid"], None)

    def finish_revert_migration(self, context, instance, power_on=True):
        self._maybe_fail("finish_revert_migration")
        state = power_state.RUNNING if power_on else power_state.SHUTDOWN
        with self._lock:
            self.set_aside.pop(instance["uuid"], None)
            self.instances[instance["uuid"]] = _guest(instance, state)
        if power_on:
            self._emit(instance["uuid"], driver.EVENT_LIFECYCLE_STARTED)

    # --- questions ------------------------------------------------------------------

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

    # --- test helpers: what happens behind the compute's back ----------------------------

    def guest_powers_off(self, instance_uuid):
        """The guest shut itself down (``poweroff`` inside it)."""
        self._change_state(instance_uuid, power_state.SHUTDOWN,
                           driver.EVENT_LIFECYCLE_STOPPED)

    def destroy_behind_back(self, instance_uuid):
        """The guest vanished from the hypervisor (``virsh undefine``); no
        event, as from libvirt: only the periodic power sync notices."""
        with self._lock:
            self.instances.pop(instance_uuid, None)

    def fail_next(self, method, error=None):
        """The next call of ``method`` (such as "snapshot") raises ``error``
        (by default an InternalError naming it), then works again."""
        self._failures[method] = error or exception.InternalError(
            err=f"fake driver: {method} failed (as a test asked)")

    # --- helpers -----------------------------------------------------------------------

    def _maybe_fail(self, method):
        error = self._failures.pop(method, None)
        if error is not None:
            raise error

    def _guest(self, instance_uuid):
        with self._lock:
            guest = self.instances.get(instance_uuid)
        if guest is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        return guest

    def _change_state(self, instance_uuid, new_state, transition, expected=None,
                      missing_ok=False):
        """Set the guest's power state and report the change (none if it
        was in that state already)."""
        with self._lock:
            guest = self.instances.get(instance_uuid)
            if guest is None:
                if missing_ok:
                    return
                raise exception.InstanceNotFound(instance_id=instance_uuid)
            if expected is not None and guest["state"] != expected:
                # What libvirt answers, say, to pausing a stopped guest.
                raise exception.InternalError(
                    err=f"Requested operation is not valid: the guest is "
                        f"{power_state.STATE_MAP[guest['state']]}, not "
                        f"{power_state.STATE_MAP[expected]}")
            changed = guest["state"] != new_state
            guest["state"] = new_state
        if changed:
            self._emit(instance_uuid, transition)

    def _emit(self, instance_uuid, transition):
        self.emit_event(driver.LifecycleEvent(instance_uuid, transition))


def _guest(instance, state):
    return {"state": state, "name": instance.get("display_name"),
            "flavor": dict(instance.get("flavor") or {}),
            "vifs": [vif["id"] for vif in instance.get("network_info") or []],
            "volumes": {}, "local_disks": {}}


def _add_block_devices(guest, instance, block_device_info):
    """What the libvirt driver would give the guest: each volume with a
    connection at its name, and the ephemeral and swap files."""
    bdms = (block_device_info or {}).get("mappings") or []
    for disk in blockinfo.get_disk_mapping(instance, bdms):
        bdm = disk.bdm or {}
        if bdm.get("destination_type") == "volume":
            if bdm.get("connection_info"):
                guest["volumes"]["/dev/" + disk.dev] = bdm.get("volume_id")
        elif disk.kind == "local":
            guest["local_disks"]["/dev/" + disk.dev] = "disk.local"
        elif disk.kind == "ephemeral":
            guest["local_disks"]["/dev/" + disk.dev] = f"disk.eph{disk.index}"
        elif disk.kind == "swap":
            guest["local_disks"]["/dev/" + disk.dev] = "disk.swap"


def _pci_devices(instance, bdms):
    """The guest's NICs and disks as device_metadata.guest_devices reads
    them from a real domain, with the PCI slots libvirt gives the devices
    of mininova's ``pc`` guests: slot 1 is the chipset's, then the NICs
    from slot 2, then the virtio disks (the memory balloon comes last)."""
    devices = [{"kind": "interface", "mac": vif["address"]}
               for vif in instance.get("network_info") or []]
    devices += [{"kind": "disk", "target_dev": disk.dev, "target_bus": "virtio"}
                for disk in blockinfo.get_disk_mapping(instance, bdms)]
    for slot, device in enumerate(devices, start=2):
        device["pci_address"] = f"0000:00:{slot:02x}.0"
    return devices


def empty_qcow2(virtual_size, cluster_bits=16):
    """The bytes of an empty qcow2 (version 2) disk of ``virtual_size``
    bytes, as ``qemu-img create -f qcow2`` would make it: a header, a
    refcount table and block, and an L1 table of zeros (nothing allocated).
    Four 64 KiB clusters for any size up to 4 TiB."""
    cluster = 1 << cluster_bits
    l2_coverage = (cluster // 8) * cluster           # bytes one L2 table maps
    l1_entries = -(-virtual_size // l2_coverage)      # ceiling division
    l1_clusters = max(1, -(-(l1_entries * 8) // cluster))
    refcount_table, refcount_block, l1_table = cluster, 2 * cluster, 3 * cluster
    total_clusters = 3 + l1_clusters
    header = struct.pack(
        ">4sIQIIQIIQQIIQ",
        b"QFI\xfb", 2,               # magic, version
        0, 0,                        # no backing file (offset, size)
        cluster_bits, virtual_size,
        0,                           # no encryption
        l1_entries, l1_table,
        refcount_table, 1,           # refcount table offset, its clusters
        0, 0)                        # no snapshots
    image = bytearray(total_clusters * cluster)
    image[:len(header)] = header
    struct.pack_into(">Q", image, refcount_table, refcount_block)
    for index in range(total_clusters):  # each cluster used once (16-bit counts)
        struct.pack_into(">H", image, refcount_block + 2 * index, 1)
    return bytes(image)
