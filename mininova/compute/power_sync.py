"""Keeping the database's power states in step with the hypervisor
(mirrors ``_sync_power_states``, ``handle_lifecycle_event`` and
``_sync_instance_power_state`` of ``nova/compute/manager.py``).

Two ways in: the driver's lifecycle events (``VM Stopped (Lifecycle
Event)``), and a periodic pass over every instance of the host
(``sync_power_state_interval``). Both end in
:meth:`PowerSyncMixin._sync_instance_power_state`, which records the
guest's power state and, where Nova's table says so (:func:`why_stop`),
calls the stop API, so that a guest that powered itself off shows SHUTOFF.
Nothing is done while a task is pending: the task writes the state it
leaves.

Nova keeps these methods in its compute manager; here they are a mixin of
:class:`mininova.compute.manager.ComputeManager`, in a file of their own so
that this one concept reads in one place. They use the manager's
``driver``, ``conductor_api``, ``compute_rpcapi`` and ``_update``.

Left out: the soft-deleted and shelved rows of Nova's table, and the
live-migration events (postcopy started, migration completed) that Nova's
``handle_lifecycle_event`` also handles.
"""

from oslo_concurrency import lockutils
from oslo_log import log as logging

from mininova import exception
from mininova.compute import instance_actions, power_state, task_states, vm_states
from mininova.compute import utils as compute_utils
from mininova.manager import periodic_task
from mininova.virt import driver as virt_driver

LOG = logging.getLogger(__name__)

# The power state a lifecycle event reports.
EVENT_POWER_STATE = {
    virt_driver.EVENT_LIFECYCLE_STARTED: power_state.RUNNING,
    virt_driver.EVENT_LIFECYCLE_STOPPED: power_state.SHUTDOWN,
    virt_driver.EVENT_LIFECYCLE_PAUSED: power_state.PAUSED,
    virt_driver.EVENT_LIFECYCLE_RESUMED: power_state.RUNNING,
    virt_driver.EVENT_LIFECYCLE_SUSPENDED: power_state.SUSPENDED,
}


class PowerSyncMixin:
    """The power-state sync of the compute manager."""

    @periodic_task(spacing="sync_power_state_interval")
    def _sync_power_states(self, context):
        """Compare every instance's power state in the database with the
        hypervisor's, and act on a difference (Nova's task of this name)."""
        instances = self.conductor_api.instance_get_all_by_host(context, self.host)
        on_hypervisor = len(self.driver.list_instance_uuids())
        if len(instances) != on_hypervisor:
            LOG.warning("While synchronizing instance power states, found "
                        "%(num_db_instances)s instances in the database and "
                        "%(num_vm_instances)s instances on the hypervisor.",
                        {"num_db_instances": len(instances),
                         "num_vm_instances": on_hypervisor})
        for instance in instances:
            if instance["task_state"] is not None:
                LOG.info("During sync_power_state the instance has a pending task "
                         "(%(task)s). Skip.", {"task": instance["task_state"]},
                         instance=instance)
                continue
            with lockutils.lock(instance["uuid"]):
                try:
                    fresh = self.conductor_api.instance_get_by_uuid(context,
                                                                    instance["uuid"])
                except exception.InstanceNotFound:
                    continue
                self._sync_instance_power_state(context, fresh,
                                                self.driver.get_power_state(fresh))

    # --- lifecycle events --------------------------------------------------------

    def handle_events(self, event):
        """A guest changed power state (from the driver's event thread)."""
        context = compute_utils.admin_context()  # first: the log line carries its request id
        LOG.info("VM %s (Lifecycle Event)", event.name, instance={"uuid": event.uuid})
        try:
            instance = self.conductor_api.instance_get_by_uuid(context, event.uuid)
            self._sync_instance_power_state(context, instance,
                                            EVENT_POWER_STATE[event.transition])
        except exception.InstanceNotFound:
            LOG.debug("Event %s for an instance that no longer exists", event.name)
        except Exception:
            LOG.exception("Failed to handle the lifecycle event %s", event.name,
                          instance={"uuid": event.uuid})

    def _sync_instance_power_state(self, context, instance, vm_power_state):
        """Bring the database in line with the hypervisor, or the guest in
        line with the database: a guest that stopped on its own is stopped
        through the stop path (SHUTOFF); one running while it should be
        stopped is powered off. Nothing is done while a task is pending:
        the task itself will write the state it leaves."""
        if instance["host"] != self.host:
            LOG.info("During the sync_power process the instance has moved from host "
                     "%(src)s to host %(dst)s", {"src": self.host, "dst": instance["host"]},
                     instance=instance)
            return
        if instance["task_state"] is not None:
            LOG.info("During sync_power_state the instance has a pending task (%(task)s). "
                     "Skip.", {"task": instance["task_state"]}, instance=instance)
            return
        db_power_state = instance["power_state"]
        if vm_power_state != db_power_state:
            try:
                self._update(context, instance, power_state=vm_power_state,
                             expected_task_state=[None])
            except exception.UnexpectedTaskStateError:
                return  # an action started meanwhile; it will set the state
        reason = why_stop(instance["vm_state"], vm_power_state)
        if reason is None:
            return
        message, clean_shutdown = reason
        LOG.warning("%(message)s Current vm_state: %(vm_state)s, current task_state: "
                    "%(task_state)s, original DB power_state: %(db_power_state)s, "
                    "current VM power_state: %(vm_power_state)s",
                    {"message": message, "vm_state": instance["vm_state"],
                     "task_state": instance["task_state"],
                     "db_power_state": db_power_state, "vm_power_state": vm_power_state},
                    instance=instance)
        self._stop_from_sync(context, instance, clean_shutdown)

    def _stop_from_sync(self, context, instance, clean_shutdown):
        """The stop API, called by the compute itself (Nova's compute_api.stop
        from _sync_instance_power_state): task powering-off, a ``stop``
        action, and a cast to this very host."""
        try:
            instance = self._update(context, instance, task_state=task_states.POWERING_OFF,
                                    expected_task_state=[None])
        except exception.UnexpectedTaskStateError:
            return
        self.conductor_api.action_start(context, instance["uuid"], instance_actions.STOP)
        self.compute_rpcapi.stop_instance(context, instance, clean_shutdown=clean_shutdown)


_OFF = (power_state.SHUTDOWN, power_state.CRASHED)


def why_stop(vm_state, vm_power_state):
    """``(message, clean_shutdown)`` when the power sync must call the stop
    API for an instance in ``vm_state`` whose guest is ``vm_power_state``;
    None when the difference is only recorded (or there is none)."""
    if vm_state == vm_states.ACTIVE:
        if vm_power_state in _OFF:
            return "Instance shutdown by itself. Calling the stop API.", True
        if vm_power_state == power_state.SUSPENDED:
            return "Instance is suspended unexpectedly. Calling the stop API.", True
        if vm_power_state == power_state.PAUSED:
            LOG.warning("Instance is paused unexpectedly. Ignore.")
        elif vm_power_state == power_state.NOSTATE:
            LOG.warning("Instance is unexpectedly not found. Ignore.")
    elif vm_state == vm_states.STOPPED:
        if vm_power_state not in (power_state.NOSTATE, *_OFF):
            # Nova's force_stop: the guest must not run behind a SHUTOFF.
            return "Instance is not stopped. Calling the stop API.", False
    elif vm_state == vm_states.PAUSED and vm_power_state in _OFF:
        return "Paused instance shutdown by itself. Calling the stop API.", False
    return None
