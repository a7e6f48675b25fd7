"""What the compute does with a server's block device mappings (mirrors
``nova/virt/block_device.py``).

The API stores one ``block_device_mapping`` row per disk a server asked
for; the compute reads them through the conductor and turns each into a
*driver block device*: a dict with the fields the virt driver reads, and an
``attach()`` that does the volume service's part. One class per row of
Nova's source × destination table::

    source    destination  class                          attach()
    image     local        (none: the driver's root disk from the image)
    blank     local        DriverEphemeralBlockDevice     (the driver makes disk.eph0)
    blank     local, swap  DriverSwapBlockDevice          (the driver makes disk.swap)
    volume    volume       DriverVolumeBlockDevice        attach the volume as it is
    snapshot  volume       DriverVolSnapshotBlockDevice   a volume from the snapshot, then attach
    image     volume       DriverVolImageBlockDevice      a volume from the image, then attach
    blank     volume       DriverVolBlankBlockDevice      an empty volume, then attach

Attaching a volume is the attachments flow of Nova since Queens (and of
``docs/volumes.md``): an attachment is made if the API did not reserve one
(``attachment_create``: the volume ``reserved``), updated with this host's
connector (``attachment_update``: the volume service opens the NBD export
and answers the ``connection_info``), the disk given to the guest (by the
driver: now for a running server, in its domain XML for a boot), and the
attachment completed (``attachment_complete``: the volume ``in-use``).
Each step's result is saved into the row at once (volume_id,
attachment_id, connection_info) through ``save``, so that a compute that
dies half-way leaves enough behind for the next start to settle it.

A volume the volume service must first make (from a snapshot, an image,
blank) is waited for: ``[DEFAULT] block_device_allocate_retries`` looks,
``block_device_allocate_retries_interval`` seconds apart, as Nova's
``_await_block_device_map_created``; ``error`` or no end fails the build
(VolumeNotCreated, which the manager turns into Nova's BuildAbortException
"Failure prepping block device.").

``get_block_device_info`` gathers them into the ``block_device_info`` dict
every driver method takes, as Nova's ``driver.get_block_device_info``::

    {"root_device_name": "/dev/vda",
     "ephemerals": [{"device_name", "size" (GB), "guest_format", "disk_bus", ...}],
     "swap": {"device_name", "swap_size" (MB), "disk_bus"} or None,
     "block_device_mapping": [{"mount_device", "connection_info", "boot_index",
                               "delete_on_termination", "disk_bus", ...}]}

Left out: the legacy (pre-attachments) attach, multiattach, encrypted
volumes, volume-backed images (``bdm_v2`` mappings inside an image's
properties), ``refresh_connection_info`` on a live migration, the
``DriverImageBlockDevice`` of image → local (the driver builds the root disk
from the instance's image itself).
"""

import time

from oslo_log import log as logging
from oslo_utils import excutils

from mininova import exception
from mininova.conf import CONF

LOG = logging.getLogger(__name__)


class _NotTransformable(Exception):
    """This row is not of the class's kind (try the next class)."""


class DriverBlockDevice(dict):
    """A block device mapping row as the virt driver sees it: a dict of
    ``_fields``, plus the row's ``id`` and, for volumes, the attributes the
    attach needs (``volume_id``, ``attachment_id``...)."""

    _fields = frozenset()

    def __init__(self, bdm):
        super().__init__()
        if bdm.get("no_device"):
            raise _NotTransformable()
        self.id = bdm.get("id")
        self._bdm = dict(bdm)
        self.update({field: None for field in self._fields})
        self._transform(bdm)

    def _transform(self, bdm):
        raise NotImplementedError

    @property
    def bdm(self):
        """The row as it was read (and as ``save`` changed it)."""
        return self._bdm

    def save(self, context, conductor_api, **values):
        """Write ``values`` into the row (through the conductor: the compute
        has no database) and keep the local copy in step."""
        self._bdm.update(values)
        if conductor_api is not None and self.id is not None:
            conductor_api.block_device_mapping_update(context, self.id, values)


def is_swap(bdm):
    return (bdm.get("source_type") == "blank" and bdm.get("destination_type") == "local"
            and bdm.get("guest_format") == "swap")


def is_ephemeral(bdm):
    return (bdm.get("source_type") == "blank" and bdm.get("destination_type") == "local"
            and bdm.get("guest_format") != "swap")


def is_volume(bdm):
    return bdm.get("destination_type") == "volume"


class DriverSwapBlockDevice(DriverBlockDevice):
    """blank → local with guest_format swap: ``disk.swap`` (size in MB, as
    the flavor's ``swap``)."""

    _fields = frozenset({"device_name", "swap_size", "disk_bus"})

    def _transform(self, bdm):
        if not is_swap(bdm):
            raise _NotTransformable()
        self.update(device_name=bdm.get("device_name"),
                    swap_size=bdm.get("volume_size") or 0,
                    disk_bus=bdm.get("disk_bus"))


class DriverEphemeralBlockDevice(DriverBlockDevice):
    """blank → local: an ephemeral disk ``disk.eph<N>`` (size in GB),
    formatted with ``guest_format`` or left empty."""

    _fields = frozenset({"device_name", "size", "disk_bus", "device_type", "guest_format"})

    def _transform(self, bdm):
        if not is_ephemeral(bdm):
            raise _NotTransformable()
        self.update(device_name=bdm.get("device_name"),
                    size=bdm.get("volume_size") or 0,
                    disk_bus=bdm.get("disk_bus"),
                    device_type=bdm.get("device_type"),
                    guest_format=bdm.get("guest_format"))


class DriverVolumeBlockDevice(DriverBlockDevice):
    """volume → volume: an existing volume, attached as it is."""

    _source_type = "volume"
    _fields = frozenset({"mount_device", "connection_info", "delete_on_termination",
                         "guest_format", "device_type", "disk_bus", "boot_index",
                         "attachment_id", "volume_id"})

    def _transform(self, bdm):
        if bdm.get("source_type") != self._source_type or not is_volume(bdm):
            raise _NotTransformable()
        self.volume_id = bdm.get("volume_id")
        self.volume_size = bdm.get("volume_size")
        self.volume_type = bdm.get("volume_type")
        self.snapshot_id = bdm.get("snapshot_id")
        self.image_id = bdm.get("image_id")
        self.update({key: bdm.get(key) for key in
                     ("delete_on_termination", "guest_format", "device_type",
                      "disk_bus", "boot_index", "attachment_id", "volume_id")})
        self["mount_device"] = bdm.get("device_name")
        self["connection_info"] = bdm.get("connection_info") or None

    @property
    def attachment_id(self):
        return self.get("attachment_id")

    # --- attach ------------------------------------------------------------------------

    def attach(self, context, instance, volume_api, virt_driver, conductor_api=None,
               do_driver_attach=False):
        """Attach the volume to ``instance`` on this host: at a boot
        (``do_driver_attach`` False: the driver puts the disk in the domain
        it is about to define), or to a server that exists already (True:
        the driver adds the disk now, live if the guest runs).

        On a failure after the attachment exists, the attachment is deleted
        (the volume goes back to ``available``) and the error raised."""
        self._log_attach(instance)
        if not self.attachment_id:
            # Nothing reserved by the API (a volume this compute just made):
            # reserve it now for the instance.
            attachment = volume_api.attachment_create(context, self.volume_id,
                                                      instance["uuid"])
            self._set_attachment(context, conductor_api, attachment["id"])
        try:
            self._volume_attach(context, instance, volume_api, virt_driver, conductor_api,
                                do_driver_attach)
        except Exception:
            with excutils.save_and_reraise_exception():
                LOG.exception("Failed to attach volume %s", self.volume_id,
                              instance=instance)
                self._delete_attachment_quietly(context, volume_api, instance)
                if do_driver_attach:
                    # A hot-plug that failed leaves nothing: forget the
                    # attachment in the row too (the manager destroys it).
                    self._set_attachment(context, conductor_api, None)

    def _log_attach(self, instance):
        LOG.info("Booting with volume %(volume_id)s at %(mountpoint)s",
                 {"volume_id": self.volume_id, "mountpoint": self["mount_device"]},
                 instance=instance)

    def _volume_attach(self, context, instance, volume_api, virt_driver, conductor_api,
                       do_driver_attach):
        connector = virt_driver.get_volume_connector(instance)
        attachment = volume_api.attachment_update(context, self.attachment_id, connector,
                                                  self["mount_device"])
        connection_info = dict(attachment["connection_info"])
        # The volume's id, which libvirt puts in the disk's <serial>: the
        # guest finds it in /dev/disk/by-id.
        connection_info.setdefault("serial", self.volume_id)
        self["connection_info"] = connection_info
        self.save(context, conductor_api, connection_info=connection_info)
        if do_driver_attach:
            virt_driver.attach_volume(context, connection_info, instance,
                                      self["mount_device"], disk_bus=self["disk_bus"],
                                      device_type=self["device_type"])
        volume_api.attachment_complete(context, self.attachment_id)

    def _set_attachment(self, context, conductor_api, attachment_id):
        self["attachment_id"] = attachment_id
        self.save(context, conductor_api, attachment_id=attachment_id)

    def _delete_attachment_quietly(self, context, volume_api, instance):
        if not self.attachment_id:
            return
        try:
            volume_api.attachment_delete(context, self.attachment_id)
        except Exception:
            LOG.warning("Could not delete attachment %s of volume %s", self.attachment_id,
                        self.volume_id, instance=instance)

    # --- detach ------------------------------------------------------------------------

    def detach(self, context, instance, volume_api, virt_driver, destroy_disk=True):
        """Take the disk out of the guest (unless ``destroy_disk`` is False:
        the guest is gone already) and delete the attachment: the volume
        service closes the export and the volume is ``available``."""
        if destroy_disk and self["connection_info"]:
            virt_driver.detach_volume(context, self["connection_info"], instance,
                                      self["mount_device"])
        if self.attachment_id:
            volume_api.attachment_delete(context, self.attachment_id)

    # --- a volume the volume service makes first ------------------------------------------

    def _create_volume(self, context, instance, volume_api, conductor_api, name,
                       wait_func, **create_kwargs):
        volume = volume_api.create(context, self.volume_size, name, "",
                                   volume_type=self.volume_type, **create_kwargs)
        # Saved before the wait: a build that fails now still knows which
        # volume it made, and deletes it.
        self.volume_id = self["volume_id"] = volume["id"]
        self.save(context, conductor_api, volume_id=volume["id"])
        (wait_func or wait_for_volume)(context, volume_api, volume["id"])
        return volume


class DriverVolSnapshotBlockDevice(DriverVolumeBlockDevice):
    """snapshot → volume: the volume service makes a volume from the
    snapshot (of volume_size, or the snapshot's size), then it is attached."""

    _source_type = "snapshot"

    def attach(self, context, instance, volume_api, virt_driver, conductor_api=None,
               do_driver_attach=False, wait_func=None):
        if not self.volume_id:
            snapshot = volume_api.get_snapshot(context, self.snapshot_id)
            if not self.volume_size:
                self.volume_size = snapshot["size"]
            self._create_volume(context, instance, volume_api, conductor_api, "",
                                wait_func, snapshot=snapshot)
        super().attach(context, instance, volume_api, virt_driver, conductor_api,
                       do_driver_attach)

    def _log_attach(self, instance):
        LOG.info("Booting with volume snapshot %(snapshot_id)s at %(mountpoint)s",
                 {"snapshot_id": self.snapshot_id, "mountpoint": self["mount_device"]},
                 instance=instance)


class DriverVolImageBlockDevice(DriverVolumeBlockDevice):
    """image → volume: the volume service downloads the image into a new
    volume (its boot_index 0 makes the server boot from it)."""

    _source_type = "image"

    def attach(self, context, instance, volume_api, virt_driver, conductor_api=None,
               do_driver_attach=False, wait_func=None):
        if not self.volume_id:
            self._create_volume(context, instance, volume_api, conductor_api, "",
                                wait_func, image_id=self.image_id)
        super().attach(context, instance, volume_api, virt_driver, conductor_api,
                       do_driver_attach)

    def _log_attach(self, instance):
        LOG.info("Booting with volume-backed-image %(image_id)s at %(mountpoint)s",
                 {"image_id": self.image_id, "mountpoint": self["mount_device"]},
                 instance=instance)


class DriverVolBlankBlockDevice(DriverVolumeBlockDevice):
    """blank → volume: an empty volume of volume_size GB."""

    _source_type = "blank"

    def attach(self, context, instance, volume_api, virt_driver, conductor_api=None,
               do_driver_attach=False, wait_func=None):
        if not self.volume_id:
            self._create_volume(context, instance, volume_api, conductor_api,
                                f"{instance['uuid']}-blank-vol", wait_func)
        super().attach(context, instance, volume_api, virt_driver, conductor_api,
                       do_driver_attach)

    def _log_attach(self, instance):
        LOG.info("Booting with blank volume at %(mountpoint)s",
                 {"mountpoint": self["mount_device"]}, instance=instance)


VOLUME_CLASSES = (DriverVolumeBlockDevice, DriverVolSnapshotBlockDevice,
                  DriverVolImageBlockDevice, DriverVolBlankBlockDevice)


def _convert(classes, bdms):
    devices = []
    for bdm in bdms:
        for cls in classes:
            try:
                devices.append(cls(bdm))
                break
            except _NotTransformable:
                continue
    return devices


def convert_swap(bdms):
    return _convert((DriverSwapBlockDevice,), bdms)


def convert_ephemerals(bdms):
    return _convert((DriverEphemeralBlockDevice,), bdms)


def convert_volumes(bdms):
    """Every row whose destination is a volume, whatever its source."""
    return _convert(VOLUME_CLASSES, bdms)


def convert_volume(bdm):
    """One volume row's driver block device (None if it is not one)."""
    devices = convert_volumes([bdm])
    return devices[0] if devices else None


def get_swap(swaps):
    """The one swap disk (Nova gives the driver one, not a list): the last."""
    return swaps[-1] if swaps else None


def is_boot_from_volume(bdms):
    """Does the server boot from a volume (a volume row at boot_index 0)?"""
    return any(is_volume(bdm) and bdm.get("boot_index") == 0 for bdm in bdms)


def get_block_device_info(instance, bdms):
    """The ``block_device_info`` dict the drivers take (see the module's
    docstring), from the instance's rows."""
    volumes = convert_volumes(bdms)
    root = next((v["mount_device"] for v in volumes if v["boot_index"] == 0), None)
    return {
        "root_device_name": root or instance.get("root_device_name") or "/dev/vda",
        "ephemerals": convert_ephemerals(bdms),
        "swap": get_swap(convert_swap(bdms)),
        "block_device_mapping": volumes,
    }


def attach_block_devices(devices, context, instance, volume_api, virt_driver,
                         conductor_api, wait_func=None):
    """Attach every volume of a boot, in order. The first failure stops
    the boot (the manager then cleans up what was made)."""
    for device in devices:
        kwargs = {} if type(device) is DriverVolumeBlockDevice else {"wait_func": wait_func}
        device.attach(context, instance, volume_api, virt_driver, conductor_api, **kwargs)
    return devices


def wait_for_volume(context, volume_api, volume_id):
    """Wait until the volume service has made the volume (``available``):
    Nova's ``_await_block_device_map_created``. ``error`` at once, or no end
    after the retries, raises VolumeNotCreated."""
    attempts = max(1, CONF.block_device_allocate_retries + 1)
    interval = CONF.block_device_allocate_retries_interval
    started = time.monotonic()
    status = None
    for attempt in range(1, attempts + 1):
        status = volume_api.get(context, volume_id)["status"]
        if status == "available":
            LOG.debug("Volume %s is available after %d attempt(s)", volume_id, attempt)
            return attempt
        if status == "error":
            break
        if attempt < attempts:
            time.sleep(interval)
    raise exception.VolumeNotCreated(volume_id=volume_id,
                                     seconds=int(time.monotonic() - started),
                                     attempts=attempt, volume_status=status)
