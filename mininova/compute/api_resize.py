"""The compute API's resize and cold migration (mirrors ``resize`` (which
is also ``migrate``), ``confirm_resize`` and ``revert_resize`` of
``nova/compute/api.py``).

A resize, or a cold migration (a resize to the same flavor, on another
host), sets task_state ``resize_prep`` and asks the conductor
(``migrate_server``), which needs the scheduler to choose the destination
and records the ``migrations`` row; the two computes then walk the steps
of :mod:`mininova.compute.resize`. Confirm and revert are cast straight to
the source and the destination. A grown flavor counts against the
project's cores and RAM quota (a revert of a resize down too).

A mixin of :class:`mininova.compute.api.API`, which gives it
``image_api``, ``compute_task_api``, ``compute_rpcapi``, ``_get_flavor``,
``_check_image_fits_flavor`` and, from ``api_block_devices.py``,
``_refuse_with_volumes``.

Left out: live migration, resizing or moving servers with volumes or with
ephemeral or swap disks (409: mininova moves the root disk only),
``resize_confirm_window``.
"""

import contextlib

from mininova import exception, quota, rpc
from mininova.compute import instance_actions, task_states, vm_states
from mininova.compute.api_checks import check_instance_lock, undo_if_undelivered
from mininova.compute.flavors import FLAVOR_SNAPSHOT_FIELDS
from mininova.conf import CONF
from mininova.db import block_devices as bdm_db
from mininova.db import flavors as flavors_db
from mininova.db import instance_actions as actions_db
from mininova.db import resize_migrations as migrations_db
from mininova.db import services as services_db
from mininova.scheduler import utils as scheduler_utils


@contextlib.contextmanager
def _migration_put_back_if_undelivered(context, migration):
    """A confirm or revert the broker never took leaves the migration
    ``finished``, to be confirmed or reverted again."""
    try:
        yield
    except rpc.MessageDeliveryFailure:
        migrations_db.migration_update(context, migration["id"], {"status": migration["status"]})
        raise


def _refuse_local_disks(context, instance, action):
    """A resize or cold migration copies the root disk file only: a server
    with ephemeral or swap disks (``disk.eph0``, ``disk.swap``) would come up
    without them on the destination, so it is refused with a 409."""
    local = [r for r in bdm_db.bdm_get_all_by_instance(context, instance["uuid"])
             if r["source_type"] == "blank" and r["destination_type"] == "local"]
    if local:
        raise exception.Conflict(
            f"Cannot '{action}' instance {instance['uuid']} while it has ephemeral or swap "
            "disks: mininova moves the root disk only (use a flavor without ephemeral "
            "and swap for servers that move).")


class ResizeMixin:
    # --- resize and cold migration ---------------------------------------------------------

    @undo_if_undelivered
    @check_instance_lock
    def resize(self, context, instance, flavor_id=None, host_name=None):
        """Resize to ``flavor_id``, or with none, cold-migrate (same flavor,
        another host: ``host_name`` if the admin named one, 2.56). The
        conductor asks the scheduler for a destination."""
        action = instance_actions.RESIZE if flavor_id else instance_actions.MIGRATE
        self._check_state(instance, action, vm_state=(vm_states.ACTIVE, vm_states.STOPPED))
        self._refuse_with_volumes(context, instance, action)
        _refuse_local_disks(context, instance, action)
        if host_name is not None:
            self._check_migration_host(context, instance, host_name)
        current = instance["flavor"]
        if flavor_id is None:
            new_flavor = flavors_db.flavor_get_by_flavor_id(context, current["flavorid"])
        else:
            new_flavor = self._get_flavor(context, flavor_id)
            if new_flavor["flavorid"] == current["flavorid"]:
                raise exception.CannotResizeToSameFlavor()
            self._check_image_fits_flavor(self._image_or_empty(context, instance),
                                          new_flavor)
            # Only the growth in cores and RAM needs quota; not rechecked
            # after, as in Nova (a resize makes no new record to count).
            quota.check_upsize(context, instance, current, new_flavor)
        new_flavor = {field: new_flavor[field] for field in FLAVOR_SNAPSHOT_FIELDS}
        instance = self._begin(context, instance, action, task_states.RESIZE_PREP,
                               vm_state=(vm_states.ACTIVE, vm_states.STOPPED), progress=0)
        request_spec = scheduler_utils.build_request_spec(
            new_flavor, self._image_or_empty(context, instance), [instance["uuid"]],
            instance["project_id"], instance["user_id"], instance["availability_zone"])
        if flavor_id is None or not CONF.allow_resize_to_same_host:
            request_spec["ignore_hosts"] = [instance["host"]]
        if host_name is not None:
            request_spec["requested_destination"] = {"host": host_name}
        self.compute_task_api.migrate_server(context, instance, new_flavor, request_spec)

    @staticmethod
    def _check_migration_host(context, instance, host_name):
        if host_name == instance["host"]:
            raise exception.Invalid("Cannot migrate to the host where the server exists.")
        if not any(node["host"] == host_name for node in services_db.compute_node_get_all(context)):
            raise exception.Invalid(f"Compute host {host_name} could not be found.")

    def _image_or_empty(self, context, instance):
        try:
            return self.image_api.show(context, instance["image_ref"])
        except exception.ImageNotFound:
            # The image may be gone since the boot; the disk is not.
            return {"id": instance["image_ref"], "properties": {}}

    @undo_if_undelivered
    @check_instance_lock
    def confirm_resize(self, context, instance):
        """Keep the new size: the source host drops its set-aside copy."""
        self._check_state(instance, instance_actions.CONFIRM_RESIZE,
                          vm_state=(vm_states.RESIZED,))
        migration = migrations_db.migration_get_by_instance_and_status(context, instance["uuid"],
                                                                       "finished")
        migrations_db.migration_update(context, migration["id"], {"status": "confirming"})
        actions_db.action_start(context, instance["uuid"], instance_actions.CONFIRM_RESIZE)
        with _migration_put_back_if_undelivered(context, migration):
            self.compute_rpcapi.confirm_resize(context, instance, migration,
                                               migration["source_compute"])

    @undo_if_undelivered
    @check_instance_lock
    def revert_resize(self, context, instance):
        """Go back: the destination destroys its copy, then the source
        starts the instance again with the old flavor."""
        # Everything that can refuse the revert is checked before anything
        # changes: a refused revert leaves no task_state and no action.
        self._check_state(instance, instance_actions.REVERT_RESIZE,
                          vm_state=(vm_states.RESIZED,))
        migration = migrations_db.migration_get_by_instance_and_status(context, instance["uuid"],
                                                                       "finished")
        if instance["old_flavor"]:
            # Reverting a resize down grows the server back: quota, as Nova.
            quota.check_upsize(context, instance, instance["flavor"], instance["old_flavor"])
        instance = self._begin(context, instance, instance_actions.REVERT_RESIZE,
                               task_states.RESIZE_REVERTING,
                               vm_state=(vm_states.RESIZED,))
        migrations_db.migration_update(context, migration["id"], {"status": "reverting"})
        with _migration_put_back_if_undelivered(context, migration):
            self.compute_rpcapi.revert_resize(context, instance, migration,
                                              migration["dest_compute"])
