"""What the compute repairs when it starts (mirrors ``_init_instance`` and
``_destroy_evacuated_instances``-like parts of ``nova/compute/manager.py``).

No thread of the previous process survives a restart: an instance left in
a task_state would stay there forever. So ``init_host`` looks at each
instance of this host and finishes, retries or gives up what was in
progress, and destroys guests whose servers were deleted while it was
down. A mixin of :class:`~mininova.compute.manager.ComputeManager`.
"""

from oslo_log import log as logging

from mininova import exception
from mininova.compute import task_states, vm_states
from mininova.compute import utils as compute_utils

LOG = logging.getLogger(__name__)

# The task states of a move that a restart cannot resume.
RESIZE_IN_FLIGHT = (task_states.RESIZE_PREP, task_states.RESIZE_MIGRATING,
                    task_states.RESIZE_MIGRATED, task_states.RESIZE_FINISH,
                    task_states.RESIZE_REVERTING)


class RecoveryMixin:
    def _destroy_deleted_guests(self, context, live_uuids):
        """Guests whose server was deleted while this service was down (the
        API then deletes the row itself) are reaped now."""
        for instance_uuid in self.driver.list_instance_uuids():
            if instance_uuid not in live_uuids:
                LOG.info("Destroying instance with name label '%s' which is marked as "
                         "DELETED but still present on host.", instance_uuid)
                self._cleanup_guest(context, {"uuid": instance_uuid})

    def _init_instance(self, context, instance):
        """Finish, retry or give up what the previous run left in progress.

        No thread of the old process survives it: an instance left in a
        task_state would stay there forever.
        """
        task = instance["task_state"]
        if instance["vm_state"] == vm_states.BUILDING or task in task_states.BUILD_STATES:
            # The build's disk may be half made: the user must see ERROR,
            # not BUILD forever.
            LOG.debug("Instance failed to spawn correctly, setting to ERROR state",
                      instance=instance)
            self._interrupted_to_error(context, instance, "build", destroy=True)
        elif task in task_states.REBUILD_STATES:
            LOG.debug("Instance failed to rebuild correctly, setting to ERROR state",
                      instance=instance)
            self._interrupted_to_error(context, instance, "rebuild", destroy=True)
        elif task == task_states.DELETING:
            LOG.info("Service started deleting the instance during the previous run, "
                     "but did not finish. Restarting the deletion now.", instance=instance)
            self._delete_instance(context, instance)
        elif task == task_states.POWERING_OFF:
            LOG.debug("Instance in transitional state %s at start-up retrying stop "
                      "request", task, instance=instance)
            self.stop_instance(context, instance, clean_shutdown=True)
        elif task == task_states.POWERING_ON:
            LOG.debug("Instance in transitional state %s at start-up retrying start "
                      "request", task, instance=instance)
            self.start_instance(context, instance)
        elif task in (task_states.REBOOTING, task_states.REBOOTING_HARD):
            # A soft reboot cannot be resumed half way: the guest may be
            # shutting down. A hard one gets it to a known state.
            LOG.debug("Instance in transitional state %s at start-up retrying reboot "
                      "request as a hard reboot", task, instance=instance)
            self._update(context, instance, task_state=task_states.REBOOTING_HARD)
            self.reboot_instance(context, instance, "HARD")
        elif task in RESIZE_IN_FLIGHT:
            LOG.debug("Instance found in state %s during startup: the move cannot be "
                      "resumed, setting to ERROR state", task, instance=instance)
            self._interrupted_to_error(context, instance, "resize", destroy=False)
        elif task is not None:
            # pausing, suspending, a snapshot...: the guest is in whatever
            # state it reached; the database follows it.
            LOG.debug("Instance in transitional state %s at start-up clearing task "
                      "state", task, instance=instance)
            self._update(context, instance, task_state=None)
            self._sync_instance_power_state(context, instance,
                                            self.driver.get_power_state(instance))

    def _interrupted_to_error(self, context, instance, what, destroy):
        if destroy:
            self.driver.destroy(context, instance, destroy_disks=True)
        error = exception.MininovaException(
            f"The {what} was interrupted by a restart of mininova-compute on "
            f"{self.host}")
        compute_utils.add_instance_fault_from_exc(context, self.conductor_api,
                                                  instance["uuid"], error, self.host)
        self._update(context, instance, vm_state=vm_states.ERROR, task_state=None,
                     power_state=self.driver.get_power_state(instance))
