"""Resize and cold migration on the compute side (mirrors ``prep_resize``,
``resize_instance``, ``finish_resize``, ``confirm_resize``,
``revert_resize`` and ``finish_revert_resize`` of
``nova/compute/manager.py``).

Each step runs on the host it names and casts the next one::

    dest    prep_resize            claim the new flavor (a move claim)
    source  resize_instance        task resize_migrating: power off, set the
                                   disk aside; task resize_migrated, host=dest
    dest    finish_resize          task resize_finish: the ports bound here,
                                   fetch the disk, grow it, start; vm_state
                                   resized (VERIFY_RESIZE)
    then    confirm_resize (source: drop the set-aside copy) or
            revert_resize (dest: destroy) → finish_revert_resize (source:
            start the old guest again)

Every step is an action like the others (``_run_action`` of the manager)
whose failure also ends the migration record (status ``error``), so neither
host counts it any more. A cold migration is a resize to the same flavor.

Nova keeps these methods in its compute manager; here they are a mixin of
:class:`mininova.compute.manager.ComputeManager`, in a file of their own so
that the walk between two hosts reads in one place.

The destination tells the source where it is: ``prep_resize`` puts its
``my_ip`` in the migration as ``dest_host`` (Nova stores it in the
migration record; here it travels in the message only), and the source's
driver copies the disk there over ssh when the two hosts do not share
storage (:mod:`mininova.virt.libvirt.remotefs`).

Left out: rescheduling a failed prep_resize claim to an alternate host,
resuming a move a restart interrupted (it goes to ERROR), ``dest_host`` in
the migrations table and API.
"""

from oslo_log import log as logging

from mininova.compute import power_state, task_states, vm_states
from mininova.conf import CONF

LOG = logging.getLogger(__name__)


class ResizeMixin:
    """The resize and cold-migration steps of the compute manager."""

    def prep_resize(self, context, instance, flavor, image, migration, limits=None):
        """Destination: claim the new flavor here, then hand over to the source."""
        def work():
            node = migration["dest_node"] or self.rt.nodename
            with self.rt.resize_claim(context, instance, flavor, migration, node, limits):
                self._update(context, instance, old_flavor=instance["flavor"],
                             new_flavor=flavor, expected_task_state=task_states.RESIZE_PREP)
                migration["dest_host"] = self.driver.get_host_ip_addr()
                self.compute_rpcapi.resize_instance(context, instance, flavor, migration,
                                                    image)
        self._run_migration_step(context, instance, migration, "compute_prep_resize", work,
                                 error_state=None)

    def resize_instance(self, context, instance, flavor, migration, image):
        """Source: power off, set the disk aside, point the instance at the
        destination."""
        def work():
            self._migration_status(context, migration, "migrating")
            self._update(context, instance, task_state=task_states.RESIZE_MIGRATING,
                         expected_task_state=task_states.RESIZE_PREP)
            # An older destination sent no address: its host name, which
            # ssh may resolve.
            dest_host = migration.get("dest_host") or migration["dest_compute"]
            disk_info = self.driver.migrate_disk_and_power_off(
                context, instance, dest_host, flavor,
                CONF.shutdown_timeout, CONF.compute.shutdown_retry_interval)
            self._migration_status(context, migration, "post-migrating")
            self._update(context, instance, task_state=task_states.RESIZE_MIGRATED,
                         host=migration["dest_compute"], node=migration["dest_node"],
                         power_state=self.driver.get_power_state(instance),
                         expected_task_state=task_states.RESIZE_MIGRATING)
            self.compute_rpcapi.finish_resize(context, instance, migration, disk_info,
                                              image)
        self._run_migration_step(context, instance, migration,
                                 "compute_resize_instance", work,
                                 error_state=vm_states.ERROR,
                                 recount=True)

    def finish_resize(self, context, instance, migration, disk_info, image):
        """Destination: bring the disk here, grow it, start the guest."""
        def work():
            new_flavor = instance["new_flavor"]
            resized = new_flavor["flavorid"] != instance["old_flavor"]["flavorid"]
            self._update(context, instance, task_state=task_states.RESIZE_FINISH,
                         flavor=new_flavor, expected_task_state=task_states.RESIZE_MIGRATED)
            self._bind_ports_here(context, instance)
            self.driver.finish_migration(context, migration, instance, disk_info, image,
                                         resized,
                                         power_on=migration["old_vm_state"] != vm_states.STOPPED)
            self._migration_status(context, migration, "finished")
            self._finish(context, instance, task_states.RESIZE_FINISH, vm_states.RESIZED)
        self._run_migration_step(context, instance, migration, "compute_finish_resize", work,
                                 error_state=vm_states.ERROR)

    def confirm_resize(self, context, instance, migration):
        """Source, after the user kept the new size: drop the set-aside copy."""
        def work():
            self.driver.confirm_migration(context, migration, instance)
            self._migration_status(context, migration, "confirmed")
            fresh = self.conductor_api.instance_get_by_uuid(context, instance["uuid"])
            if fresh["task_state"] == task_states.DELETING:
                return  # confirmed on the way to a delete: nothing else to set
            vm_state = (vm_states.ACTIVE if fresh["power_state"] == power_state.RUNNING
                        else vm_states.STOPPED)
            self._update(context, instance, vm_state=vm_state, task_state=None,
                         old_flavor=None, new_flavor=None,
                         expected_vm_state=vm_states.RESIZED)
        self._run_migration_step(context, instance, migration, "compute_confirm_resize",
                                 work, error_state=vm_states.ERROR,
                                 recount=True)

    def revert_resize(self, context, instance, migration):
        """Destination, after the user asked to go back: destroy our copy,
        then let the source start the original again."""
        def work():
            self.driver.destroy(context, instance, destroy_disks=True)
            self.rt.drop_move_claim(context, migration)
            self.compute_rpcapi.finish_revert_resize(context, instance, migration)
        self._run_migration_step(context, instance, migration, "compute_revert_resize", work,
                                 error_state=vm_states.ERROR)

    def finish_revert_resize(self, context, instance, migration):
        """Source: the set-aside files back in place, the old flavor, started
        again if it was running."""
        def work():
            self._update(context, instance, flavor=instance["old_flavor"], host=self.host,
                         node=migration["source_node"], old_flavor=None, new_flavor=None,
                         expected_task_state=task_states.RESIZE_REVERTING)
            old_vm_state = migration["old_vm_state"] or vm_states.ACTIVE
            self._bind_ports_here(context, instance)
            self.driver.finish_revert_migration(
                context, instance, power_on=old_vm_state != vm_states.STOPPED)
            self._migration_status(context, migration, "reverted")
            self._finish(context, instance, task_states.RESIZE_REVERTING, old_vm_state)
        self._run_migration_step(context, instance, migration,
                                 "compute_finish_revert_resize", work,
                                 error_state=vm_states.ERROR,
                                 recount=True)

    def _run_migration_step(self, context, instance, migration, event_name, work,
                            error_state, recount=False):
        """A resize step: like any action, and a failure also ends the
        migration (status error), so neither host counts it any more.
        ``recount``: the step changes what this host holds, so its
        resources are counted again at the end, whatever happened."""
        def step():
            try:
                work()
            except Exception:
                self._migration_status(context, migration, "error")
                raise
        try:
            self._run_action(context, instance, event_name, step, error_state=error_state)
        finally:
            if recount:
                self._update_resources_quietly(context)

    def _migration_status(self, context, migration, status):
        migration.update(self.conductor_api.migration_update(context, migration["id"],
                                                             {"status": status}))

    def _update_resources_quietly(self, context):
        """Recount this host now that a move changed what it holds."""
        try:
            self.update_available_resource(context)
        except Exception:
            LOG.exception("Could not update the resources after a migration step")
