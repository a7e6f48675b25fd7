"""The compute manager's server actions (mirrors ``stop_instance``,
``start_instance``, ``reboot_instance``, ``trigger_crash_dump``,
``pause_instance``, ``unpause_instance``, ``suspend_instance``,
``resume_instance``, ``snapshot_instance`` and ``rebuild_instance`` of
``nova/compute/manager.py``).

Each is cast by the compute API after it set the action's task_state, and
each runs the way every action does here, in the manager's
:meth:`~mininova.compute.manager.ComputeManager._run_action`: under the
instance's lock, as an instance-action event (``compute_stop_instance``...),
its end state written by ``_finish`` only if the task_state is still the
one the API set. The power actions (stop, start, pause, unpause, suspend,
resume) share one shape, :meth:`ServerActionsMixin._power_action`: one
driver call, then the vm_state it leads to. A failed reboot or rebuild puts
the instance in ERROR, as Nova does.

Nova keeps these methods in its compute manager; here they are a mixin of
:class:`mininova.compute.manager.ComputeManager`, in a file of their own so
that the actions read in one place. They use the manager's ``driver``,
``image_api``, ``conductor_api``, ``_run_action``, ``_finish`` and
``_update``, and ``_block_device_info`` of :mod:`mininova.compute.block_devices`.

Left out: soft delete and restore, shelve, rescue, backup, setting the
admin password; rebuilds and snapshots of servers with volumes (the API
refuses them with 409).
"""

from oslo_log import log as logging
from oslo_utils import timeutils

from mininova.compute import task_states, vm_states
from mininova.compute import utils as compute_utils
from mininova.conf import CONF

LOG = logging.getLogger(__name__)


class ServerActionsMixin:
    # --- power actions -------------------------------------------------------------

    def _power_action(self, context, instance, event_name, driver_call, task_state,
                      vm_state):
        """The shape of stop, start, pause, unpause, suspend and resume: one
        driver call, then the vm_state it leads to."""
        def work():
            driver_call()
            self._finish(context, instance, task_state, vm_state)
        self._run_action(context, instance, event_name, work)

    def stop_instance(self, context, instance, clean_shutdown=True):
        self._power_action(context, instance, "compute_stop_instance",
                           lambda: self._power_off_instance(instance, clean_shutdown),
                           task_states.POWERING_OFF, vm_states.STOPPED)

    def _power_off_instance(self, instance, clean_shutdown=True):
        timeout = CONF.shutdown_timeout if clean_shutdown else 0
        self.driver.power_off(instance, timeout, CONF.compute.shutdown_retry_interval)

    def start_instance(self, context, instance):
        self._power_action(context, instance, "compute_start_instance",
                           lambda: self.driver.power_on(
                               context, instance,
                               block_device_info=self._block_device_info(context, instance)),
                           task_states.POWERING_ON, vm_states.ACTIVE)

    def reboot_instance(self, context, instance, reboot_type):
        task = task_states.REBOOTING if reboot_type == "SOFT" else task_states.REBOOTING_HARD

        def work():
            LOG.info("Rebooting instance", instance=instance)
            self.driver.reboot(context, instance, reboot_type, timeout=CONF.shutdown_timeout,
                               block_device_info=self._block_device_info(context, instance))
            self._finish(context, instance, task, vm_states.ACTIVE)
        self._run_action(context, instance, "compute_reboot_instance", work,
                         error_state=vm_states.ERROR)

    def trigger_crash_dump(self, context, instance):
        """An NMI to the guest (2.17). No task or power state changes: what the
        guest does with it is its own configuration. A failure is recorded as
        a fault and as the event's Error, and changes nothing else."""
        try:
            with compute_utils.EventReporter(context, self.conductor_api,
                                             "compute_trigger_crash_dump", self.host,
                                             instance["uuid"]):
                self.driver.trigger_crash_dump(instance)
        except Exception as exc:
            LOG.exception("Trigger crash dump failed", instance=instance)
            compute_utils.add_instance_fault_from_exc(context, self.conductor_api,
                                                      instance["uuid"], exc, self.host)

    def pause_instance(self, context, instance):
        self._power_action(context, instance, "compute_pause_instance",
                           lambda: self.driver.pause(instance),
                           task_states.PAUSING, vm_states.PAUSED)

    def unpause_instance(self, context, instance):
        self._power_action(context, instance, "compute_unpause_instance",
                           lambda: self.driver.unpause(instance),
                           task_states.UNPAUSING, vm_states.ACTIVE)

    def suspend_instance(self, context, instance):
        self._power_action(context, instance, "compute_suspend_instance",
                           lambda: self.driver.suspend(context, instance),
                           task_states.SUSPENDING, vm_states.SUSPENDED)

    def resume_instance(self, context, instance):
        self._power_action(context, instance, "compute_resume_instance",
                           lambda: self.driver.resume(context, instance),
                           task_states.RESUMING, vm_states.ACTIVE)

    # --- snapshot and rebuild -----------------------------------------------------------

    def snapshot_instance(self, context, instance, image_id):
        """image_snapshot_pending → image_snapshot → image_pending_upload →
        image_uploading → None; on failure the half-made image is deleted."""
        def update_task_state(task_state, expected_state=task_states.IMAGE_SNAPSHOT):
            self._update(context, instance, task_state=task_state,
                         expected_task_state=expected_state)

        def work():
            update_task_state(task_states.IMAGE_SNAPSHOT,
                              expected_state=task_states.IMAGE_SNAPSHOT_PENDING)
            try:
                self.driver.snapshot(context, instance, image_id, update_task_state)
            except Exception:
                self._delete_image_quietly(context, image_id)
                raise
            self._update(context, instance, task_state=None,
                         expected_task_state=task_states.IMAGE_UPLOADING)
        self._run_action(context, instance, "compute_snapshot_instance", work)

    def _delete_image_quietly(self, context, image_id):
        try:
            self.image_api.delete(context, image_id)
        except Exception:
            LOG.warning("Could not delete the unfinished snapshot image %s", image_id)

    def rebuild_instance(self, context, instance, image):
        """The same server on a new disk from ``image``: destroy the guest
        and its files, spawn again. A stopped server is stopped again after."""
        def work():
            LOG.info("Rebuilding instance", instance=instance)
            was_stopped = instance["vm_state"] == vm_states.STOPPED
            self.driver.destroy(context, instance, destroy_disks=True)
            self._update(context, instance,
                         task_state=task_states.REBUILD_BLOCK_DEVICE_MAPPING,
                         expected_task_state=task_states.REBUILDING)
            self._update(context, instance, task_state=task_states.REBUILD_SPAWNING,
                         expected_task_state=task_states.REBUILD_BLOCK_DEVICE_MAPPING)
            self.driver.spawn(context, instance, image,
                              block_device_info=self._block_device_info(context, instance))
            if was_stopped:
                self.driver.power_off(instance)
            self._finish(context, instance, task_states.REBUILD_SPAWNING,
                         vm_states.STOPPED if was_stopped else vm_states.ACTIVE,
                         launched_at=timeutils.utcnow(),
                         device_metadata=instance.get("device_metadata"))
        self._run_action(context, instance, "compute_rebuild_instance", work,
                         error_state=vm_states.ERROR)
