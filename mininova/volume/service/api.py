"""What the REST controllers call: the checks, the policy, the database
changes, then the work handed to the manager (mirrors
``cinder/volume/api.py``'s ``API``).

The order is Cinder's: authorize, check what the request asks against what
the volume is, change the status with a compare-and-swap (two requests
racing on one volume: one wins, the other gets its 400), then cast the
slow part to the :class:`~.manager.VolumeManager` and answer 202 at once.
The user follows the work through the status.

Who sees what: a volume, snapshot or attachment belongs to a project; its
readers see it, its members act on it, the admin does both on any
project's. Another project's volume is a 404, not a 403 (its existence
does not leak), except for the admin. Lists show the caller's project;
the admin's ``all_tenants=1`` shows every project's.

The 400 messages are Cinder's own words, so that a student who meets one
here can search for it in Cinder.
"""

from oslo_log import log as logging
from oslo_utils import strutils, units

from mininova import exception as mn_exception
from mininova.conf import CONF
from mininova.image import glance
from mininova.volume.service import (
    db,
    exception,
    fields,
    image_utils,
    quotas,
    volume_types,
)
from mininova.volume.service import policies as policy

LOG = logging.getLogger(__name__)


def _target(resource):
    """The policy target of a volume, snapshot or (through its volume) attachment."""
    return {"project_id": resource["project_id"], "user_id": resource.get("user_id")}


def _visible_project(context):
    """The project filter of a read: None lets the admin read any project's."""
    return None if context.is_admin else context.project_id


class API:
    """The volume service's internal API, one per process."""

    def __init__(self, engine, manager):
        self.engine = engine
        self.manager = manager
        # One image client for the process: each request thread keeps its
        # connection to the image service open between requests (Cinder's
        # glance module keeps one keystoneauth session for its process).
        self.image_api = glance.API()

    # --- volumes: reading ----------------------------------------------------------------

    def get(self, context, volume_id):
        volume = db.volume_get(self.engine, volume_id, _visible_project(context))
        if volume is None:
            raise exception.VolumeNotFound(volume_id=volume_id)
        context.can(policy.GET, _target(volume))
        return volume

    def get_all(self, context, filters=None, all_tenants=False):
        context.can(policy.GET_ALL)
        project = None if (context.is_admin and all_tenants) else context.project_id
        return db.volume_get_all(self.engine, project, filters)

    # --- volumes: creating ------------------------------------------------------------

    def create(self, context, size, name=None, description=None, volume_type=None,
               snapshot=None, source_volume=None, image=None, metadata=None,
               availability_zone=None):
        """Check the request, make the ``creating`` row, cast the work.
        ``image`` is the image's record as :meth:`find_image` read it."""
        context.can(policy.CREATE)
        if image is not None:
            context.can(policy.CREATE_FROM_IMAGE)
        size = _requested_size(size, snapshot, source_volume)
        _check_source_status(snapshot, source_volume)
        _check_size_against_sources(size, snapshot, source_volume)
        image_meta = _checked_image(image, size)
        volume_type = self._volume_type_for(volume_type, snapshot, source_volume)
        values = {
            "id": db.new_id(),
            "user_id": context.user_id,
            "project_id": context.project_id,
            "host": self.manager.host,
            "size": size,
            "availability_zone": _availability_zone(availability_zone),
            "status": fields.CREATING,
            "attach_status": fields.ATTACH_DETACHED,
            "display_name": name,
            "display_description": description,
            "snapshot_id": snapshot["id"] if snapshot else None,
            "source_volid": source_volume["id"] if source_volume else None,
            "volume_type_id": volume_type["id"],
            "volume_metadata": metadata or {},
        }
        quotas.check_volume(self.engine, context.project_id, volume_type["name"], size)
        volume = db.volume_create(self.engine, values)
        self._recheck_quota(context, volume_type["name"], "volumes",
                            lambda: db.volume_destroy(self.engine, volume["id"]))
        self.manager.cast(self.manager.create_volume, context, volume["id"],
                          _create_spec(snapshot, source_volume, image_meta))
        LOG.info("Create volume request issued successfully.")
        # Its type goes with it, as Cinder's volume object carries its
        # volume_type: the answer shows the type's name without reading it.
        return dict(volume, volume_type=volume_type)

    def _volume_type_for(self, requested, snapshot, source_volume):
        """The type asked for, else the source's, else the default one; a
        copy of a source must keep the source's type (no retype here)."""
        source = source_volume or snapshot
        if requested is None:
            if source is not None and source["volume_type_id"]:
                return volume_types.get_volume_type(self.engine, source["volume_type_id"])
            return volume_types.get_default_volume_type(self.engine)
        volume_type = volume_types.get_by_name_or_id(self.engine, requested)
        if source is not None and volume_type["id"] != source["volume_type_id"]:
            what = ("either match source volume, or omit type argument" if source_volume
                    else "recommend omitting the type argument")
            raise exception.InvalidInput(
                reason=f"Invalid volume_type provided: {volume_type['id']} (requested type "
                       f"is not compatible; {what}).")
        return volume_type

    def find_image(self, context, image_ref):
        """The record of the image an ``imageRef`` names: an id, a URL
        ending in one, or a unique name (Cinder's ``_image_uuid_from_ref``,
        which keeps only the id and has its create flow read the record
        again; the record is kept here, so it is read once)."""
        image_uuid = str(image_ref).split("/").pop()
        try:
            return self.image_api.show(context, image_uuid)
        except mn_exception.NotFound:
            pass
        images = self.image_api.get_all(context, name=image_ref)
        if len(images) > 1:
            raise exception.Conflict(
                message=f"Multiple matches found for '{image_ref}', use an ID to be more "
                        f"specific.")
        if images:
            return images[0]
        raise exception.Invalid(
            message="Invalid image identifier or unable to access requested image.")

    # --- volumes: changing -------------------------------------------------------------------

    def update(self, context, volume, values):
        context.can(policy.UPDATE, _target(volume))
        updated = db.volume_update(self.engine, volume["id"], values)
        if updated is None:
            raise exception.VolumeNotFound(volume_id=volume["id"])
        LOG.info("Volume updated successfully.")
        return updated

    def delete(self, context, volume):
        """``deleting`` if the volume may go, then the file is removed in
        the background; else Cinder's 400, whose long message lists every
        reason a volume cannot be deleted."""
        context.can(policy.DELETE, _target(volume))
        if db.volume_begin_delete(self.engine, volume["id"],
                                  fields.DELETABLE_STATUSES) is None:
            status = fields.build_or_str(fields.DELETABLE_STATUSES, "status must be %s and")
            raise exception.InvalidVolume(
                reason=f"Volume {status} must not be migrating, attached, belong to a group, "
                       f"have snapshots, awaiting a transfer, or be disassociated from "
                       f"snapshots after volume transfer.")
        self.manager.cast(self.manager.delete_volume, context, volume["id"])
        LOG.info("Delete volume request issued successfully.")

    def extend(self, context, volume, new_size):
        context.can(policy.EXTEND, _target(volume))
        if not _is_positive_int(new_size) or int(new_size) <= volume["size"]:
            raise exception.InvalidInput(
                reason=f"New size for extend must be greater than current size. (current: "
                       f"{volume['size']}, extended: {new_size}).")
        new_size = int(new_size)
        quotas.check_volume(self.engine, volume["project_id"],
                            self._type_name(volume["volume_type_id"]),
                            new_size - volume["size"], new_volumes=0)
        if db.volume_update(self.engine, volume["id"],
                            {"status": fields.EXTENDING,
                             "previous_status": fields.AVAILABLE},
                            expected_status=fields.AVAILABLE) is None:
            # Cinder's own wording, dict and all.
            raise exception.InvalidVolume(
                reason=f"Volume {volume['id']} status must be '{{'status': 'available'}}' "
                       f"to extend, currently {self._current(volume)['status']}.")
        self.manager.cast(self.manager.extend_volume, context, volume["id"], new_size)
        LOG.info("Extend volume request issued successfully.")

    def reset_status(self, context, volume, status=None, attach_status=None):
        """The admin's way out of a stuck status (Cinder's os-reset_status).
        ``attach_status: detached`` also deletes the volume's attachments,
        closing their exports."""
        context.can(policy.RESET_STATUS, _target(volume))
        values = {}
        if status is not None:
            if status not in fields.RESETTABLE_STATUSES:
                raise exception.InvalidInput(reason=f"Invalid status '{status}'")
            values["status"] = status
        if attach_status is not None:
            if attach_status not in (fields.ATTACH_DETACHED, fields.ATTACH_ATTACHED):
                raise exception.InvalidInput(reason=f"Invalid attach_status '{attach_status}'")
            values["attach_status"] = attach_status
        if not values:
            raise exception.InvalidInput(reason="Must specify 'status', 'attach_status' or "
                                                "'migration_status' for update.")
        if attach_status == fields.ATTACH_DETACHED:
            for attachment in volume["volume_attachment"]:
                self.manager.attachment_delete(context, volume["id"], attachment["id"])
        db.volume_update(self.engine, volume["id"], values)
        LOG.info("Reset status of volume %s: %s", volume["id"], values)

    # --- the attach API before attachments (Nova still calls the detaching pair) ----------

    def reserve_volume(self, context, volume):
        context.can(policy.RESERVE, _target(volume))
        if db.volume_update(self.engine, volume["id"], {"status": fields.ATTACHING},
                            expected_status=fields.AVAILABLE) is None:
            raise exception.InvalidVolume(
                reason=f"Volume status must be available to reserve, but the status is "
                       f"{self._current(volume)['status']}.")
        LOG.info("Reserve volume completed successfully.")

    def unreserve_volume(self, context, volume):
        context.can(policy.UNRESERVE, _target(volume))
        status = fields.IN_USE if volume["volume_attachment"] else fields.AVAILABLE
        if db.volume_update(self.engine, volume["id"], {"status": status},
                            expected_status=fields.ATTACHING) is None:
            LOG.debug("Attempted to unreserve volume that was not reserved, nothing to do.")
            return
        LOG.info("Unreserve volume completed successfully.")

    def begin_detaching(self, context, volume):
        context.can(policy.BEGIN_DETACHING, _target(volume))
        if (volume["attach_status"] != fields.ATTACH_ATTACHED or db.volume_update(
                self.engine, volume["id"], {"status": fields.DETACHING},
                expected_status=fields.IN_USE) is None):
            raise exception.InvalidVolume(
                reason="Unable to detach volume. Volume status must be 'in-use' and "
                       "attach_status must be 'attached' to detach.")
        LOG.info("Begin detaching volume completed successfully.")

    def roll_detaching(self, context, volume):
        context.can(policy.ROLL_DETACHING, _target(volume))
        db.volume_update(self.engine, volume["id"], {"status": fields.IN_USE},
                         expected_status=fields.DETACHING)
        LOG.info("Roll detaching of volume completed successfully.")

    def _recheck_quota(self, context, volume_type_name, counted, take_back):
        """Count again now that the row exists: a create that raced past
        the first check with another takes its row back (Nova's recheck)."""
        try:
            quotas.recheck(self.engine, context.project_id, volume_type_name, counted)
        except exception.QuotaError:
            take_back()
            raise

    def _type_name(self, volume_type_id):
        if volume_type_id is None:
            return CONF.volume.default_volume_type
        return volume_types.get_volume_type(self.engine, volume_type_id)["name"]

    def _current(self, volume):
        return db.volume_get(self.engine, volume["id"]) or volume

    # --- snapshots ---------------------------------------------------------------------------

    def get_snapshot(self, context, snapshot_id):
        snapshot = db.snapshot_get(self.engine, snapshot_id, _visible_project(context))
        if snapshot is None:
            raise exception.SnapshotNotFound(snapshot_id=snapshot_id)
        context.can(policy.SNAPSHOT_GET, _target(snapshot))
        return snapshot

    def get_all_snapshots(self, context, filters=None, all_tenants=False):
        context.can(policy.SNAPSHOT_GET_ALL)
        project = None if (context.is_admin and all_tenants) else context.project_id
        return db.snapshot_get_all(self.engine, project, filters)

    def create_snapshot(self, context, volume, name, description, force=False, metadata=None):
        context.can(policy.SNAPSHOT_CREATE, _target(volume))
        valid = fields.FORCE_SNAPSHOTTABLE_STATUSES if force else fields.SNAPSHOTTABLE_STATUSES
        quotas.check_snapshot(self.engine, context.project_id,
                              self._type_name(volume["volume_type_id"]), volume["size"])
        snapshot, refused = db.snapshot_create(self.engine, {
            "id": db.new_id(), "volume_id": volume["id"], "user_id": context.user_id,
            "project_id": context.project_id, "status": fields.SNAPSHOT_CREATING,
            "progress": "0%", "volume_size": volume["size"],
            "volume_type_id": volume["volume_type_id"], "display_name": name,
            "display_description": description, "snapshot_metadata": metadata or {},
        }, valid)
        if snapshot is None:
            current = refused["status"] if refused else "deleted"
            raise exception.InvalidVolume(
                reason=f"Volume {volume['id']} status must be {', '.join(valid)}, but current "
                       f"status is: {current}.")
        self._recheck_quota(context, self._type_name(volume["volume_type_id"]), "snapshots",
                            lambda: db.snapshot_destroy(self.engine, snapshot["id"]))
        self.manager.cast(self.manager.create_snapshot, context, snapshot["id"])
        LOG.info("Snapshot create request issued successfully.")
        return snapshot

    def delete_snapshot(self, context, snapshot):
        context.can(policy.SNAPSHOT_DELETE, _target(snapshot))
        if db.snapshot_update(self.engine, snapshot["id"],
                              {"status": fields.SNAPSHOT_DELETING},
                              expected_status=fields.SNAPSHOT_DELETABLE_STATUSES) is None:
            status = fields.build_or_str(fields.SNAPSHOT_DELETABLE_STATUSES,
                                         "status must be %s and")
            raise exception.InvalidSnapshot(
                reason=f"Snapshot {status} must not be part of a group.")
        self.manager.cast(self.manager.delete_snapshot, context, snapshot["id"])
        LOG.info("Snapshot delete request issued successfully.")

    # --- attachments (the attach API Nova uses since Queens) ------------------------------------

    def attachment_get(self, context, attachment_id):
        attachment = db.attachment_get(self.engine, attachment_id, _visible_project(context))
        if attachment is None:
            raise exception.VolumeAttachmentNotFound(filter=f"attachment_id = {attachment_id}")
        return attachment

    def attachment_get_all(self, context, filters=None, all_tenants=False):
        project = None if (context.is_admin and all_tenants) else context.project_id
        return db.attachment_get_all(self.engine, project, filters)

    def attachment_create(self, context, volume, instance_uuid, connector=None):
        """Reserve the volume for the instance; with a connector, also open
        the export (create and update in one call, as Cinder allows)."""
        context.can(policy.ATTACHMENT_CREATE, _target(volume))
        if "error" in volume["status"]:
            raise exception.InvalidVolume(
                reason=f"Volume attachments can not be created if the volume is in an error "
                       f"state. The Volume {volume['id']} currently has a status of: "
                       f"{volume['status']} ")
        attachment, refused = db.attachment_reserve(
            self.engine, volume["id"], instance_uuid, fields.RESERVABLE_STATUSES)
        if attachment is None:
            raise exception.InvalidVolume(
                reason=f"Volume {volume['id']} status must be "
                       f"{fields.build_or_str(fields.RESERVABLE_STATUSES)} to reserve, but the "
                       f"current status is {refused['status']}.")
        LOG.info("Reserved volume %(volume_id)s for instance %(instance)s: attachment "
                 "%(attachment_id)s", {"volume_id": volume["id"], "instance": instance_uuid,
                                       "attachment_id": attachment["id"]})
        if connector:
            try:
                self.manager.attachment_update(context, volume["id"], attachment["id"],
                                               connector)
            except exception.VolumeBackendAPIException as exc:
                raise exception.AttachmentCreateFailed(reason=exc.format_message()) from exc
            attachment = db.attachment_get(self.engine, attachment["id"])
        return attachment

    def attachment_update(self, context, attachment, connector):
        volume = self._attachment_volume(attachment)
        context.can(policy.ATTACHMENT_UPDATE, _target(volume))
        if "error" in volume["status"]:
            raise exception.Conflict(
                reason=f"Volume attachments can not be updated if the volume is in an error "
                       f"state. The Volume {volume['id']} currently has a status of: "
                       f"{volume['status']} ")
        try:
            self.manager.attachment_update(context, volume["id"], attachment["id"], connector)
        except exception.VolumeBackendAPIException as exc:
            raise exception.AttachmentUpdateFailed(reason=exc.format_message()) from exc
        return db.attachment_get(self.engine, attachment["id"])

    def attachment_complete(self, context, attachment):
        """The compute connected the volume: the attachment is attached and
        the volume in-use (Cinder checks nothing more, nor do we)."""
        volume = self._attachment_volume(attachment)
        context.can(policy.ATTACHMENT_COMPLETE, _target(volume))
        db.attachment_update(
            self.engine, attachment["id"], {"attach_status": fields.ATTACH_ATTACHED},
            volume_values={"status": fields.IN_USE, "attach_status": fields.ATTACH_ATTACHED})
        LOG.info("Attach volume completed successfully.")

    def attachment_delete(self, context, attachment):
        volume = self._attachment_volume(attachment)
        context.can(policy.ATTACHMENT_DELETE, _target(volume))
        remaining = self.manager.attachment_delete(context, volume["id"], attachment["id"])
        LOG.info("Detach volume completed successfully.")
        return remaining or []

    def _attachment_volume(self, attachment):
        volume = db.volume_get(self.engine, attachment["volume_id"])
        if volume is None:
            raise exception.VolumeNotFound(volume_id=attachment["volume_id"])
        return volume

    # --- volume types ----------------------------------------------------------------------

    def get_volume_type(self, context, volume_type_id):
        context.can(policy.TYPE_GET)
        if volume_type_id == "default":
            return volume_types.get_default_volume_type(self.engine)
        return volume_types.get_volume_type(self.engine, volume_type_id)

    def get_all_volume_types(self, context):
        context.can(policy.TYPE_GET_ALL)
        return db.volume_type_get_all(self.engine, include_private=context.is_admin)

    def create_volume_type(self, context, name, description=None, is_public=True,
                           extra_specs=None):
        context.can(policy.TYPE_CREATE)
        return volume_types.create(self.engine, name, description, is_public, extra_specs)

    def delete_volume_type(self, context, volume_type_id):
        context.can(policy.TYPE_DELETE)
        volume_types.destroy(self.engine, volume_types.get_volume_type(self.engine,
                                                                       volume_type_id))


# --- the checks of a create ----------------------------------------------------------------

def _is_positive_int(value):
    return (not isinstance(value, bool) and strutils.is_int_like(value)
            and int(value) > 0)


def _requested_size(size, snapshot, source_volume):
    """The size asked for, or the source's; Cinder's message when it is no
    whole number of GiB above zero."""
    if size is None and snapshot is not None:
        size = snapshot["volume_size"]
    elif size is None and source_volume is not None:
        size = source_volume["size"]
    if not _is_positive_int(size):
        raise exception.InvalidInput(
            reason=f"Invalid volume size provided for create request: {size} (size "
                   f"argument must be an integer (or string representation of an integer) "
                   f"and greater than zero).")
    return int(size)


def _check_source_status(snapshot, source_volume):
    if snapshot is not None and snapshot["status"] not in fields.SNAPSHOT_USABLE_STATUSES:
        raise exception.InvalidSnapshot(
            reason=f"Originating snapshot status must be one of "
                   f"'{', '.join(fields.SNAPSHOT_USABLE_STATUSES)}' values")
    if source_volume is not None and source_volume["status"] not in fields.CLONEABLE_STATUSES:
        raise exception.InvalidVolume(
            reason=f"Originating source volume status must be one of "
                   f"'{', '.join(fields.CLONEABLE_STATUSES)}' values")


def _check_size_against_sources(size, snapshot, source_volume):
    if snapshot is not None and size < snapshot["volume_size"]:
        raise exception.InvalidInput(
            reason=f"Volume size '{size}'GB cannot be smaller than the snapshot size "
                   f"{snapshot['volume_size']}GB. They must be >= original snapshot size.")
    if source_volume is not None and size < source_volume["size"]:
        raise exception.InvalidInput(
            reason=f"Volume size '{size}'GB cannot be smaller than original volume size  "
                   f"{source_volume['size']}GB. They must be >= original volume size.")


def _availability_zone(requested):
    zone = CONF.volume.storage_availability_zone
    if requested is not None and requested != zone:
        raise exception.InvalidInput(reason=f"Availability zone '{requested}' is invalid.")
    return zone


def _checked_image(image_meta, size):
    """The image's record, refused as Cinder refuses it
    (``volume_utils.check_image_metadata``)."""
    if image_meta is None:
        return None
    image_id = image_meta["id"]
    if image_meta.get("status") != "active":
        raise exception.InvalidInput(reason=f"Image {image_id} is not active.")
    image_gb = (int(image_meta.get("size") or 0) + units.Gi - 1) // units.Gi
    if image_gb > size:
        raise exception.InvalidInput(
            reason=f"Size of specified image {image_gb}GB is larger than volume size "
                   f"{size}GB.")
    min_disk = int(image_meta.get("min_disk") or 0)
    if size < min_disk:
        raise exception.InvalidInput(
            reason=f"Volume size {size}GB cannot be smaller than the image minDisk size "
                   f"{min_disk}GB.")
    image_utils.check_virtual_size(image_meta.get("virtual_size"), size, image_id)
    return image_meta


def _create_spec(snapshot, source_volume, image_meta):
    """What the manager is to make the volume from (Cinder's create types)."""
    if snapshot is not None:
        return {"type": "snap", "snapshot_id": snapshot["id"]}
    if source_volume is not None:
        return {"type": "source_vol", "source_volid": source_volume["id"]}
    if image_meta is not None:
        return {"type": "image", "image_meta": image_meta}
    return {"type": "raw"}

