"""The volume manager: the work done on the storage (mirrors
``cinder/volume/manager.py``'s ``VolumeManager`` and the create flow of
``cinder/volume/flows/manager/create_volume.py``).

In Cinder, cinder-api checks a request and changes the database, then asks
cinder-volume, on the storage node, to do the work: a **cast** (fire and
forget) for what takes time (create, delete, extend, snapshots), whose end
the user sees as a status change; a **call** (wait for the answer) for
what the caller needs back at once (``attachment_update`` returns the
``connection_info``). mininova-volume is one process with one backend, so
the API (:mod:`.api`) calls this manager directly: casts become tasks on a
thread pool (``[volume] backend_native_threads_pool_size``), calls become
plain calls. The request context goes with each task and is made current
in its thread, so the task's log lines carry the request's ``req-...`` id.

Every task ends with the status it promises: ``available`` or ``error``
for a create, gone or ``error_deleting`` for a delete, ... A task is never
left half-way in the database: an exception sets the error status and is
logged with its traceback. After a crash, :meth:`VolumeManager.init_host`
finishes the story (Cinder's ``init_host`` and its cleanup of resources
left ``creating``/``deleting``).

The log lines are Cinder's: ``Volume %(volume_id)s: being created as
%(create_type)s with specification: %(volume_spec)s``, ``Volume
volume-<id> (<id>): created successfully``, ``Created volume
successfully.``, ``Deleted volume successfully.``, ``Extend volume
completed successfully.``, ``Create snapshot completed successfully``,
``attachment_update completed successfully.``, ``Terminate volume
connection completed successfully.``

Left out: the scheduler (one backend: nothing to choose), rescheduling a
failed create to another backend, notifications, the image-volume cache,
volume migration and retype, backups, groups, replication.
"""

import threading
from concurrent import futures

from oslo_log import log as logging
from oslo_utils import timeutils

from mininova import context as mn_context
from mininova.conf import CONF
from mininova.volume.service import db, exception, fields, image_utils, nbd
from mininova.volume.service import driver as volume_driver

LOG = logging.getLogger(__name__)

DRIVER_VERSION = "1.0.0"


class VolumeManager:
    """Creates, copies, exports and deletes the volume files."""

    def __init__(self, engine, driver=None, target=None):
        self.engine = engine
        self.driver = driver or volume_driver.FileDriver()
        self.target = target or nbd.NbdTarget()
        # Cinder's host@backend#pool: this service, its one backend and pool.
        self.host = f"{CONF.host}@file#file"
        self._executor = futures.ThreadPoolExecutor(
            CONF.volume.backend_native_threads_pool_size, thread_name_prefix="volume-op")
        # One volume's exports change one at a time; the port choice and
        # the daemon's bind are one step for all volumes.
        self._volume_locks = {}
        self._locks_lock = threading.Lock()
        self._port_lock = threading.Lock()

    # --- start and stop --------------------------------------------------------------

    def init_host(self):
        """Make the backend ready and finish what the last run left."""
        LOG.info("Starting volume driver %(driver_name)s (%(version)s)",
                 {"driver_name": type(self.driver).__name__, "version": DRIVER_VERSION})
        self.driver.do_setup()
        self.target.do_setup()
        image_utils.cleanup_temporary_files()
        context = mn_context.get_admin_context()
        self._recover_volumes(context)
        self._recover_snapshots(context)
        self._recover_exports()
        LOG.info("Driver initialization completed successfully.")

    def stop(self):
        """Wait for the running tasks; tasks not started yet are dropped (the
        next start finishes their deletes and sets their creates to error,
        see :meth:`init_host`). The exports keep serving (see :mod:`.nbd`)."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def cast(self, method, context, *args):
        """Run ``method(context, *args)`` on the pool; the caller does not wait."""
        return self._executor.submit(self._run, method, context, *args)

    def _run(self, method, context, *args):
        context.update_store()
        try:
            method(context, *args)
        except Exception:
            # Each task sets its error status itself; this is the last net.
            LOG.exception("Unexpected error in %s", method.__name__)
        finally:
            mn_context.clear_current()

    # --- volumes ----------------------------------------------------------------------

    def create_volume(self, context, volume_id, spec):
        """Make the volume's file from ``spec``: ``{"type": "raw"}``, or
        ``snap`` with ``snapshot_id``, ``source_vol`` with ``source_volid``,
        ``image`` with ``image_meta`` (Cinder's create types)."""
        volume = db.volume_get(self.engine, volume_id)
        if volume is None:
            return
        LOG.info("Volume %(volume_id)s: being created as %(create_type)s with "
                 "specification: %(volume_spec)s",
                 {"volume_id": volume_id, "create_type": spec["type"],
                  "volume_spec": _spec_for_log(volume, spec)})
        try:
            model_update = self._create_by_type(context, volume, spec)
        except Exception as exc:
            LOG.exception("Volume %s: create failed", volume_id)
            self._set_error(volume_id, fields.ERROR, exc,
                            (fields.CREATING, fields.DOWNLOADING))
            return
        model_update.update(status=fields.AVAILABLE, launched_at=timeutils.utcnow())
        if db.volume_update(self.engine, volume_id, model_update,
                            expected_status=(fields.CREATING, fields.DOWNLOADING),
                            read_back=False) is None:
            LOG.warning("Volume %s changed while it was being created; left as it is",
                        volume_id)
            return
        LOG.info("Volume %(volume_name)s (%(volume_id)s): created successfully",
                 {"volume_name": volume_driver.volume_name(volume_id), "volume_id": volume_id})
        LOG.info("Created volume successfully.")

    def _create_by_type(self, context, volume, spec):
        kind = spec["type"]
        if kind == "raw":
            return self.driver.create_volume(volume)
        if kind == "snap":
            snapshot = db.snapshot_get(self.engine, spec["snapshot_id"])
            if snapshot is None:
                raise exception.SnapshotNotFound(snapshot_id=spec["snapshot_id"])
            update = self.driver.create_volume_from_snapshot(volume, snapshot)
            # A volume keeps its snapshots' volume alive, so it is there to
            # say whether the data boots and from which image it came.
            origin = db.volume_get(self.engine, snapshot["volume_id"]) or {}
            return dict(update, bootable=origin.get("bootable", False),
                        image_metadata=origin.get("image_metadata"))
        if kind == "source_vol":
            source = db.volume_get(self.engine, spec["source_volid"])
            if source is None:
                raise exception.VolumeNotFound(volume_id=spec["source_volid"])
            return dict(self.driver.create_cloned_volume(volume, source),
                        bootable=source["bootable"], image_metadata=source["image_metadata"])
        # An image: the volume shows "downloading" while the image is
        # fetched and converted, as in Cinder.
        db.volume_update(self.engine, volume["id"], {"status": fields.DOWNLOADING},
                         expected_status=fields.CREATING, read_back=False)
        update = self.driver.copy_image_to_volume(context, volume, spec["image_meta"])
        return dict(update, bootable=True,
                    image_metadata=volume_image_metadata(spec["image_meta"]))

    def delete_volume(self, context, volume_id):
        volume = db.volume_get(self.engine, volume_id)
        if volume is None:
            return
        try:
            self.driver.delete_volume(volume)
        except Exception as exc:
            LOG.exception("Failed to delete volume %s", volume_id)
            self._set_error(volume_id, fields.ERROR_DELETING, exc, fields.DELETING)
            return
        db.volume_destroy(self.engine, volume_id)
        LOG.info("Deleted volume successfully.")

    def extend_volume(self, context, volume_id, new_size):
        volume = db.volume_get(self.engine, volume_id)
        if volume is None:
            return
        try:
            self.driver.extend_volume(volume, new_size)
        except Exception as exc:
            LOG.exception("Extend volume %s failed", volume_id)
            self._set_error(volume_id, fields.ERROR_EXTENDING, exc, fields.EXTENDING)
            return
        db.volume_update(self.engine, volume_id,
                         {"size": new_size, "status": volume["previous_status"]
                          or fields.AVAILABLE, "previous_status": None},
                         expected_status=fields.EXTENDING)
        LOG.info("Extend volume completed successfully.")

    def _set_error(self, volume_id, status, exc, expected_status):
        db.volume_update(self.engine, volume_id, {"status": status, "fault": _reason(exc)},
                         expected_status=expected_status, read_back=False)

    # --- snapshots ------------------------------------------------------------------------

    def create_snapshot(self, context, snapshot_id):
        snapshot = db.snapshot_get(self.engine, snapshot_id)
        if snapshot is None:
            return
        volume = db.volume_get(self.engine, snapshot["volume_id"])
        try:
            self.driver.create_snapshot(snapshot, volume)
        except Exception as exc:
            LOG.exception("Failed to create snapshot %s", snapshot_id)
            db.snapshot_update(self.engine, snapshot_id,
                               {"status": fields.SNAPSHOT_ERROR, "fault": _reason(exc)},
                               expected_status=fields.SNAPSHOT_CREATING)
            return
        db.snapshot_update(self.engine, snapshot_id,
                           {"status": fields.SNAPSHOT_AVAILABLE, "progress": "100%"},
                           expected_status=fields.SNAPSHOT_CREATING)
        LOG.info("Create snapshot completed successfully")

    def delete_snapshot(self, context, snapshot_id):
        snapshot = db.snapshot_get(self.engine, snapshot_id)
        if snapshot is None:
            return
        try:
            self.driver.delete_snapshot(snapshot)
        except Exception as exc:
            LOG.exception("Failed to delete snapshot %s", snapshot_id)
            db.snapshot_update(self.engine, snapshot_id,
                               {"status": fields.SNAPSHOT_ERROR_DELETING,
                                "fault": _reason(exc)},
                               expected_status=fields.SNAPSHOT_DELETING)
            return
        db.snapshot_destroy(self.engine, snapshot_id)
        LOG.info("Delete snapshot completed successfully.")

    # --- attachments: the export ------------------------------------------------------------

    def attachment_update(self, context, volume_id, attachment_id, connector):
        """Open the attachment's export and return its ``connection_info``,
        flat as Cinder's attachments API gives it (the driver's ``data``
        keys next to ``driver_volume_type``, plus ``attachment_id``).

        A second update of the same attachment (a retry) gets the export it
        already has. If the export cannot be opened the attachment is
        ``error_attaching`` and the volume stays ``reserved``: the caller
        deletes the attachment, which frees the volume.
        """
        with self._volume_lock(volume_id):
            attachment = db.attachment_get(self.engine, attachment_id)
            if attachment is None:
                raise exception.VolumeAttachmentNotFound(filter=f"attachment_id = {attachment_id}")
            LOG.info("Attaching volume %(volume_id)s to instance %(instance)s at mountpoint "
                     "%(mount)s on host %(host)s.",
                     {"volume_id": volume_id, "instance": attachment["instance_uuid"],
                      "mount": connector.get("mountpoint"), "host": connector.get("host")})
            try:
                export = self._open_export(volume_id, attachment)
            except Exception as exc:
                LOG.error("Opening the export of volume %(volume)s for attachment %(att)s "
                          "failed: %(reason)s",
                          {"volume": volume_id, "att": attachment_id, "reason": _reason(exc)})
                db.attachment_update(self.engine, attachment_id,
                                     {"attach_status": fields.ATTACH_ERROR_ATTACHING})
                raise
            connection_info = flat_connection_info(
                self.target.initialize_connection(export, volume_id), attachment_id)
            updated = db.attachment_update(
                self.engine, attachment_id,
                _attaching_values(connector, connection_info),
                volume_values={"status": fields.ATTACHING,
                               "attach_status": fields.ATTACH_ATTACHING})
            if updated is None:
                # Deleted while the export was starting: nobody will use it.
                self.target.remove_export(attachment_id)
                raise exception.VolumeAttachmentNotFound(filter=f"attachment_id = {attachment_id}")
        LOG.info("attachment_update completed successfully.")
        return connection_info

    def _open_export(self, volume_id, attachment):
        """The attachment's export: the one it has (a retried update) or a new one."""
        volume = {"id": volume_id}
        name = volume_driver.volume_name(volume_id)
        known = attachment["connection_info"] or {}
        pid = self.target.find_daemon(attachment["id"])
        if known.get("port") and pid is not None:
            return nbd.Export(known["host"], known["port"], name, pid)
        with self._port_lock:
            return self.target.create_export(self.driver.local_path(volume), name,
                                             attachment["id"], self._ports_in_use())

    def _ports_in_use(self):
        attachments = db.attachment_get_all_in_status(
            self.engine, fields.EXPORTED_ATTACH_STATUSES)
        return {a["connection_info"]["port"] for a in attachments
                if (a["connection_info"] or {}).get("port")}

    def attachment_delete(self, context, volume_id, attachment_id):
        """Close the attachment's export (if it has one) and delete it; the
        volume becomes available unless another attachment holds it.
        A failure to stop the daemon is logged, not returned: the
        attachment must go (Cinder ignores a failed ``remove_export`` too)."""
        with self._volume_lock(volume_id):
            try:
                self.target.remove_export(attachment_id)
            except Exception:
                LOG.exception("Failed to remove the export of attachment %s; ignoring",
                              attachment_id)
            remaining = db.attachment_destroy(self.engine, attachment_id)
        LOG.info("Terminate volume connection completed successfully.")
        return remaining

    def _volume_lock(self, volume_id):
        with self._locks_lock:
            return self._volume_locks.setdefault(volume_id, threading.Lock())

    # --- start-up recovery --------------------------------------------------------------------

    def _recover_volumes(self, context):
        """Cinder's cleanup of what a dead service left half-done."""
        interrupted = "mininova-volume stopped during the operation"
        for volume in db.volume_get_all_in_status(
                self.engine, (fields.CREATING, fields.DOWNLOADING)):
            LOG.warning("Volume %s was left %s: setting it to error", volume["id"],
                        volume["status"])
            db.volume_update(self.engine, volume["id"],
                             {"status": fields.ERROR, "fault": interrupted},
                             expected_status=(fields.CREATING, fields.DOWNLOADING))
        for volume in db.volume_get_all_in_status(self.engine, (fields.EXTENDING,)):
            db.volume_update(self.engine, volume["id"],
                             {"status": fields.ERROR_EXTENDING, "fault": interrupted},
                             expected_status=fields.EXTENDING)
        for volume in db.volume_get_all_in_status(self.engine, (fields.DELETING,)):
            LOG.info("Resuming the delete of volume %s", volume["id"])
            self.cast(self.delete_volume, context, volume["id"])

    def _recover_snapshots(self, context):
        for snapshot in db.snapshot_get_all_in_status(
                self.engine, (fields.SNAPSHOT_CREATING,)):
            db.snapshot_update(self.engine, snapshot["id"],
                               {"status": fields.SNAPSHOT_ERROR,
                                "fault": "mininova-volume stopped during the snapshot"},
                               expected_status=fields.SNAPSHOT_CREATING)
        for snapshot in db.snapshot_get_all_in_status(
                self.engine, (fields.SNAPSHOT_DELETING,)):
            self.cast(self.delete_snapshot, context, snapshot["id"])

    def _recover_exports(self):
        """Adopt or re-open the export of each attachment still open, and
        stop the daemons no attachment owns any more (an attachment deleted
        while the service was down cannot be: the API is this process)."""
        open_attachments = db.attachment_get_all_in_status(
            self.engine, fields.EXPORTED_ATTACH_STATUSES)
        for attachment in open_attachments:
            self._ensure_export(attachment)
        known = {a["id"] for a in open_attachments}
        for attachment_id in self.target.exported_attachments():
            if attachment_id not in known:
                LOG.info("Stopping the export of attachment %s: no such open attachment",
                         attachment_id)
                self.target.remove_export(attachment_id)

    def _ensure_export(self, attachment):
        volume_id = attachment["volume_id"]
        info = attachment["connection_info"] or {}
        try:
            self.target.ensure_export(self.driver.local_path({"id": volume_id}),
                                      volume_driver.volume_name(volume_id),
                                      attachment["id"], info["port"])
        except Exception as exc:
            LOG.exception("Failed to re-export volume %s, setting to ERROR.", volume_id)
            db.volume_update(self.engine, volume_id,
                             {"status": fields.ERROR, "fault": _reason(exc)})


# --- helpers ----------------------------------------------------------------------------

def flat_connection_info(driver_answer, attachment_id):
    """Cinder's attachment ``connection_info``: the driver's nested answer
    ``{"driver_volume_type", "data": {...}}`` flattened, with the
    attachment's id (``cinder/volume/manager.py``, ``_connection_create``).
    Nova nests it back when it reads it (see docs/volumes.md)."""
    connection_info = dict(driver_answer.get("data", {}))
    connection_info.update({key: value for key, value in driver_answer.items()
                            if key != "data"})
    connection_info["attachment_id"] = attachment_id
    return connection_info


def _attaching_values(connector, connection_info):
    return {
        "attach_status": fields.ATTACH_ATTACHING,
        "connector": connector,
        "connection_info": connection_info,
        "attached_host": connector.get("host"),
        "mountpoint": connector.get("mountpoint"),
        "attach_mode": connector.get("mode") or "rw",
        "attach_time": timeutils.utcnow(),
    }


def volume_image_metadata(image_meta):
    """What Cinder copies from the image into ``volume_glance_metadata``,
    shown as ``volume_image_metadata``: Nova reads it to boot from the
    volume (min_ram, min_disk, the hw_* properties...). Values are strings,
    as in Cinder."""
    keys = ("id", "name", "checksum", "container_format", "disk_format", "min_disk",
            "min_ram", "size")
    metadata = {("image_id" if key == "id" else "image_name" if key == "name" else key):
                str(image_meta[key]) for key in keys if image_meta.get(key) is not None}
    for key, value in image_meta.items():
        if key not in _IMAGE_CORE_FIELDS and isinstance(value, str):
            metadata[key] = value
    return metadata


# Glance's own fields; the rest of an image's keys are its custom properties.
_IMAGE_CORE_FIELDS = frozenset({
    "id", "name", "status", "disk_format", "container_format", "size", "virtual_size",
    "checksum", "os_hash_algo", "os_hash_value", "min_disk", "min_ram", "visibility",
    "owner", "protected", "tags", "created_at", "updated_at", "file", "self", "schema",
    "direct_url", "locations",
})


def _spec_for_log(volume, spec):
    shown = {"status": volume["status"], "volume_size": volume["size"],
             "volume_name": volume_driver.volume_name(volume["id"])}
    if spec["type"] == "image":
        shown["image_id"] = spec["image_meta"]["id"]
    for key in ("snapshot_id", "source_volid"):
        if key in spec:
            shown[key] = spec[key]
    return shown


def _reason(exc):
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    return f"{type(exc).__name__}: {message}"[:1000]
