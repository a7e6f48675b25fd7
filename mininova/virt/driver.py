"""The interface every hypervisor driver implements (mirrors
``nova/virt/driver.py``).

The compute manager only ever talks to a ``ComputeDriver``; the libvirt
driver boots real guests, the fake driver keeps pretend ones in memory. A
method here documents what the manager expects of it.
"""

import dataclasses

from mininova import utils
from mininova.conf import CONF

# Lifecycle event transitions (Nova's virtevent.EVENT_LIFECYCLE_*); the
# compute logs them as ``VM Started (Lifecycle Event)`` etc.
EVENT_LIFECYCLE_STARTED = 0
EVENT_LIFECYCLE_STOPPED = 1
EVENT_LIFECYCLE_PAUSED = 2
EVENT_LIFECYCLE_RESUMED = 3
EVENT_LIFECYCLE_SUSPENDED = 4

EVENT_NAMES = {
    EVENT_LIFECYCLE_STARTED: "Started",
    EVENT_LIFECYCLE_STOPPED: "Stopped",
    EVENT_LIFECYCLE_PAUSED: "Paused",
    EVENT_LIFECYCLE_RESUMED: "Resumed",
    EVENT_LIFECYCLE_SUSPENDED: "Suspended",
}


@dataclasses.dataclass(frozen=True)
class LifecycleEvent:
    """A guest changed power state (mirrors ``nova/virt/event.py``)."""

    uuid: str
    transition: int

    @property
    def name(self):
        return EVENT_NAMES[self.transition]


class ComputeDriver:
    def init_host(self, host):
        """Connect to the hypervisor and check it can be used. Raise if not."""
        raise NotImplementedError

    def cleanup_host(self, host):
        """Release connections and threads at service stop."""

    def get_available_resource(self):
        """What the hypervisor has, for the resource tracker::

            {"hypervisor_hostname", "hypervisor_type", "hypervisor_version",
             "vcpus", "memory_mb", "local_gb", "disk_available_least",
             "cpu_info", "stats"}

        ``disk_available_least`` (GB) is what the disk really has free, less
        what thin-provisioned disks may still grow into.
        """
        raise NotImplementedError

    def spawn(self, context, instance, image_meta, block_device_info=None,
              network_info=None):
        """Create and start the guest of ``instance`` from the image, or
        from its boot volume, with the disks ``block_device_info`` names
        (``mininova.virt.block_device.get_block_device_info``: volumes
        already attached in the volume service, their ``connection_info``
        set; ephemeral and swap disks to make).

        ``network_info`` is a build's ``NetworkInfoAsyncWrapper``: its ports
        are still being made, so create the disks first and wait for it
        (``network.model.wait``) only when the VIFs are needed; store them
        as the instance's ``network_info``. Without it (a rebuild), the
        instance's own ``network_info`` holds the VIFs.

        Leave the tagged devices with their guest addresses as the
        instance's ``device_metadata`` (None when nothing is tagged; see
        ``virt/libvirt/device_metadata.py``): the manager saves it.

        On failure, leave nothing behind (the manager also calls destroy).
        """
        raise NotImplementedError

    def destroy(self, context, instance, destroy_disks=True):
        """Stop and remove the guest; with destroy_disks, its files too.

        Must succeed when the guest is already (partly) gone.
        """
        raise NotImplementedError

    # --- power and lifecycle actions ------------------------------------------
    # Each leaves the guest in the state the action names, or raises; the
    # manager records the new power state from get_power_state() after.

    def power_off(self, instance, timeout=0, retry_interval=0):
        """Stop the guest, keeping it defined and its disks. With ``timeout``
        > 0, first ask the guest to shut down (ACPI power button) and wait up
        to that many seconds, re-asking every ``retry_interval``; then pull
        the plug. Logs ``Instance shutdown successfully after %d seconds.``
        or ``Instance failed to shutdown in %d seconds.``"""
        raise NotImplementedError

    def power_on(self, context, instance, image_meta=None, block_device_info=None):
        """Start a stopped guest from its files and volumes (redefining it
        if needed)."""
        raise NotImplementedError

    def reboot(self, context, instance, reboot_type, timeout=0, block_device_info=None):
        """``SOFT``: ask the guest to shut down (up to ``timeout`` s), then
        start it; if it does not go down, log ``Failed to soft reboot
        instance. Trying hard reboot.`` and do a hard one. ``HARD``: pull the
        plug, regenerate the domain from the instance, start it."""
        raise NotImplementedError

    def pause(self, instance):
        """Stop the vCPUs; memory stays in RAM (power state PAUSED)."""
        raise NotImplementedError

    def unpause(self, instance):
        raise NotImplementedError

    def suspend(self, context, instance):
        """Save the guest's memory to disk and stop it (power state SUSPENDED)."""
        raise NotImplementedError

    def trigger_crash_dump(self, instance):
        """Send the guest a non-maskable interrupt: a kernel configured for
        it (kdump, ``panic_on_unrecovered_nmi``) dumps its memory and
        reboots; another ignores it. Raise InstanceNotRunning for a guest
        that is not running."""
        raise NotImplementedError

    def resume(self, context, instance):
        """Start a suspended guest from its saved memory."""
        raise NotImplementedError

    def snapshot(self, context, instance, image_id, update_task_state):
        """Copy the guest's root disk, flattened, into image ``image_id``
        (already created, status queued) of the image service.

        Calls ``update_task_state(task_state=..., expected_state=...)``
        with IMAGE_PENDING_UPLOAD (expected IMAGE_SNAPSHOT) once the disk is
        extracted and IMAGE_UPLOADING (expected IMAGE_PENDING_UPLOAD) before
        the upload. A running guest is back running afterwards."""
        raise NotImplementedError

    # --- resize and cold migration (source, then destination) --------------------

    def get_host_ip_addr(self):
        """This host's address for the other computes (``my_ip``): a
        resize's destination gives it to the source, which copies the disk
        there."""
        return CONF.my_ip

    def migrate_disk_and_power_off(self, context, instance, dest_host, flavor,
                                   timeout=0, retry_interval=0):
        """Source host: power off, set the instance's files aside (Nova's
        ``<uuid>_resize``), bring the disk to ``dest_host`` (the
        destination's address) unless the two share storage, and return
        ``disk_info``: where the destination finds the disk (a
        JSON-serialisable dict)."""
        raise NotImplementedError

    def finish_migration(self, context, migration, instance, disk_info, image_meta,
                         resize_instance, power_on=True):
        """Destination host: bring the disk described by ``disk_info`` here,
        grow it to ``instance["flavor"]`` (the new flavor) if
        ``resize_instance``, define the guest and start it if ``power_on``."""
        raise NotImplementedError

    def confirm_migration(self, context, migration, instance):
        """Source host, after the user confirmed: remove what was set aside."""
        raise NotImplementedError

    def finish_revert_migration(self, context, instance, power_on=True):
        """Source host, after the destination destroyed its copy: put the
        set-aside files back and start the guest with ``instance["flavor"]``
        (the old flavor again) if ``power_on``."""
        raise NotImplementedError

    # --- lifecycle events --------------------------------------------------------

    def register_event_listener(self, callback):
        """Call ``callback(LifecycleEvent)`` for every power change of this
        host's guests, from a thread of the driver's."""
        self._event_callback = callback

    def emit_event(self, event):
        callback = getattr(self, "_event_callback", None)
        if callback is not None:
            callback(event)

    # --- questions ------------------------------------------------------------------

    def get_power_state(self, instance):
        """The guest's power state (``mininova.compute.power_state``)."""
        raise NotImplementedError

    def get_console_output(self, context, instance):
        """The guest's serial console log, as bytes (at most the last 100 KiB)."""
        raise NotImplementedError

    def attach_interface(self, context, instance, vif):
        """Plug ``vif`` (network info, see mininova/network/model.py) into
        the guest, live if it runs, and into its definition."""
        raise NotImplementedError

    def detach_interface(self, context, instance, vif):
        """Take ``vif`` out of the guest and its definition, and unplug it."""
        raise NotImplementedError

    # --- block devices ---------------------------------------------------------------

    def default_device_names_for_instance(self, instance, bdms):
        """At a boot: ``{row id: "/dev/vdX"}``, a name for each of the
        instance's block device mapping rows (``bdms``, in boot order)."""
        raise NotImplementedError

    def get_device_name_for_instance(self, instance, bdms, requested=None):
        """The ``/dev/vdX`` for a volume attached now, given the rows the
        instance has (``requested`` may be ignored, as libvirt does)."""
        raise NotImplementedError

    def get_volume_connector(self, instance):
        """This host, as the volume service's attachment wants it:
        ``{"host", "ip", "initiator", "platform", "os_type", "multipath"}``."""
        raise NotImplementedError

    def attach_volume(self, context, connection_info, instance, mountpoint, disk_bus=None,
                      device_type=None):
        """Give the guest the volume of ``connection_info`` at ``mountpoint``
        (``/dev/vdb``): live if it runs, and in its definition."""
        raise NotImplementedError

    def detach_volume(self, context, connection_info, instance, mountpoint):
        """Take the volume at ``mountpoint`` out of the guest and its
        definition. No error if the guest has it no more."""
        raise NotImplementedError

    def remove_interrupted_leftovers(self):
        """At start-up: remove what work killed half way left behind (a
        download's ``.part``, a conversion's ``.converted``, a snapshot's
        temporary directory). Nothing to do by default."""

    def list_instance_uuids(self):
        """UUIDs of the guests this driver manages on this host."""
        raise NotImplementedError

    def manage_image_cache(self, context, all_instances):
        """One pass of the image cache manager: remove the cached images that
        none of ``all_instances`` (this host's, deleted ones left out) uses
        and that have been unused for long enough. Called by the compute's
        periodic task every ``[image_cache] manager_interval`` seconds."""
        raise NotImplementedError

    def get_image_cache(self, context, all_instances, next_pass_at):
        """mininova's report on the image cache: one dict per cached image::

            {"filename", "image_id", "image_name", "size", "used_by",
             "age_seconds", "will_be_removed", "removable_at"}

        ``will_be_removed`` says whether the pass due at ``next_pass_at``
        (epoch seconds, None when passes are turned off) would remove it.
        """
        raise NotImplementedError


def load_compute_driver(driver_name=None):
    """Import ``mininova.virt.<compute_driver>`` and instantiate it."""
    driver_name = driver_name or CONF.compute_driver
    return utils.import_class(f"mininova.virt.{driver_name}")()
