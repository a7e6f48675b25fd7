"""The libvirt driver (mirrors ``nova/virt/libvirt/driver.py``).

``spawn`` does what a student can then find on disk and in ``virsh``::

    $instances_path/<uuid>/                 mkdir
    "Creating image"
    $instances_path/_base/<sha1(image id)>  download + convert, once per host
    $instances_path/<uuid>/disk             qcow2 overlay on it
    $instances_path/<uuid>/disk.info        {"<disk path>": "qcow2"}
    $instances_path/<uuid>/libvirt.xml      the domain we define
    virsh define                            instance-0000000N, PCI addresses given
    $instances_path/<uuid>/disk.config      config drive, with the tagged devices'
                                            addresses read back (device_metadata.py)
    virsh start
    $instances_path/<uuid>/console.log      serial console, written by virtlogd
    "Instance spawned successfully."

``destroy`` undoes all of it but the base file, which the image cache
keeps for the next boot of the same image, until the image cache manager
removes it unused.

The other actions, as ``virsh`` would do them::

    power_off      virsh shutdown (the ACPI power button), again every
                   retry_interval s, up to timeout s; then virsh destroy.
                   The domain stays defined.
    power_on       Nova's hard reboot: libvirt.xml written again from the
                   instance, virsh define, virsh start
    reboot         SOFT: virsh shutdown, wait, virsh start (hard if the guest
                   does not go down); HARD: destroy, define, start
    pause/unpause  virsh suspend / resume: vCPUs stopped, memory kept
    suspend/resume virsh managedsave / start: memory saved to a file of
                   libvirt's, restored by the next start (power state 7)
    snapshot       Nova's cold snapshot: managedsave, qemu-img convert of the
                   disk into $instances_path/snapshots/<tmp>/snapshot, start
                   again, upload to the image service

A resize or cold migration runs on both hosts: ``cold_migration.py``
(:class:`ColdMigrationMixin`).

Several compute services may share one libvirtd (two "hosts" on one
machine): each guest records its compute host in its metadata, and a
service lists, destroys and hears lifecycle events of only the guests that
name it. The two ends of a migration then share one domain: the
destination's define replaces the stopped source's definition and names the
destination as its owner.

Lifecycle events come from :mod:`.host` (libvirt's event loop, a dispatcher
thread, STOPPED held back 15 s) and go out through ``emit_event``.

Block devices (``guest_volumes.py``, :class:`GuestVolumesMixin`): a server
booted from a volume has no ``disk``, no ``_base`` file and no overlay: its
vda is the volume's NBD export; other volumes follow as more network disks,
and ephemeral and swap disks are raw files beside ``disk`` (``disk.local``,
``disk.eph0``, ``disk.swap``). Their names come from ``blockinfo.py``.

Left out: rescue, live snapshots (Nova's choice when QEMU allows: a block
copy while the guest runs), live migration, the ssh transport, snapshots of
a server booted from a volume (Nova snapshots the volume).
"""

import datetime
import os
import shutil
import tempfile
import time
import xml.etree.ElementTree as ET

import libvirt
from oslo_log import log as logging

from mininova import exception, utils
from mininova.api.metadata import base as instance_metadata
from mininova.compute import power_state, task_states
from mininova.conf import CONF
from mininova.image import glance
from mininova.network import model as network_model
from mininova.virt import configdrive, driver, images
from mininova.virt.libvirt import (
    cold_migration,
    device_metadata,
    guest_network,
    guest_volumes,
    host_resources,
    imagebackend,
    imagecache,
)
from mininova.virt.libvirt import config as vconfig
from mininova.virt.libvirt import host as libvirt_host
from mininova.virt.libvirt import utils as libvirt_utils
from mininova.virt.libvirt import vif as libvirt_vif

LOG = logging.getLogger(__name__)

# libvirt's domain states → Nova's power states.
LIBVIRT_POWER_STATE = {
    libvirt.VIR_DOMAIN_NOSTATE: power_state.NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: power_state.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: power_state.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: power_state.PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: power_state.SHUTDOWN,
    libvirt.VIR_DOMAIN_SHUTOFF: power_state.SHUTDOWN,
    libvirt.VIR_DOMAIN_CRASHED: power_state.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: power_state.SUSPENDED,
}


# How often a graceful shutdown looks whether the guest is off yet. (Nova
# looks every second; half a second makes a stop of a quick guest quicker.)
SHUTDOWN_POLL_SECONDS = 0.5

# What undefining one of our domains also removes: its managed save (a
# suspended guest's memory) and firmware variables.
UNDEFINE_FLAGS = libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE


class LibvirtDriver(cold_migration.ColdMigrationMixin, guest_network.GuestNetworkMixin,
                    guest_volumes.GuestVolumesMixin, host_resources.HostResourcesMixin,
                    driver.ComputeDriver):
    def __init__(self):
        self._host = libvirt_host.Host(CONF.libvirt.connection_uri,
                                       lifecycle_event_handler=self.emit_event,
                                       guest_filter=self._is_own_guest)
        self.virt_type = None
        self.host = None
        self._hypervisor_version = 0
        self._disk_cache_mode = "none"
        self.image_cache_manager = imagecache.ImageCacheManager()
        self._image_api = glance.API()

    # --- start and stop ------------------------------------------------------

    def init_host(self, host):
        self.host = host
        os.makedirs(CONF.instances_path, exist_ok=True)
        self.virt_type = self._choose_virt_type()
        # Events first: only connections opened after libvirt's event loop
        # is registered ever hear of them.
        self._host.initialize()
        conn = self._host.get_connection()
        # Asked once: libvirtd answers getVersion() slowly (it re-probes QEMU).
        self._hypervisor_version = conn.getVersion()
        LOG.info("Connected to libvirt %s at %s (QEMU %s); guests will be <domain type='%s'>",
                 libvirt_utils.version_string(conn.getLibVersion()), self._host.uri,
                 libvirt_utils.version_string(self._hypervisor_version), self.virt_type)
        blocked = libvirt_utils.unreachable_parent(CONF.instances_path)
        if blocked:
            LOG.warning("%s is not searchable by other users: QEMU, which libvirt runs "
                        "as its own user, will not reach the disks under %s (chmod o+x %s)",
                        blocked, CONF.instances_path, blocked)
        if not libvirt_utils.supports_direct_io(CONF.instances_path):
            # Some filesystems (tmpfs) refuse O_DIRECT; Nova falls back the same way.
            self._disk_cache_mode = "writethrough"

    def _choose_virt_type(self):
        configured = CONF.libvirt.virt_type
        detected, why = libvirt_utils.detect_virt_type()
        if configured == "auto":
            LOG.info("virt_type auto-detected: %s (%s)", detected, why)
            return detected
        if configured == "kvm" and detected != "kvm":
            LOG.warning("virt_type=kvm is configured but this host lacks hardware "
                        "virtualisation (%s); guests may fail to start", why)
        LOG.info("virt_type %s (from [libvirt] virt_type)", configured)
        return configured

    def cleanup_host(self, host):
        self._host.close()

    def remove_interrupted_leftovers(self):
        """What a killed compute left half made: fetches' ``.part`` and
        ``.converted`` files, snapshots' temporary directories."""
        imagecache.remove_interrupted_fetches()
        snapshots = self._snapshots_dir()
        for name in utils.listdir(snapshots):
            LOG.info("Removing %s, left by an interrupted snapshot", os.path.join(snapshots, name))
            shutil.rmtree(os.path.join(snapshots, name), ignore_errors=True)

    # --- spawn ---------------------------------------------------------------

    def spawn(self, context, instance, image_meta, block_device_info=None,
              network_info=None):
        instance_dir = self._instance_dir(instance)
        os.makedirs(instance_dir, exist_ok=True)
        LOG.info("Creating image", instance=instance)
        root_path, _disks = self._guest_disks(instance, instance_dir, block_device_info,
                                              create=True)
        if root_path:
            imagebackend.create_root_disk(context, instance, image_meta, instance_dir,
                                          self._disk_cache_mode)
        if network_info is not None:
            # A build made its ports while the disks were made: wait for them
            # only now, and keep them where the XML, the config drive and a
            # destroy after a failure read them.
            instance["network_info"] = network_model.wait(network_info)
        network_info = instance.get("network_info") or []
        self._plug_vifs(instance, network_info)
        xml = self._write_guest_xml(instance, instance_dir, block_device_info)
        self._create_domain_and_network(
            instance, xml, network_info, post_xml_callback=lambda domain: (
                self._create_configdrive(instance, instance_dir, domain, block_device_info)))
        LOG.debug("Guest created on hypervisor", instance=instance)
        LOG.info("Instance spawned successfully.", instance=instance)

    def _guest_config(self, instance, disk_path, instance_dir):
        flavor = instance["flavor"]
        return vconfig.GuestConfig(
            virt_type=self.virt_type,
            uuid=instance["uuid"],
            name=instance_name(instance),
            memory_mb=flavor["memory_mb"],
            vcpus=flavor["vcpus"],
            disk_path=disk_path,
            disk_cache_mode=self._disk_cache_mode,
            console_log_path=os.path.join(instance_dir, "console.log"),
            display_name=instance["display_name"] or "",
            creation_time=datetime.datetime.now(datetime.timezone.utc).strftime(
                "%Y-%m-%d %H:%M:%S"),
            flavor=flavor,
            user_id=instance["user_id"] or "",
            project_id=instance["project_id"] or "",
            image_id=instance["image_ref"] or "",
            host=self.host,
            package_version=utils.package_version(),
        )

    def _write_guest_xml(self, instance, instance_dir, block_device_info=None):
        """The domain XML of the instance as it is now (its flavor, this
        host, its disks and volumes, its config drive), also kept as
        ``libvirt.xml`` for people to read."""
        network_info = instance.get("network_info") or []
        disk_path, disks = self._guest_disks(instance, instance_dir, block_device_info)
        config = self._guest_config(instance, disk_path, instance_dir)
        config.disks = disks
        if disk_path is None:
            config.root_type = "volume"
        config.config_drive_path = self._config_drive_path(instance, instance_dir)
        config.interfaces = [libvirt_vif.interface_config(vif) for vif in network_info]
        xml = config.to_xml()
        with open(os.path.join(instance_dir, "libvirt.xml"), "w") as f:
            f.write(xml)
        return xml

    @staticmethod
    def _config_drive_path(instance, instance_dir):
        """Where the instance's config drive is, or None if it needs none.
        The XML names it before it exists: see _create_configdrive."""
        if not configdrive.required_by(instance):
            return None
        return os.path.join(instance_dir, "disk.config")

    def _create_configdrive(self, instance, instance_dir, domain, block_device_info=None):
        """Between the define and the start (Nova's ``post_xml_callback``):
        the tagged devices, read from the defined domain (libvirt has given
        them their PCI addresses by now), kept on the instance; then the
        config drive, which lists them, if the instance needs one and has
        none yet (a first boot, or a host it moved to)."""
        network_info = instance.get("network_info") or []
        instance["device_metadata"] = device_metadata.from_domain_xml(
            domain.XMLDesc(0), network_info, (block_device_info or {}).get("mappings"))
        path = self._config_drive_path(instance, instance_dir)
        if path is None or os.path.exists(path):
            return
        LOG.info("Using config drive", instance=instance)
        LOG.info("Creating config drive at %(path)s", {"path": path}, instance=instance)
        metadata = instance_metadata.InstanceMetadata(instance, network_info)
        configdrive.make_drive(path, metadata.files())

    def _define_domain(self, instance, instance_dir, block_device_info=None):
        """(Re)define the instance's domain from its files and volumes.
        Defining over an existing domain of the same name and UUID replaces
        its configuration, owner included; a failed start later leaves it
        defined, as the server it stands for still exists."""
        xml = self._write_guest_xml(instance, instance_dir, block_device_info)
        domain = self._host.get_connection().defineXML(xml)
        self._create_configdrive(instance, instance_dir, domain, block_device_info)
        return domain

    # --- destroy -----------------------------------------------------------------

    def destroy(self, context, instance, destroy_disks=True):
        domain = self._host.lookup(instance["uuid"])
        if domain is not None:
            owner = self._owner(domain)
            if owner in (self.host, None):
                self._destroy_and_undefine(domain)
                LOG.info("Instance destroyed successfully.", instance=instance)
                self._unplug_vifs(instance, instance.get("network_info") or [])
            else:
                # A shared libvirtd: the instance's guest now runs for the
                # destination of a migration. Its files here are ours still.
                LOG.info("Not destroying the guest: it belongs to host %s now", owner,
                         instance=instance)
        if destroy_disks:
            self._delete_instance_files(instance)

    @classmethod
    def _destroy_and_undefine(cls, domain):
        cls._destroy_domain(domain)
        domain.undefineFlags(UNDEFINE_FLAGS)

    @staticmethod
    def _destroy_domain(domain):
        try:
            if domain.isActive():
                domain.destroy()
        except libvirt.libvirtError as exc:
            # It may have stopped between the two calls.
            if exc.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:
                raise

    def _delete_instance_files(self, instance):
        target = self._instance_dir(instance)
        if not os.path.exists(target):
            return
        LOG.info("Deleting instance files %s", target, instance=instance)
        # Rename first, as Nova does: a half-deleted directory must not look
        # like a live instance's directory to anyone who looks meanwhile.
        # (<uuid>_resize is left alone: on a same-host resize it is the
        # original, which a revert brings back.)
        doomed = f"{target}_del"
        os.rename(target, doomed)
        shutil.rmtree(doomed)
        LOG.info("Deletion of %s complete", doomed, instance=instance)

    # --- power off and on, reboot --------------------------------------------------

    def power_off(self, instance, timeout=0, retry_interval=0):
        if timeout:
            self._clean_shutdown(instance, timeout, retry_interval)
        domain = self._host.lookup(instance["uuid"])
        if domain is None:
            LOG.warning("Instance is not defined in libvirt: nothing to power off",
                        instance=instance)
            return
        self._destroy_domain(domain)
        # A stopped server boots afresh: memory a suspend saved is dropped.
        self._discard_managed_save(domain)
        LOG.info("Instance destroyed successfully.", instance=instance)

    def _clean_shutdown(self, instance, timeout, retry_interval):
        """Ask the guest to shut down; True if it did within ``timeout`` s."""
        domain = self._host.lookup(instance["uuid"])
        if domain is None or not _is_active(domain):
            LOG.info("Instance already shutdown.", instance=instance)
            return True
        LOG.debug("Shutting down instance from state %s", _power_state(domain),
                  instance=instance)
        waited = self._wait_for_shutdown(domain, timeout, retry_interval, instance)
        if waited is None:
            LOG.info("Instance failed to shutdown in %d seconds.", timeout, instance=instance)
            return False
        LOG.info("Instance shutdown successfully after %d seconds.", waited, instance=instance)
        return True

    @staticmethod
    def _wait_for_shutdown(domain, timeout, retry_interval, instance):
        """Press the power button, again every ``retry_interval`` s (the
        guest may have been too busy booting to notice), until the domain
        is off; the seconds it took, or None after ``timeout`` s.

        "Off" is "not active": libvirt's state *shutdown* means the guest
        is still on its way down.
        """
        started = time.monotonic()
        next_request = 0.0
        while True:
            elapsed = time.monotonic() - started
            if not _is_active(domain):
                return elapsed
            if elapsed >= timeout:
                return None
            if elapsed >= next_request:
                if next_request:
                    LOG.debug("Instance in state %s after %d seconds - resending shutdown",
                              _power_state(domain), elapsed, instance=instance)
                _request_shutdown(domain, instance)
                next_request = elapsed + retry_interval if retry_interval > 0 else float("inf")
            time.sleep(SHUTDOWN_POLL_SECONDS)

    @staticmethod
    def _discard_managed_save(domain):
        try:
            if domain.hasManagedSaveImage(0):
                domain.managedSaveRemove(0)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise

    def power_on(self, context, instance, image_meta=None, block_device_info=None):
        # As Nova: a hard reboot, so the domain is defined from what the
        # instance is now, whatever happened to the old definition.
        self._hard_reboot(instance, block_device_info)

    def reboot(self, context, instance, reboot_type, timeout=0, block_device_info=None):
        if reboot_type == "SOFT":
            try:
                rebooted = self._soft_reboot(instance, timeout)
            except libvirt.libvirtError as exc:
                LOG.debug("Instance soft reboot failed: %s", exc, instance=instance)
                rebooted = False
            if rebooted:
                LOG.info("Instance soft rebooted successfully.", instance=instance)
                return
            LOG.warning("Failed to soft reboot instance. Trying hard reboot.",
                        instance=instance)
        self._hard_reboot(instance, block_device_info)

    def _soft_reboot(self, instance, timeout):
        """Shut the guest down gracefully and start it again, from the same
        definition; False if it is not running or does not go down."""
        domain = self._get_domain(instance)
        if _power_state(domain) != power_state.RUNNING:
            return False
        if self._wait_for_shutdown(domain, timeout, CONF.compute.shutdown_retry_interval,
                                   instance) is None:
            return False
        LOG.info("Instance shutdown successfully.", instance=instance)
        domain.createWithFlags(0)
        return True

    def _hard_reboot(self, instance, block_device_info=None):
        """Pull the plug, define the domain again from the instance (its
        flavor may have changed, its definition may be gone; its volumes
        are in ``block_device_info``) and start it."""
        domain = self._host.lookup(instance["uuid"])
        if domain is not None:
            self._destroy_domain(domain)
            self._discard_managed_save(domain)
        instance_dir = self._instance_dir(instance)
        domain = self._define_domain(instance, instance_dir, block_device_info)
        domain.createWithFlags(0)
        LOG.info("Instance rebooted successfully.", instance=instance)

    # --- pause and suspend ------------------------------------------------------------

    def pause(self, instance):
        self._get_domain(instance).suspend()

    def unpause(self, instance):
        self._get_domain(instance).resume()

    def trigger_crash_dump(self, instance):
        try:
            self._get_domain(instance).injectNMI(0)
        except libvirt.libvirtError as exc:
            # A guest not running cannot take an interrupt (Nova's mapping).
            if exc.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID:
                raise exception.InstanceNotRunning(instance_id=instance["uuid"]) from exc
            raise

    def suspend(self, context, instance):
        # libvirt saves the memory, stops QEMU and restores the memory at the
        # next start (virsh managedsave).
        self._get_domain(instance).managedSave(0)

    def resume(self, context, instance):
        self._get_domain(instance).createWithFlags(0)

    # --- snapshot ------------------------------------------------------------------------

    def snapshot(self, context, instance, image_id, update_task_state):
        """Nova's cold snapshot: the guest is saved (managedsave) while its
        disk is copied, so the copy is consistent, and restored at once;
        the upload follows while the guest runs again."""
        domain = self._get_domain(instance)
        os.makedirs(self._snapshots_dir(), exist_ok=True)
        tmpdir = tempfile.mkdtemp(dir=self._snapshots_dir())
        try:
            out_path = os.path.join(tmpdir, "snapshot")
            self._extract_cold_snapshot(instance, domain, out_path, update_task_state)
            LOG.info("Snapshot extracted, beginning image upload", instance=instance)
            update_task_state(task_state=task_states.IMAGE_UPLOADING,
                              expected_state=task_states.IMAGE_PENDING_UPLOAD)
            with open(out_path, "rb") as image_file:
                self._image_api.upload(context, image_id, image_file,
                                       size=os.fstat(image_file.fileno()).st_size)
            LOG.info("Snapshot image upload complete", instance=instance)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def _extract_cold_snapshot(self, instance, domain, out_path, update_task_state):
        """Save the guest, copy its disk into ``out_path`` as a qcow2 of its
        own (flattened: the image must not need this host's base file), put
        the guest back as it was, whatever happened."""
        state = _power_state(domain)
        if state in (power_state.RUNNING, power_state.PAUSED):
            domain.managedSave(0)
        try:
            LOG.info("Beginning cold snapshot process", instance=instance)
            update_task_state(task_state=task_states.IMAGE_PENDING_UPLOAD,
                              expected_state=task_states.IMAGE_SNAPSHOT)
            disk_path = os.path.join(self._instance_dir(instance), "disk")
            images.convert_image(disk_path, out_path, "qcow2", "qcow2", self._disk_cache_mode)
        finally:
            self._restore_after_snapshot(domain, state)

    @staticmethod
    def _restore_after_snapshot(domain, state):
        """The guest back as it was: running, or paused again."""
        if state == power_state.RUNNING:
            domain.createWithFlags(0)
        elif state == power_state.PAUSED:
            domain.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)

    @staticmethod
    def _snapshots_dir():
        return os.path.join(CONF.instances_path, libvirt_utils.SNAPSHOTS_DIR_NAME)

    # --- the image cache -------------------------------------------------------------

    def manage_image_cache(self, context, all_instances):
        self.image_cache_manager.update(context, all_instances)

    def get_image_cache(self, context, all_instances, next_pass_at):
        return self.image_cache_manager.report(context, all_instances, next_pass_at)

    # --- questions ------------------------------------------------------------------

    def get_power_state(self, instance):
        domain = self._host.lookup(instance["uuid"])
        if domain is None:
            return power_state.NOSTATE
        return _power_state(domain)

    def get_console_output(self, context, instance):
        path = os.path.join(self._instance_dir(instance), "console.log")
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - CONF.console_log_max_bytes))
                return f.read()
        except FileNotFoundError:
            return b""

    def list_instance_uuids(self):
        """UUIDs of the guests that name this compute host in their metadata."""
        uuids = []
        for domain in self._host.get_connection().listAllDomains():
            if self._owner(domain) == self.host:
                uuids.append(domain.UUIDString())
        return uuids

    def _is_own_guest(self, instance_uuid):
        """For the event dispatcher: does the guest name this host?"""
        domain = self._host.lookup(instance_uuid)
        return domain is not None and self._owner(domain) == self.host

    def _get_domain(self, instance):
        domain = self._host.lookup(instance["uuid"])
        if domain is None:
            raise exception.InstanceNotFound(instance_id=instance["uuid"])
        return domain

    @staticmethod
    def _owner(domain):
        try:
            element = ET.fromstring(domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT,
                                                    vconfig.MININOVA_NS))
        except libvirt.libvirtError:
            return None
        # libvirt hands the element back without its namespace.
        return element.findtext("host")

    @staticmethod
    def _instance_dir(instance):
        return os.path.join(CONF.instances_path, instance["uuid"])


def _power_state(domain):
    """Nova's power state of a domain. A shut-off domain with a managed save
    is a suspended one: its memory waits on disk for the next start."""
    state, _reason = domain.state()
    if state == libvirt.VIR_DOMAIN_SHUTOFF and domain.hasManagedSaveImage(0):
        return power_state.SUSPENDED
    return LIBVIRT_POWER_STATE.get(state, power_state.NOSTATE)


def _is_active(domain):
    try:
        return bool(domain.isActive())
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return False  # undefined meanwhile: certainly not running
        raise


def _request_shutdown(domain, instance):
    try:
        domain.shutdown()
    except libvirt.libvirtError:
        # Most likely it has just gone down; the next look will tell.
        LOG.debug("Ignoring libvirt exception from shutdown request.", instance=instance)


def instance_name(instance):
    """``instance-0000002a``: the name a student finds in ``virsh list``."""
    return CONF.instance_name_template % instance["id"]

