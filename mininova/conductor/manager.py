"""The conductor (mirrors ``nova/conductor/manager.py``).

Two endpoints on the ``conductor`` topic, as in Nova:

* :class:`ConductorManager` does database work for compute hosts, which have
  no database credentials. Nova's reason: a compromised hypervisor host
  must not be able to read or rewrite the whole cloud's database. Each
  method here is one narrow thing a compute needs.
* :class:`ComputeTaskManager` orchestrates builds: it asks the scheduler for
  hosts, records the ``create`` action, and casts the build to the chosen
  compute. A compute that cannot build gives the instance back
  (``build_instances``) and it is scheduled again, avoiding the hosts already
  tried, up to ``[scheduler] max_attempts``. When scheduling fails it puts
  the instances in ERROR with a fault.

It also starts resizes and cold migrations (``migrate_server``): the
scheduler picks the destination (never the current host for a migration,
nor for a resize unless ``allow_resize_to_same_host``), a ``migrations``
row records the move, and the destination compute takes it from there.

The conductor holds the database credentials, so its own work (the
ComputeTaskManager's) calls ``mininova.db`` directly, as Nova's uses its
objects directly; ConductorManager exists only as the compute hosts' way
in, and nothing of the conductor goes through it itself. The helpers that
record faults and action events take "something with the database API's
methods": here the ``db`` module (faults) and ``actions_db`` (action
events), on a compute the conductor RPC client.

A scheduler that does not answer ``select_destinations`` (none running: no
heartbeat for ``rpc_response_timeout``) puts the build in ERROR with the
timeout's message as its fault, as Nova's conductor does with any failure to
schedule; so does a build that cannot be handed to its compute because the
broker stayed away.

Left out: cells (build requests, cell0), the ``object_class_action`` RPC
that Nova's versioned objects use, alternates for a failed resize claim,
live migration.
"""

import time

from oslo_log import log as logging

from mininova import exception, manager, rpc
from mininova.compute import instance_actions, vm_states
from mininova.compute import rpcapi as compute_rpcapi
from mininova.compute import utils as compute_utils
from mininova.conf import CONF
from mininova.db import api as db
from mininova.db import block_devices as bdm_db
from mininova.db import instance_actions as actions_db
from mininova.db import resize_migrations as migrations_db
from mininova.db import scheduling as scheduling_db
from mininova.db import services as services_db
from mininova.scheduler import rpcapi as scheduler_rpcapi
from mininova.scheduler import utils as scheduler_utils

LOG = logging.getLogger(__name__)


class ConductorManager(manager.Manager):
    """The database, one narrow method at a time, for compute hosts."""

    def ping(self, context, arg):
        """A compute starting up asks whether a conductor runs."""
        return {"service": "conductor", "arg": arg}

    # services -----------------------------------------------------------
    def service_register(self, context, host, binary, topic):
        try:
            return services_db.service_get_by_host_and_binary(context, host, binary)
        except exception.HostBinaryNotFound:
            return services_db.service_create(context, {"host": host, "binary": binary,
                                                        "topic": topic})

    def service_heartbeat(self, context, service_id):
        services_db.service_heartbeat(context, service_id)

    def compute_node_update(self, context, host, nodename, values):
        service = services_db.service_get_by_host_and_binary(context, host, "mininova-compute")
        values = dict(values, service_id=service["id"])
        return services_db.compute_node_update_or_create(context, host, nodename, values)

    # instances ----------------------------------------------------------
    def instance_get_by_uuid(self, context, instance_uuid):
        return db.instance_get_by_uuid(context, instance_uuid)

    def instance_get_all_by_host(self, context, host):
        return db.instance_get_all_by_host(context, host)

    def instance_update(self, context, instance_uuid, updates, expected_task_state=None,
                        expected_vm_state=None):
        return db.instance_update(context, instance_uuid, updates,
                                  expected_task_state=expected_task_state,
                                  expected_vm_state=expected_vm_state)

    def instance_destroy(self, context, instance_uuid):
        return db.instance_destroy(context, instance_uuid)

    def instance_fault_create(self, context, values):
        return db.instance_fault_create(context, values)

    def action_event_start(self, context, instance_uuid, event, host):
        return actions_db.action_event_start(context, instance_uuid, event, host)

    def action_event_finish(self, context, instance_uuid, event, result, traceback=None):
        return actions_db.action_event_finish(context, instance_uuid, event, result, traceback)

    def action_start(self, context, instance_uuid, action):
        """An action the compute itself starts (the power sync's stop)."""
        return actions_db.action_start(context, instance_uuid, action)

    # migrations -----------------------------------------------------------------
    def migration_update(self, context, migration_id, values):
        return migrations_db.migration_update(context, migration_id, values)

    def migrations_in_progress_by_host(self, context, host):
        """Unfinished migrations from or to ``host``, each with its instance
        (the resource tracker counts their flavors on both hosts)."""
        migrations = migrations_db.migration_get_in_progress_by_host(context, host)
        for migration in migrations:
            try:
                migration["instance"] = db.instance_get_by_uuid(
                    context, migration["instance_uuid"])
            except exception.InstanceNotFound:
                migration["instance"] = None
        return [m for m in migrations if m["instance"] is not None]

    # server groups ------------------------------------------------------------
    def instance_group_hosts(self, context, group_uuid, exclude):
        return scheduling_db.instance_group_hosts(context, group_uuid, exclude)

    # block device mappings (a server's disks and volumes) ------------------------
    def block_device_mapping_get_all_by_instance(self, context, instance_uuid):
        return bdm_db.bdm_get_all_by_instance(context, instance_uuid)

    def block_device_mapping_get_by_volume_and_instance(self, context, volume_id,
                                                        instance_uuid):
        return bdm_db.bdm_get_by_volume_and_instance(context, volume_id, instance_uuid)

    def block_device_mapping_create(self, context, values):
        return bdm_db.bdm_create(context, values)

    def block_device_mapping_update(self, context, bdm_id, values):
        return bdm_db.bdm_update(context, bdm_id, values)

    def block_device_mapping_destroy(self, context, bdm_id):
        return bdm_db.bdm_destroy(context, bdm_id)


class ComputeTaskManager(manager.Manager):
    """Build orchestration: scheduler first, then the compute; and again,
    on another host, when a compute gives a build back (a reschedule)."""

    def __init__(self, host=None):
        super().__init__(host)
        self.scheduler_client = scheduler_rpcapi.SchedulerAPI()
        self.compute_rpcapi = compute_rpcapi.ComputeAPI()

    def schedule_and_build_instances(self, context, request_spec, image):
        """First scheduling of a request from the API: one or more instances."""
        instance_uuids = request_spec["instance_uuids"]
        for instance_uuid in instance_uuids:
            actions_db.action_start(context, instance_uuid, instance_actions.CREATE)
        try:
            selections = self._schedule_instances(context, request_spec)
        except Exception as exc:
            self._bury(context, instance_uuids, exc)
            return
        for instance_uuid, selection in zip(instance_uuids, selections, strict=True):
            retry = {"num_attempts": 1, "hosts": []}
            self._build_on_host(context, instance_uuid, selection, request_spec, image, retry)

    def build_instances(self, context, instance_uuid, request_spec, image, filter_properties):
        """A compute could not build the instance: try another host.

        The retry record lists the hosts already tried, which the RetryFilter
        removes; past ``[scheduler] max_attempts`` the instance goes to ERROR.
        """
        spec = dict(request_spec, instance_uuids=[instance_uuid], num_instances=1)
        try:
            spec["retry"] = scheduler_utils.populate_retry(filter_properties, instance_uuid)
            [selection] = self._schedule_instances(context, spec)
        except Exception as exc:
            self._bury(context, [instance_uuid], exc)
            return
        self._build_on_host(context, instance_uuid, selection, spec, image, spec["retry"])

    def migrate_server(self, context, instance, flavor, request_spec):
        """Resize (a new flavor) or cold migration (the same flavor): find a
        destination, record the migration, and hand over to the
        destination's compute (``prep_resize``). If no host fits, the
        instance goes back to its state with a fault (Nova's
        MigrationTask)."""
        try:
            with compute_utils.EventReporter(context, actions_db,
                                             "conductor_migrate_server", self.host,
                                             instance["uuid"]):
                self._migrate_server(context, instance, flavor, request_spec)
        except Exception:
            # Logged, stored as a fault and as the event's Error: a cast has
            # nobody else to tell. The task is cleared only now, so that
            # whoever sees the server settle also finds the Error recorded.
            try:
                db.instance_update(context, instance["uuid"], {"task_state": None})
            except exception.InstanceNotFound:
                pass

    def _migrate_server(self, context, instance, flavor, request_spec):
        try:
            [selection] = self._schedule_instances(context, request_spec)
        except Exception as exc:
            LOG.warning("Failed to schedule the %s of instance %s: %s",
                        _migration_type(instance, flavor), instance["uuid"], exc)
            compute_utils.add_instance_fault_from_exc(context, db,
                                                      instance["uuid"], exc)
            raise
        migration = migrations_db.migration_create(context, {
            "instance_uuid": instance["uuid"],
            "migration_type": _migration_type(instance, flavor),
            "status": "pre-migrating",
            "source_compute": instance["host"], "source_node": instance["node"],
            "dest_compute": selection["host"], "dest_node": selection["nodename"],
            "old_instance_type_id": instance["flavor"]["id"],
            "new_instance_type_id": flavor["id"],
            "old_vm_state": instance["vm_state"],
        })
        LOG.debug("Selected host: %s; Selected node: %s; Alternates: %s",
                  selection["host"], selection["nodename"],
                  selection.get("alternates", []), instance=instance)
        self.compute_rpcapi.prep_resize(context, instance, flavor, request_spec["image"],
                                        migration, selection["host"],
                                        selection.get("limits", {}))

    def _bury(self, context, instance_uuids, exc):
        # A NoValidHost, a scheduler that did not answer (MessagingTimeout)
        # and a broker that stayed away say it all in their message, logged
        # next: a traceback would add nothing. The fault keeps that message:
        # a timeout is not turned into a NoValidHost, since no host was
        # ever looked at.
        LOG.error("Failed to schedule instances", exc_info=not isinstance(
            exc, (exception.NoValidHost, rpc.MessagingTimeout, rpc.MessageDeliveryFailure)))
        for instance_uuid in instance_uuids:
            scheduler_utils.set_vm_state_and_notify(
                context, db, instance_uuid, "compute_task", "build_instances",
                {"vm_state": vm_states.ERROR, "task_state": None}, exc)

    def _schedule_instances(self, context, request_spec):
        started = time.monotonic()
        selections = self.scheduler_client.select_destinations(context, request_spec)
        LOG.debug("Took %0.2f seconds to select destinations for %s instance(s).",
                  time.monotonic() - started, len(request_spec["instance_uuids"]))
        return selections

    def _build_on_host(self, context, instance_uuid, selection, request_spec, image, retry):
        host, node = selection["host"], selection["nodename"]
        # The zone a server is in is its host's zone from now on.
        zone = scheduling_db.availability_zones_by_host(context).get(
            host, CONF.default_availability_zone)
        try:
            instance = db.instance_update(context, instance_uuid, {"availability_zone": zone})
        except exception.InstanceNotFound:
            # Deleted by the user while it was being scheduled.
            LOG.debug("Instance %s was deleted during scheduling", instance_uuid)
            return
        LOG.debug("Selected host: %s; Selected node: %s; Alternates: %s",
                  host, node, selection.get("alternates", []), instance=instance)
        retry = dict(retry, hosts=[*retry["hosts"], [host, node]])
        filter_properties = {"retry": retry, "limits": selection.get("limits", {})}
        # The server's disks and volumes, as the API recorded them: the
        # compute has no database to read them from.
        block_device_mapping = bdm_db.bdm_get_all_by_instance(context, instance_uuid)
        try:
            self.compute_rpcapi.build_and_run_instance(
                context, instance, host, image=image, request_spec=request_spec,
                filter_properties=filter_properties, node=node,
                limits=selection.get("limits", {}),
                block_device_mapping=block_device_mapping)
        except rpc.MessageDeliveryFailure as exc:
            # The broker stayed away past rpc_publish_timeout: nobody will
            # build it, so it must not stay in BUILD.
            self._bury(context, [instance_uuid], exc)


def _migration_type(instance, flavor):
    return "migration" if flavor["flavorid"] == instance["flavor"]["flavorid"] else "resize"
