"""The compute API's server actions (mirrors ``stop``, ``start``,
``reboot``, ``pause``, ``unpause``, ``suspend``, ``resume``,
``trigger_crash_dump``, ``snapshot`` and ``rebuild`` of
``nova/compute/api.py``).

Each checks the states it needs and sets its task_state
(:meth:`~mininova.compute.api_checks.ActionChecksMixin._begin`), then
casts to the compute that owns the server, whose
:mod:`mininova.compute.server_actions` does the work. createImage makes
the image (queued) before the cast and returns it; the compute uploads
the data.

A mixin of :class:`mininova.compute.api.API`, which gives it
``image_api``, ``compute_rpcapi``, ``_get_image``,
``_check_image_fits_flavor`` and, from ``api_block_devices.py``,
``_refuse_with_volumes``.

Left out: rescue, shelve, backup (``createBackup``), setting the admin
password; rebuilds and snapshots of servers with volumes are refused (409).
"""

from oslo_log import log as logging

from mininova import exception, quota, rpc
from mininova.compute import instance_actions, task_states, vm_states
from mininova.compute.api_checks import check_instance_lock, undo_if_undelivered
from mininova.db import instance_actions as actions_db
from mininova.utils import sanitize_hostname

LOG = logging.getLogger(__name__)


class ServerActionsMixin:
    # --- power actions -------------------------------------------------------------

    @undo_if_undelivered
    @check_instance_lock
    def stop(self, context, instance):
        """active or error → powering-off → stopped (graceful, then forced)."""
        instance = self._begin(context, instance, instance_actions.STOP,
                               task_states.POWERING_OFF,
                               vm_state=(vm_states.ACTIVE, vm_states.ERROR))
        self.compute_rpcapi.stop_instance(context, instance, clean_shutdown=True)

    @undo_if_undelivered
    @check_instance_lock
    def start(self, context, instance):
        instance = self._begin(context, instance, instance_actions.START,
                               task_states.POWERING_ON, vm_state=(vm_states.STOPPED,))
        self.compute_rpcapi.start_instance(context, instance)

    @undo_if_undelivered
    @check_instance_lock
    def reboot(self, context, instance, reboot_type):
        """SOFT only from active with no task; HARD from more states, and
        may interrupt a soft reboot (or a pause...) that hangs."""
        if reboot_type == "SOFT":
            instance = self._begin(context, instance, instance_actions.REBOOT,
                                   task_states.REBOOTING, vm_state=(vm_states.ACTIVE,))
        else:
            instance = self._begin(context, instance, instance_actions.REBOOT,
                                   task_states.REBOOTING_HARD,
                                   vm_state=(vm_states.ACTIVE, vm_states.STOPPED,
                                             vm_states.PAUSED, vm_states.SUSPENDED,
                                             vm_states.ERROR),
                                   task_state=task_states.ALLOW_HARD_REBOOT)
        self.compute_rpcapi.reboot_instance(context, instance, reboot_type)

    @undo_if_undelivered
    @check_instance_lock
    def pause(self, context, instance):
        instance = self._begin(context, instance, instance_actions.PAUSE,
                               task_states.PAUSING, vm_state=(vm_states.ACTIVE,))
        self.compute_rpcapi.pause_instance(context, instance)

    @undo_if_undelivered
    @check_instance_lock
    def unpause(self, context, instance):
        instance = self._begin(context, instance, instance_actions.UNPAUSE,
                               task_states.UNPAUSING, vm_state=(vm_states.PAUSED,))
        self.compute_rpcapi.unpause_instance(context, instance)

    @undo_if_undelivered
    @check_instance_lock
    def suspend(self, context, instance):
        instance = self._begin(context, instance, instance_actions.SUSPEND,
                               task_states.SUSPENDING, vm_state=(vm_states.ACTIVE,))
        self.compute_rpcapi.suspend_instance(context, instance)

    @undo_if_undelivered
    @check_instance_lock
    def resume(self, context, instance):
        instance = self._begin(context, instance, instance_actions.RESUME,
                               task_states.RESUMING, vm_state=(vm_states.SUSPENDED,))
        self.compute_rpcapi.resume_instance(context, instance)

    @undo_if_undelivered
    @check_instance_lock
    def trigger_crash_dump(self, context, instance):
        """An NMI to the guest (2.17), from any state with a guest that may run."""
        self._check_state(instance, instance_actions.TRIGGER_CRASH_DUMP,
                          vm_state=(vm_states.ACTIVE, vm_states.PAUSED, vm_states.RESIZED,
                                    vm_states.STOPPED, vm_states.ERROR))
        LOG.debug("Try to trigger crash dump", instance=instance)
        actions_db.action_start(context, instance["uuid"], instance_actions.TRIGGER_CRASH_DUMP)
        self.compute_rpcapi.trigger_crash_dump(context, instance)

    # --- snapshot and rebuild -----------------------------------------------------------

    @undo_if_undelivered
    def snapshot(self, context, instance, name, metadata=None):
        """createImage: a queued image now, its data once the compute has
        flattened the disk. Returns the image (its id goes in Location)."""
        self._check_state(instance, instance_actions.CREATE_IMAGE,
                          vm_state=(vm_states.ACTIVE, vm_states.STOPPED,
                                    vm_states.PAUSED, vm_states.SUSPENDED))
        self._refuse_with_volumes(context, instance, instance_actions.CREATE_IMAGE,
                                  data_volumes_too=False)
        image = self.image_api.create(context, name, disk_format="qcow2",
                                      min_disk=instance["flavor"]["root_gb"],
                                      min_ram=self._base_image_min_ram(context, instance),
                                      properties=self._snapshot_properties(
                                          context, instance, metadata))
        try:
            instance = self._begin(context, instance, instance_actions.CREATE_IMAGE,
                                   task_states.IMAGE_SNAPSHOT_PENDING,
                                   vm_state=(vm_states.ACTIVE, vm_states.STOPPED,
                                             vm_states.PAUSED, vm_states.SUSPENDED))
        except exception.InstanceInvalidState:
            # Someone else's action got there first: no orphan image.
            self.image_api.delete(context, image["id"])
            raise
        try:
            self.compute_rpcapi.snapshot_instance(context, instance, image["id"])
        except rpc.MessageDeliveryFailure:
            self.image_api.delete(context, image["id"])  # nobody will fill it
            raise
        return image

    def _snapshot_properties(self, context, instance, metadata):
        """What a snapshot says about where it came from (Nova's
        image_type/instance_uuid/base_image_ref), plus the base image's
        own hints (architecture...) so the scheduler treats it alike."""
        properties = {}
        try:
            base = self.image_api.show(context, instance["image_ref"])
        except exception.ImageNotFound:
            base = {}
        for key in ("hw_architecture", "img_hv_type", "architecture", "hypervisor_type"):
            if base.get(key):
                properties[key] = base[key]
        properties.update(metadata or {})
        properties.update(image_type="snapshot", instance_uuid=instance["uuid"],
                          base_image_ref=instance["image_ref"] or "",
                          owner_user_name=context.user_id or "")
        return properties

    def _base_image_min_ram(self, context, instance):
        try:
            return self.image_api.show(context, instance["image_ref"]).get("min_ram") or 0
        except exception.ImageNotFound:
            return 0

    @undo_if_undelivered
    @check_instance_lock
    def rebuild(self, context, instance, image_id, name=None, metadata=None, **changes):
        """Same server (uuid, host, flavor), a new disk from ``image_id``.

        ``changes``: other columns the rebuild sets, as later microversions
        allow: ``display_description`` (2.19), ``key_name`` (2.54),
        ``user_data`` (2.57)."""
        self._check_state(instance, instance_actions.REBUILD,
                          vm_state=(vm_states.ACTIVE, vm_states.STOPPED, vm_states.ERROR))
        self._refuse_with_volumes(context, instance, instance_actions.REBUILD)
        quota.check_metadata_items(context, instance["project_id"], metadata)
        image = self._get_image(context, image_id)
        self._check_image_fits_flavor(image, instance["flavor"])
        updates = dict(changes, image_ref=image["id"])
        if name is not None:
            updates.update(display_name=name, hostname=sanitize_hostname(name))
        if metadata is not None:
            updates["metadata"] = metadata
        instance = self._begin(context, instance, instance_actions.REBUILD,
                               task_states.REBUILDING,
                               vm_state=(vm_states.ACTIVE, vm_states.STOPPED,
                                         vm_states.ERROR),
                               **updates)
        self.compute_rpcapi.rebuild_instance(context, instance, image)
        return instance
