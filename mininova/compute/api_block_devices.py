"""The compute API's part in block devices (mirrors the block device
methods of ``nova/compute/api.py``: ``_check_and_transform_bdm``,
``_validate_bdm``, ``_bdm_validate_set_size_and_instance``,
``_get_volumes_for_bdms``, the volume-backed branch of
``_validate_flavor_image_nostatus``, ``attach_volume``, ``detach_volume``
and ``_local_cleanup_bdm_volumes``). A mixin of ``compute.api.API``, which
gives it ``image_api``, ``volume_api`` and ``compute_rpcapi``.

A boot's mappings, step by step, as Nova takes them:

1. the REST layer has made internal dicts of them (``mininova/block_device.py``);
2. :meth:`_check_and_transform_bdm`: legacy ones converted (the root is the
   one on ``vda``; with an image and no such volume, the image's root disk
   first), one volume for several servers refused, the flavor's ephemeral
   and swap disks added when the request did not ask for its own;
3. :meth:`_validate_bdm`: boot indices 0, 1, 2... without gaps, each
   image, snapshot and volume exists, sizes are given where a volume must
   be made and fit the image, at most one swap and no more than the
   flavor's, ephemerals within the flavor's ephemeral_gb, disk buses
   known, at most ``max_local_block_devices`` local disks;
4. per server, :meth:`_reserve_and_record_bdms`: each existing volume is
   reserved for it (an attachment without a connector: ``reserved``; a
   volume in use is refused by the volume service, 400) and the rows are
   written with the instance. If the request fails after that (quota
   recheck, broker away) :meth:`_release_bdm_reservations` deletes the
   attachments again, so the volumes are ``available`` as before.

The volumes a mapping asks to be *made* (from an image, a snapshot, or
blank) are made by the compute at build time (``mininova/virt/block_device.py``).

Left out: image-defined mappings (Nova's snapshots of volume-backed
servers carry them), multiattach (the volume service has none),
``[cinder] cross_az_attach``, encrypted volumes.
"""

import re

from oslo_log import log as logging
from oslo_utils import units

from mininova import block_device, exception, rpc
from mininova.compute import instance_actions
from mininova.conf import CONF
from mininova.db import block_devices as bdm_db
from mininova.db import instance_actions as actions_db

LOG = logging.getLogger(__name__)

# The libvirt driver's name of the root disk (Nova's default when the
# image names none); a volume may not ask for it when an image is the root.
ROOT_DEVICE_NAME = "vda"


class BlockDeviceMappingMixin:
    # --- a boot's mappings ---------------------------------------------------------

    def _boot_image(self, context, image_id, block_device_mapping, legacy_bdm):
        """The image the server boots: ``imageRef``'s, or for a server booted
        from a volume what stands for it (``block_device.get_bdm_image_metadata``)."""
        if image_id:
            return self._get_image(context, image_id)
        return block_device.get_bdm_image_metadata(
            context, self.image_api, self.volume_api, block_device_mapping, legacy_bdm)

    def _check_and_transform_bdm(self, context, image_ref, flavor, min_count, max_count,
                                 block_device_mapping, legacy_bdm):
        if image_ref:
            for bdm in block_device_mapping:
                if (bdm.get("destination_type") == "volume"
                        and block_device.strip_dev(bdm.get("device_name"))
                        == ROOT_DEVICE_NAME):
                    raise exception.Invalid(
                        "The volume cannot be assigned the same device name as the root "
                        f"device {ROOT_DEVICE_NAME}")
        if legacy_bdm:
            block_device_mapping = block_device.from_legacy_mapping(
                block_device_mapping, image_ref, ROOT_DEVICE_NAME)
        if max(min_count, max_count) > 1 and any(
                bdm.get("source_type") == "volume" for bdm in block_device_mapping):
            raise exception.Invalid("Cannot attach one or more volumes to multiple instances")
        return block_device_mapping + self._get_flavor_defined_bdms(flavor,
                                                                    block_device_mapping)

    @staticmethod
    def _get_flavor_defined_bdms(flavor, block_device_mapping):
        """The flavor's ephemeral disk and swap, unless the request has its own."""
        defined = []
        if flavor.get("ephemeral_gb") and not any(
                block_device.new_format_is_ephemeral(bdm) for bdm in block_device_mapping):
            defined.append(block_device.create_blank_bdm(flavor["ephemeral_gb"]))
        if flavor.get("swap") and not any(
                block_device.new_format_is_swap(bdm) for bdm in block_device_mapping):
            defined.append(block_device.create_blank_bdm(flavor["swap"], "swap"))
        return defined

    def _get_volumes_for_bdms(self, context, block_device_mapping):
        """The existing volumes the mappings name, by id. An unknown one is
        a 400 with the volume service's ``Volume <id> could not be found.``
        (Nova's API answers VolumeNotFound with a 400 at create)."""
        volumes = {}
        for bdm in block_device_mapping:
            volume_id = bdm.get("volume_id")
            if volume_id and volume_id not in volumes:
                try:
                    volumes[volume_id] = self.volume_api.get(context, volume_id)
                except exception.VolumeNotFound as exc:
                    raise exception.Invalid(exc.format_message()) from exc
        return volumes

    @staticmethod
    def _check_root_volume_fits_image(image, root_bdm):
        """Booting from a volume: the flavor's disk means nothing, the image's
        min_disk is checked against the volume to be made (an existing one
        was checked by the volume service when the image was written)."""
        size = root_bdm.get("volume_size")
        if size is None:
            return
        min_disk = int(image.get("min_disk") or 0) * units.Gi
        if min_disk > size * units.Gi:
            raise exception.VolumeSmallerThanMinDisk(volume_size=size * units.Gi,
                                                     image_min_disk=min_disk)

    def _validate_bdm(self, context, image, flavor, block_device_mapping, volumes):
        """Nova's ``_validate_bdm``, less the reservation (see
        :meth:`_reserve_and_record_bdms`): every 400 a request can earn
        before any server exists."""
        boot_indexes = sorted(bdm["boot_index"] for bdm in block_device_mapping
                              if bdm.get("boot_index") is not None and bdm["boot_index"] >= 0)
        # Each bootable device has its own index, from 0 and without gaps,
        # and there is at least one.
        if not boot_indexes or any(i != v for i, v in enumerate(boot_indexes)):
            LOG.debug("Invalid block device mapping boot sequence for instance: %s",
                      block_device_mapping)
            raise exception.InvalidBDMBootSequence()
        volume_types = None
        # The boot image was read already; other images once each.
        image_cache = {image["id"]: image} if image.get("id") else {}
        for bdm in block_device_mapping:
            if bdm.get("volume_type"):
                if volume_types is None:
                    volume_types = self.volume_api.get_all_volume_types(context)
                bdm["volume_type"] = _volume_type_name(bdm["volume_type"], volume_types)
            if bdm.get("image_id") is not None:
                self._validate_image_bdm(context, bdm, image_cache)
            elif bdm.get("volume_id") is not None:
                volume = volumes[bdm["volume_id"]]
                bdm["volume_size"] = volume.get("size")
            elif bdm.get("snapshot_id") is not None:
                try:
                    snapshot = self.volume_api.get_snapshot(context, bdm["snapshot_id"])
                except exception.CinderConnectionFailed:
                    raise
                except Exception:
                    raise exception.InvalidBDMSnapshot(id=bdm["snapshot_id"]) from None
                bdm["volume_size"] = bdm.get("volume_size") or snapshot.get("size")
            elif (bdm.get("source_type") == "blank" and bdm.get("destination_type") == "volume"
                    and not bdm.get("volume_size")):
                raise exception.InvalidBDM("Blank volumes (source: 'blank', dest: 'volume') "
                                           "need to have non-zero size")
            _check_device_type_and_bus(bdm)
        self._check_local_sizes(flavor, block_device_mapping)

    def _validate_image_bdm(self, context, bdm, image_cache):
        image_id = bdm["image_id"]
        if image_id not in image_cache:
            try:
                image_cache[image_id] = self._get_image(context, image_id)
            except Exception:
                raise exception.InvalidBDMImage(id=image_id) from None
        if bdm.get("source_type") == "image" and bdm.get("destination_type") == "volume":
            if not bdm.get("volume_size"):
                raise exception.InvalidBDM("Images with destination_type 'volume' need to "
                                           "have a non-zero size specified")
            _check_image_fits_volume(image_cache[image_id], bdm["volume_size"])

    @staticmethod
    def _check_local_sizes(flavor, block_device_mapping):
        """Ephemerals within the flavor's ephemeral_gb, one swap within its
        swap, and no more local disks than ``max_local_block_devices``."""
        ephemeral_size = sum(bdm.get("volume_size") or flavor["ephemeral_gb"]
                             for bdm in block_device_mapping
                             if block_device.new_format_is_ephemeral(bdm))
        if ephemeral_size > flavor["ephemeral_gb"]:
            raise exception.InvalidBDMEphemeralSize()
        swap_list = block_device.get_bdm_swap_list(block_device_mapping)
        if len(swap_list) > 1:
            raise exception.InvalidBDMFormat(details="More than one swap drive requested.")
        if swap_list and (swap_list[0].get("volume_size") or 0) > flavor["swap"]:
            raise exception.InvalidBDMSwapSize()
        max_local = CONF.max_local_block_devices
        if max_local >= 0 and max_local < sum(
                1 for bdm in block_device_mapping if bdm.get("destination_type") == "local"):
            raise exception.InvalidBDMLocalsLimit()

    @staticmethod
    def _volume_size(flavor, bdm):
        """A local blank disk without a size takes the flavor's (swap: MB)."""
        size = bdm.get("volume_size")
        if (size is None and bdm.get("source_type") == "blank"
                and bdm.get("destination_type") == "local"):
            size = flavor.get("swap", 0) if bdm.get("guest_format") == "swap" \
                else flavor.get("ephemeral_gb", 0)
        return size

    def _reserve_and_record_bdms(self, context, instance_uuid, flavor, block_device_mapping):
        """Reserve each existing volume for the server and write its rows;
        returns them. The attachment ids are in the rows, so a failure from
        here on is undone from them (:meth:`_release_bdm_reservations`)."""
        rows = []
        try:
            for bdm in block_device_mapping:
                values = {key: value for key, value in bdm.items()
                          if key in block_device.FIELDS}
                values.update(instance_uuid=instance_uuid,
                               volume_size=self._volume_size(flavor, bdm))
                row = bdm_db.bdm_create(context, values)
                rows.append(row)
                if bdm.get("source_type") == "volume" and bdm.get("volume_id"):
                    attachment_id = self._reserve_volume(context, bdm["volume_id"],
                                                         instance_uuid)
                    row.update(bdm_db.bdm_update(context, row["id"],
                                                 {"attachment_id": attachment_id}))
        except Exception:
            self._release_bdm_reservations(context, rows)
            raise
        return rows

    def _reserve_volume(self, context, volume_id, instance_uuid):
        """An attachment without a connector: the volume is ``reserved`` for
        the server (Nova's ``check_attach_and_reserve_volume``). The volume
        service refuses a volume that is not available: 400 ``Invalid
        volume: ...`` with its reason."""
        try:
            return self.volume_api.attachment_create(context, volume_id, instance_uuid)["id"]
        except (exception.CinderConnectionFailed, exception.InvalidVolume):
            raise
        except exception.InvalidInput as exc:
            raise exception.InvalidVolume(reason=exc.format_message()) from exc
        except Exception as exc:
            LOG.info("Failed validating volume %s. Error: %s", volume_id, exc)
            raise exception.InvalidBDMVolume(id=volume_id) from exc

    def _release_bdm_reservations(self, context, bdms):
        """Give back the volumes reserved for a request that failed (their
        rows go with the instance rows)."""
        for bdm in bdms:
            if bdm.get("attachment_id"):
                try:
                    self.volume_api.attachment_delete(context, bdm["attachment_id"])
                except Exception:
                    LOG.exception("Could not delete the attachment %s of volume %s",
                                  bdm["attachment_id"], bdm.get("volume_id"))


def _volume_type_name(volume_type, volume_types):
    """The type's name, given its id or its name (VolumeTypeNotFound: 400)."""
    for known in volume_types:
        if volume_type in (known["id"], known["name"]):
            return known["name"]
    raise exception.Invalid(
        exception.VolumeTypeNotFound(id_or_name=volume_type).format_message())


def _check_image_fits_volume(image, volume_size):
    """The checks the volume service would make when writing the image (its
    min_disk, its size), made now, so that the user hears a 400 rather
    than finds the build in ERROR later."""
    volume_bytes = volume_size * units.Gi
    min_disk = int(image.get("min_disk") or 0) * units.Gi
    if min_disk > volume_bytes:
        raise exception.VolumeSmallerThanMinDisk(volume_size=volume_bytes,
                                                 image_min_disk=min_disk)
    image_bytes = max(image.get("size") or 0, image.get("virtual_size") or 0)
    if image_bytes > volume_bytes:
        image_gb = -(-image_bytes // units.Gi)
        raise exception.InvalidBDM(
            f"Block Device Mapping is Invalid: image {image['id']} needs {image_gb}GB "
            f"and doesn't fit in a volume of size {volume_size}GB.")


def _check_device_type_and_bus(bdm):
    disk_bus = bdm.get("disk_bus")
    if disk_bus and disk_bus not in block_device.DISK_BUSES:
        raise exception.InvalidBDM(
            f"Block Device Mapping is invalid: The provided disk bus {disk_bus} is not "
            "valid.")
    device_type = bdm.get("device_type")
    if device_type and device_type not in block_device.DEVICE_TYPES:
        raise exception.InvalidBDMFormat(
            details=f"Invalid device_type {device_type}: one of "
                    f"{', '.join(block_device.DEVICE_TYPES)}.")


# A device path Nova accepts for an attach (block_device.match_device).
DEVICE_PATH = re.compile(r"^/dev/x?[a-z]?d?[a-z]+[0-9]*$")


class VolumeAttachMixin:
    """Attach and detach of a running or stopped server's volumes (Nova's
    ``attach_volume``, ``_attach_volume``, ``detach_volume``), and the
    API's own clean-up when it deletes a server whose compute is away."""

    ATTACH_STATES = ("active", "paused", "stopped", "resized")

    def attach_volume(self, context, instance, volume_id, device=None, tag=None,
                      delete_on_termination=False):
        """The compute names the disk (``reserve_block_device_name``, a call:
        it makes the row), the volume is reserved for the server (an
        attachment without a connector), then the compute attaches it
        (``attach_volume``, a cast). Returns the device name for the answer.
        A failure before the cast leaves neither row nor reservation."""
        if instance["locked"] and not context.is_admin:
            raise exception.InstanceIsLocked(instance_uuid=instance["uuid"])
        self._check_state(instance, instance_actions.ATTACH_VOLUME,
                          vm_state=self.ATTACH_STATES)
        if device and not DEVICE_PATH.match(device):
            raise exception.InvalidDevicePath(path=device)
        volume = self.volume_api.get(context, volume_id)
        self._check_volume_already_attached(context, instance, volume)
        bdm = self.compute_rpcapi.reserve_block_device_name(
            context, instance, device, volume_id, None, None, tag)
        try:
            attachment_id = self._reserve_volume(context, volume_id, instance["uuid"])
            bdm = bdm_db.bdm_update(context, bdm["id"], {
                "attachment_id": attachment_id,
                "delete_on_termination": bool(delete_on_termination)})
            actions_db.action_start(context, instance["uuid"], instance_actions.ATTACH_VOLUME)
            self.compute_rpcapi.attach_volume(context, instance, bdm)
        except Exception:
            self._release_bdm_reservations(context, [bdm])
            bdm_db.bdm_destroy(context, bdm["id"])
            raise
        return bdm["device_name"]

    @staticmethod
    def _check_volume_already_attached(context, instance, volume):
        """No volume on two servers (no multiattach), nor twice on one: the
        volume service allows a second attachment for the same server (for
        migrations), the API does not (Nova's message)."""
        bdms = bdm_db.bdm_get_all_by_volume(context, volume["id"])
        if not bdms:
            return
        if any(bdm["instance_uuid"] == instance["uuid"] for bdm in bdms):
            raise exception.InvalidVolume(reason=f"volume {volume['id']} already attached")
        instance_uuids = " ".join(bdm["instance_uuid"] for bdm in bdms)
        raise exception.InvalidVolume(
            reason=f"volume {volume['id']} is already attached to instances: "
                   f"{instance_uuids}")

    def detach_volume(self, context, instance, volume_id):
        """The volume ``detaching`` (the volume service's begin_detaching),
        then a cast to the compute, which detaches it from the guest,
        deletes the attachment and the row. The boot volume stays: 400."""
        if instance["locked"] and not context.is_admin:
            raise exception.InstanceIsLocked(instance_uuid=instance["uuid"])
        self._check_state(instance, instance_actions.DETACH_VOLUME,
                          vm_state=self.ATTACH_STATES)
        volume = self.volume_api.get(context, volume_id)
        try:
            bdm = bdm_db.bdm_get_by_volume_and_instance(context, volume_id, instance["uuid"])
        except exception.VolumeBDMNotFound:
            raise exception.NotFound(f"Instance {instance['uuid']} is not attached to volume "
                                     f"{volume_id}") from None
        if bdm["boot_index"] == 0:
            raise exception.Invalid("Cannot detach a root device volume")
        if not self._compute_is_up(context, instance["host"]):
            raise exception.ServiceUnavailable()
        try:
            self.volume_api.begin_detaching(context, volume_id)
        except exception.InvalidInput as exc:
            raise exception.InvalidVolume(reason=exc.format_message()) from exc
        attachment_id = bdm["attachment_id"] or (
            volume.get("attachments", {}).get(instance["uuid"], {}).get("attachment_id"))
        actions_db.action_start(context, instance["uuid"], instance_actions.DETACH_VOLUME)
        try:
            self.compute_rpcapi.detach_volume(context, instance, volume_id, attachment_id)
        except rpc.MessageDeliveryFailure:
            # Nobody will detach it: in-use again, not detaching for good.
            self.volume_api.roll_detaching(context, volume_id)
            raise

    def _local_cleanup_bdm_volumes(self, context, instance):
        """A server deleted here, without its compute (never scheduled, or
        its host is down): each volume's attachment goes (the volume is
        available again), and the volume too when delete_on_termination,
        as the compute's terminate would do. The rows go with the instance.
        A failure is logged, not raised: the server is deleted regardless
        (Nova's ``Ignoring volume cleanup failure``)."""
        for bdm in bdm_db.bdm_get_all_by_instance(context, instance["uuid"]):
            if not block_device.is_volume(bdm) or not bdm.get("volume_id"):
                continue
            try:
                if bdm.get("attachment_id"):
                    self.volume_api.attachment_delete(context, bdm["attachment_id"])
                if bdm.get("delete_on_termination"):
                    self.volume_api.delete(context, bdm["volume_id"])
            except Exception as exc:
                LOG.warning("Ignoring volume cleanup failure due to %s", exc,
                            instance=instance)

    def _refuse_with_volumes(self, context, instance, action, data_volumes_too=True):
        """What mininova does not do with volumes: resize or migrate a
        server that has any (its attachments would have to follow it to the
        new host), rebuild one (re-image a root volume, reconnect the
        others), or snapshot a server booted from a volume (Nova snapshots
        the volume and makes an image that maps it). A 409 that says so,
        rather than a build half-done on the host."""
        volume_bdms = [bdm for bdm in bdm_db.bdm_get_all_by_instance(context, instance["uuid"])
                       if block_device.is_volume(bdm)]
        if any(bdm["boot_index"] == 0 for bdm in volume_bdms):
            raise exception.Conflict(
                f"Cannot '{action}' instance {instance['uuid']} while it is booted from a "
                "volume: mininova does not resize, migrate, rebuild or snapshot "
                "volume-backed servers.")
        if volume_bdms and data_volumes_too:
            raise exception.Conflict(
                f"Cannot '{action}' instance {instance['uuid']} while volumes are attached "
                "to it: detach them first (mininova does not move attachments between "
                "hosts or reconnect them after a rebuild).")
