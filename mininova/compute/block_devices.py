"""The compute manager's block devices (mirrors the volume parts of
``nova/compute/manager.py``: ``_prep_block_device``, ``_default_block_device_names``,
``reserve_block_device_name``, ``attach_volume``, ``detach_volume``,
``_shutdown_instance``'s detaches and ``_cleanup_volumes``).

A mixin of :class:`~mininova.compute.manager.ComputeManager`, as
networking.py is. The rows are the API's (``block_device_mapping``), read
and written through the conductor; the volumes are the volume service's,
reached with ``mininova/volume/cinder.py``; what a row turns into for the
driver is ``mininova/virt/block_device.py``.

Build (task_state ``block_device_mapping``)::

    names      driver.default_device_names_for_instance → device_name saved
    volumes    each volume row attached: made first if its source is a
               snapshot, an image or blank (waited for), attachment
               created/updated with this host's connector/completed
    spawn      driver.spawn(..., block_device_info): the volumes are disks
               of the domain; ephemeral and swap files are made there

A failure there is Nova's ``BuildAbortException`` ("Failure prepping block
device."), not rescheduled. On any failed build the attachments are
deleted (the volumes ``available`` again) and the volumes this build made
are deleted too, so that nothing is left behind, and a reschedule starts
afresh on the next host.

Attach (``os-volume_attachments``): the API calls ``reserve_block_device_name``
(a call: the next free ``/dev/vdX``, a new row), reserves the volume
(``attachment_create``), then casts ``attach_volume``: attachment updated,
the disk hot-plugged (or added to a stopped guest's definition), attachment
completed; a failure deletes the attachment and the row. Detach: the API
``begin_detaching``; here the disk is unplugged, the attachment deleted
(the volume ``available``), the row destroyed; a failure rolls the volume
back to ``in-use``.

Delete: after the guest is destroyed, every volume's attachment is deleted
and the volumes whose ``delete_on_termination`` is true are deleted.

Restart (init_host): an attach or a build the old process did not finish
leaves attachments that are not ``attached``. Each is deleted (the volume
``available``) and, for an attach, its row destroyed and the disk taken
out of the guest if it got there; a detach it did not finish puts the
volume back ``in-use``. A volume is never left ``reserved``, ``attaching``
or ``detaching``.

Left out: multiattach, swap_volume, extend, volume snapshots of a running
server, ``[DEFAULT] max_disk_devices_to_attach``, the legacy attach flow.
"""

from oslo_concurrency import lockutils
from oslo_log import log as logging

from mininova import exception
from mininova.compute import utils as compute_utils
from mininova.compute import vm_states
from mininova.virt import block_device as driver_block_device

LOG = logging.getLogger(__name__)

# The rows a build turns into volumes of its own (deleted if it fails).
CREATED_SOURCES = ("snapshot", "image", "blank")


class BlockDevicesMixin:
    # --- the build ---------------------------------------------------------------------

    def _get_bdms(self, context, instance):
        return self.conductor_api.block_device_mapping_get_all_by_instance(
            context, instance["uuid"])

    def _block_device_info(self, context, instance, bdms=None):
        """What every driver call that (re)defines the guest needs."""
        if bdms is None:
            bdms = self._get_bdms(context, instance)
        info = driver_block_device.get_block_device_info(instance, bdms)
        info["mappings"] = bdms
        return info

    def _prep_block_device(self, context, instance, bdms):
        """Name the disks, make and attach the volumes; the
        ``block_device_info`` for the spawn."""
        try:
            self._default_block_device_names(context, instance, bdms)
            volumes = driver_block_device.convert_volumes(bdms)
            driver_block_device.attach_block_devices(
                volumes, context, instance, self.volume_api, self.driver,
                self.conductor_api)
            # The rows as the attaches left them (volume, attachment, connection).
            for device in volumes:
                row = next(b for b in bdms if b["id"] == device.id)
                row.update(device.bdm)
            return self._block_device_info(context, instance, bdms)
        except (exception.InstanceNotFound, exception.UnexpectedDeletingTaskStateError):
            raise
        except Exception as exc:
            msg = "Failure prepping block device."
            LOG.exception(msg, instance=instance)
            error = exception.BuildAbortException(instance_uuid=instance["uuid"],
                                                  reason=msg)
            raise error from exc

    def _default_block_device_names(self, context, instance, bdms):
        names = self.driver.default_device_names_for_instance(instance, bdms)
        for bdm in bdms:
            name = names.get(bdm["id"])
            if name and name != bdm.get("device_name"):
                bdm["device_name"] = name
                self.conductor_api.block_device_mapping_update(
                    context, bdm["id"], {"device_name": name})
        root = next((names[b["id"]] for b in bdms if b.get("boot_index") == 0
                     and b["id"] in names), "/dev/vda")
        if instance.get("root_device_name") != root and "root_device_name" in instance:
            self._update(context, instance, root_device_name=root)

    def _cleanup_failed_build_volumes(self, context, instance):
        """No attachment left, and no volume this build made: the volumes
        the user gave are ``available`` again, the rows ready for another
        host (or for the delete of the server in ERROR)."""
        try:
            bdms = self._get_bdms(context, instance)
        except Exception:
            LOG.exception("Could not read the block devices to clean up", instance=instance)
            return
        for bdm in bdms:
            if bdm.get("destination_type") != "volume":
                continue
            updates = {}
            if bdm.get("attachment_id"):
                self._delete_attachment_quietly(context, bdm, instance)
                updates.update(attachment_id=None, connection_info=None)
            if bdm.get("source_type") in CREATED_SOURCES and bdm.get("volume_id"):
                self._delete_volume_quietly(context, bdm["volume_id"], instance)
                updates["volume_id"] = None
            if updates:
                try:
                    self.conductor_api.block_device_mapping_update(context, bdm["id"],
                                                                   updates)
                except exception.NotFound:
                    pass

    # --- attach and detach -----------------------------------------------------------------

    def reserve_block_device_name(self, context, instance, device, volume_id, disk_bus=None,
                                  device_type=None, tag=None):
        """The name the next volume takes, and its row (an RPC call of the
        API's, before it reserves the volume)."""
        with lockutils.lock(instance["uuid"]):
            bdms = self._get_bdms(context, instance)
            name = self.driver.get_device_name_for_instance(instance, bdms, device)
            return self.conductor_api.block_device_mapping_create(context, {
                "instance_uuid": instance["uuid"], "source_type": "volume",
                "destination_type": "volume", "volume_id": volume_id,
                "device_name": name, "disk_bus": disk_bus,
                "device_type": device_type or "disk", "tag": tag, "boot_index": None,
                "delete_on_termination": False})

    def attach_volume(self, context, instance, bdm):
        with lockutils.lock(instance["uuid"]):
            try:
                with compute_utils.EventReporter(context, self.conductor_api,
                                                 "compute_attach_volume", self.host,
                                                 instance["uuid"]):
                    self._attach_volume(context, instance, bdm)
            except Exception:
                pass  # logged, and recorded as the event's Error

    def _attach_volume(self, context, instance, bdm):
        try:
            # The row as it is now: the API saved the attachment into it
            # after the reserve; a restart may have removed it since.
            bdm = self.conductor_api.block_device_mapping_get_by_volume_and_instance(
                context, bdm["volume_id"], instance["uuid"])
        except exception.NotFound:
            LOG.warning("Volume %s is not reserved for the instance any more: not "
                        "attaching it", bdm.get("volume_id"), instance=instance)
            if bdm.get("attachment_id"):
                self._delete_attachment_quietly(context, bdm, instance)
            raise
        device = driver_block_device.convert_volume(bdm)
        LOG.info("Attaching volume %(volume_id)s to %(mountpoint)s",
                 {"volume_id": device.volume_id, "mountpoint": device["mount_device"]},
                 instance=instance)
        try:
            device.attach(context, instance, self.volume_api, self.driver,
                          self.conductor_api, do_driver_attach=True)
        except Exception as exc:
            LOG.error("Failed to attach %(volume_id)s at %(mountpoint)s",
                      {"volume_id": device.volume_id, "mountpoint": device["mount_device"]},
                      instance=instance)
            compute_utils.add_instance_fault_from_exc(context, self.conductor_api,
                                                      instance["uuid"], exc, self.host)
            self._destroy_bdm_quietly(context, bdm)
            raise

    def detach_volume(self, context, instance, volume_id, attachment_id=None):
        with lockutils.lock(instance["uuid"]):
            try:
                with compute_utils.EventReporter(context, self.conductor_api,
                                                 "compute_detach_volume", self.host,
                                                 instance["uuid"]):
                    self._detach_volume(context, instance, volume_id, attachment_id)
            except Exception:
                pass  # logged, and recorded as the event's Error

    def _detach_volume(self, context, instance, volume_id, attachment_id):
        bdm = self.conductor_api.block_device_mapping_get_by_volume_and_instance(
            context, volume_id, instance["uuid"])
        device = driver_block_device.convert_volume(bdm)
        LOG.info("Detaching volume %(volume_id)s", {"volume_id": volume_id},
                 instance=instance)
        if attachment_id and not device.attachment_id:
            device["attachment_id"] = attachment_id
        try:
            device.detach(context, instance, self.volume_api, self.driver)
        except Exception as exc:
            LOG.exception("Failed to detach volume %(volume_id)s from %(mp)s",
                          {"volume_id": volume_id, "mp": device["mount_device"]},
                          instance=instance)
            compute_utils.add_instance_fault_from_exc(context, self.conductor_api,
                                                      instance["uuid"], exc, self.host)
            try:
                self.volume_api.roll_detaching(context, volume_id)
            except Exception:
                LOG.warning("Could not roll back the detaching of volume %s", volume_id,
                            instance=instance)
            raise
        self.conductor_api.block_device_mapping_destroy(context, bdm["id"])

    # --- delete ------------------------------------------------------------------------

    def _shutdown_volumes(self, context, instance):
        """After the guest is gone: every attachment deleted, then the
        volumes whose delete_on_termination says so."""
        try:
            bdms = self._get_bdms(context, instance)
        except exception.InstanceNotFound:
            return
        for bdm in bdms:
            if bdm.get("destination_type") != "volume" or not bdm.get("volume_id"):
                continue
            if bdm.get("attachment_id"):
                self._delete_attachment_quietly(context, bdm, instance)
            if bdm.get("delete_on_termination"):
                self._delete_volume_quietly(context, bdm["volume_id"], instance)

    # --- restart -----------------------------------------------------------------------

    def _settle_volume_attachments(self, context, instance):
        """What an attach, a detach or a build the old process did not
        finish left in the volume service (see the module's docstring)."""
        building = instance["vm_state"] == vm_states.BUILDING
        for bdm in self._get_bdms(context, instance):
            if bdm.get("destination_type") != "volume":
                continue
            if not bdm.get("attachment_id"):
                if not building and bdm.get("boot_index") is None \
                        and not bdm.get("connection_info"):
                    # Reserved by name only: the API never got to the volume.
                    LOG.info("Removing the unfinished attach of volume %s",
                             bdm.get("volume_id"), instance=instance)
                    self._destroy_bdm_quietly(context, bdm)
                continue
            try:
                attachment = self.volume_api.attachment_get(context, bdm["attachment_id"])
            except exception.VolumeAttachmentNotFound:
                attachment = {"status": "deleted"}
            if attachment.get("status") == "attached" and not building:
                self._roll_back_unfinished_detach(context, bdm, instance)
                continue
            self._undo_unfinished_attach(context, instance, bdm, attachment, building)

    def _undo_unfinished_attach(self, context, instance, bdm, attachment, building):
        LOG.info("Volume %(volume_id)s was left %(status)s by the previous run: "
                 "deleting its attachment", {"volume_id": bdm.get("volume_id"),
                                             "status": attachment.get("status")},
                 instance=instance)
        if bdm.get("connection_info") and bdm.get("device_name") and not building:
            try:
                self.driver.detach_volume(context, bdm["connection_info"], instance,
                                          bdm["device_name"])
            except Exception:
                LOG.exception("Could not take the volume out of the guest",
                              instance=instance)
        self._delete_attachment_quietly(context, bdm, instance)
        if building or bdm.get("boot_index") is not None:
            self.conductor_api.block_device_mapping_update(
                context, bdm["id"], {"attachment_id": None, "connection_info": None})
        else:
            self._destroy_bdm_quietly(context, bdm)

    def _roll_back_unfinished_detach(self, context, bdm, instance):
        try:
            volume = self.volume_api.get(context, bdm["volume_id"])
        except exception.VolumeNotFound:
            return
        if volume["status"] == "detaching":
            LOG.info("Volume %s was left detaching by the previous run: back in-use",
                     bdm["volume_id"], instance=instance)
            self.volume_api.roll_detaching(context, bdm["volume_id"])

    # --- helpers -----------------------------------------------------------------------

    def _delete_attachment_quietly(self, context, bdm, instance):
        try:
            self.volume_api.attachment_delete(context, bdm["attachment_id"])
        except Exception:
            LOG.exception("Failed to delete attachment %s of volume %s",
                          bdm["attachment_id"], bdm.get("volume_id"), instance=instance)

    def _delete_volume_quietly(self, context, volume_id, instance):
        try:
            LOG.info("Deleting volume: %s", volume_id, instance=instance)
            self.volume_api.delete(context, volume_id)
        except exception.VolumeNotFound:
            pass
        except Exception:
            LOG.exception("Failed to delete volume %s", volume_id, instance=instance)

    def _destroy_bdm_quietly(self, context, bdm):
        try:
            self.conductor_api.block_device_mapping_destroy(context, bdm["id"])
        except exception.NotFound:
            pass
