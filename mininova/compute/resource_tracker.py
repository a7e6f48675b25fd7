"""The resource tracker (mirrors ``nova/compute/resource_tracker.py``).

It keeps this host's view of its resources: what the hypervisor has
(``driver.get_available_resource``) and what the instances assigned here
use. Claims test against it and update it under the ``compute_resources``
lock; every ``update_resources_interval`` seconds it recounts from scratch,
logs the ``Final resource view`` line, and reports the numbers to the
``compute_nodes`` table through the conductor, which is where the
scheduler reads them.

Used RAM starts at ``reserved_host_memory_mb`` (512 MB by default): the
host itself needs memory too.

The periodic recount makes its RPC calls (reading this host's instances
and moves, writing the report) *outside* the lock, unlike Nova: a broker
outage or a lost reply then fails the periodic task alone, and never holds
a boot's claim up for a whole RPC timeout. A claim made while the recount
was reading is noticed (every change of usage bumps a generation number)
and the reading is done again; a report older than one already sent is
dropped.

A resize or cold migration holds resources on both of its hosts until it is
confirmed or reverted: the source keeps the old flavor (a revert starts the
guest there again), the destination the new one from its claim
(``resize_claim``) on. A resize to the same host counts both. Left out:
PCI/NUMA resources, Placement inventories.
"""

import threading

from oslo_concurrency import lockutils
from oslo_log import log as logging

from mininova import exception
from mininova.compute import claims, vm_states
from mininova.compute import utils as compute_utils
from mininova.conf import CONF

LOG = logging.getLogger(__name__)

COMPUTE_RESOURCE_SEMAPHORE = "compute_resources"
# Readings of the recount, when claims keep changing the usage meanwhile.
RECOUNT_ATTEMPTS = 3


def _instance_usage(flavor):
    return {
        "memory_mb": flavor["memory_mb"],
        "local_gb": flavor["root_gb"] + flavor["ephemeral_gb"] + flavor["swap"] / 1024,
        "vcpus": flavor["vcpus"],
    }


class ResourceTracker:
    def __init__(self, host, driver, conductor_api):
        self.host = host
        self.driver = driver
        self.conductor_api = conductor_api
        self.nodename = None
        self.compute_node = None
        # uuid -> flavor of every instance counted in compute_node.
        self.tracked_instances = {}
        # migration id -> (instance uuid, flavor) of the moves counted here.
        self.tracked_migrations = {}
        # Bumped by every change of usage (under the lock): how the recount,
        # which reads without the lock, knows a claim came in meanwhile.
        self._generation = 0
        # Reports are sent in generation order; an older one is dropped.
        self._report_lock = threading.Lock()
        self._reported_generation = -1

    # --- claims --------------------------------------------------------------

    @lockutils.synchronized(COMPUTE_RESOURCE_SEMAPHORE)
    def instance_claim(self, context, instance, nodename, limits=None):
        """Test and reserve the instance's resources, or raise
        ComputeResourcesUnavailable. Returns the claim (a context manager)."""
        claim = claims.Claim(context, instance, nodename, self, self.compute_node, limits)
        self._add_usage(instance["uuid"], compute_utils.local_disk_flavor(instance))
        try:
            # The claim is where an instance gets its host, as in Nova.
            instance.update(self.conductor_api.instance_update(
                context, instance["uuid"],
                {"host": self.host, "node": nodename, "launched_on": self.host}))
        except Exception:
            self._remove_usage(instance["uuid"])
            raise
        self._report(context)
        return claim

    @lockutils.synchronized(COMPUTE_RESOURCE_SEMAPHORE)
    def abort_instance_claim(self, context, instance):
        """The build failed: give the resources back and forget the host."""
        self._remove_usage(instance["uuid"])
        try:
            self.conductor_api.instance_update(context, instance["uuid"],
                                               {"host": None, "node": None})
        except exception.InstanceNotFound:
            pass
        self._report(context)

    @lockutils.synchronized(COMPUTE_RESOURCE_SEMAPHORE)
    def resize_claim(self, context, instance, flavor, migration, nodename, limits=None):
        """Test and reserve ``flavor`` here for a move of ``instance``; the
        reservation lasts as long as the migration (see the module doc)."""
        claim = claims.MoveClaim(context, instance, flavor, migration, nodename, self,
                                 self.compute_node, limits)
        self._add_migration_usage(migration["id"], instance["uuid"], flavor)
        self._report(context)
        return claim

    @lockutils.synchronized(COMPUTE_RESOURCE_SEMAPHORE)
    def drop_move_claim(self, context, migration):
        if self._remove_migration_usage(migration["id"]):
            self._report(context)

    @lockutils.synchronized(COMPUTE_RESOURCE_SEMAPHORE)
    def drop_instance(self, context, instance):
        """The instance was deleted: give its resources back."""
        dropped = self._remove_usage(instance["uuid"])
        for migration_id, (instance_uuid, _flavor) in list(self.tracked_migrations.items()):
            if instance_uuid == instance["uuid"]:
                dropped = self._remove_migration_usage(migration_id) or dropped
        if dropped:
            self._report(context)

    # --- the periodic recount ----------------------------------------------------

    def update_available_resource(self, context):
        """The periodic recount from scratch: what the hypervisor has, what
        this host's instances and moves use. Its RPC calls are made without
        the lock (see the module doc)."""
        resources = self.driver.get_available_resource()
        for _attempt in range(RECOUNT_ATTEMPTS):
            generation = self._generation
            instances = self.conductor_api.instance_get_all_by_host(context, self.host)
            migrations = self.conductor_api.migrations_in_progress_by_host(context, self.host)
            with lockutils.lock(COMPUTE_RESOURCE_SEMAPHORE):
                if generation == self._generation:
                    self._recount(resources, instances, migrations)
                    self._log_final_resource_view()
                    report = self._report_values()
                    break
            LOG.debug("Usage changed while this host's instances were read: reading again")
        else:
            LOG.warning("Usage kept changing during %d readings: recount skipped until "
                        "the next run", RECOUNT_ATTEMPTS)
            return self.compute_node
        self._send_report(context, *report)
        return self.compute_node

    def _recount(self, resources, instances, migrations):
        self.nodename = resources["hypervisor_hostname"]
        self.compute_node = self._empty_compute_node(resources)
        self.tracked_instances = {}
        self.tracked_migrations = {}
        moving = {migration["instance_uuid"] for migration in migrations}
        for instance in instances:
            if instance["vm_state"] != vm_states.DELETED and instance["uuid"] not in moving:
                self._add_usage(instance["uuid"], compute_utils.local_disk_flavor(instance))
        for migration in migrations:
            for key, flavor in self._flavors_held_here(migration):
                self._add_migration_usage(key, migration["instance_uuid"], flavor)

    def _empty_compute_node(self, resources):
        reserved_gb = CONF.reserved_host_disk_mb / 1024
        node = dict(resources)
        node.update(
            memory_mb_used=CONF.reserved_host_memory_mb,
            local_gb_used=reserved_gb,
            vcpus_used=CONF.reserved_host_cpus,
            running_vms=0,
            ram_allocation_ratio=CONF.ram_allocation_ratio,
            disk_allocation_ratio=CONF.disk_allocation_ratio,
            cpu_allocation_ratio=CONF.cpu_allocation_ratio,
        )
        self._update_free(node)
        return node

    def _log_final_resource_view(self):
        node = self.compute_node
        LOG.info("Final resource view: name=%(node)s phys_ram=%(phys_ram)sMB "
                 "used_ram=%(used_ram)sMB phys_disk=%(phys_disk)sGB "
                 "used_disk=%(used_disk)sGB total_vcpus=%(total_vcpus)s "
                 "used_vcpus=%(used_vcpus)s pci_stats=[]",
                 {"node": self.nodename, "phys_ram": node["memory_mb"],
                  "used_ram": node["memory_mb_used"], "phys_disk": node["local_gb"],
                  "used_disk": _round(node["local_gb_used"]),
                  "total_vcpus": node["vcpus"], "used_vcpus": node["vcpus_used"]})

    def _flavors_held_here(self, migration):
        """``[(usage key, flavor)]``: what a migration holds on this host.

        The source holds the old flavor until the migration ends; the
        destination holds the new one from its claim until the migration
        ends, unless it is being reverted (the destination has dropped its
        copy by then). A resize to the same host holds both.
        """
        instance = migration["instance"]
        same_host = migration["source_compute"] == migration["dest_compute"]
        held = []
        if migration["source_compute"] == self.host:
            key = f"{migration['id']}-source" if same_host else migration["id"]
            held.append((key, instance["old_flavor"] or instance["flavor"]))
        if migration["dest_compute"] == self.host and migration["status"] != "reverting":
            held.append((migration["id"], instance["new_flavor"] or instance["flavor"]))
        return held

    # --- bookkeeping -----------------------------------------------------------

    def _add_migration_usage(self, key, instance_uuid, flavor):
        if key in self.tracked_migrations:
            return
        self.tracked_migrations[key] = (instance_uuid, flavor)
        # The guest is counted once in running_vms, by its instance row or
        # by its host's side of the move.
        self._apply(_instance_usage(flavor), sign=+1, vms=0)

    def _remove_migration_usage(self, key):
        entry = self.tracked_migrations.pop(key, None)
        if entry is None:
            return False
        self._apply(_instance_usage(entry[1]), sign=-1, vms=0)
        return True

    def _add_usage(self, instance_uuid, flavor):
        if instance_uuid in self.tracked_instances:
            return
        self.tracked_instances[instance_uuid] = flavor
        self._apply(_instance_usage(flavor), sign=+1)

    def _remove_usage(self, instance_uuid):
        flavor = self.tracked_instances.pop(instance_uuid, None)
        if flavor is None:
            return False
        self._apply(_instance_usage(flavor), sign=-1)
        return True

    def _apply(self, usage, sign, vms=1):
        self._generation += 1
        node = self.compute_node
        node["memory_mb_used"] += sign * usage["memory_mb"]
        node["local_gb_used"] += sign * usage["local_gb"]
        node["vcpus_used"] += sign * usage["vcpus"]
        node["running_vms"] += sign * vms
        self._update_free(node)

    @staticmethod
    def _update_free(node):
        node["free_ram_mb"] = node["memory_mb"] - node["memory_mb_used"]
        node["free_disk_gb"] = node["local_gb"] - node["local_gb_used"]

    def _report(self, context):
        """Write the numbers to compute_nodes (through the conductor);
        called under the lock, after a change of usage."""
        self._send_report(context, *self._report_values())

    def _report_values(self):
        """What the report says now, and the generation it is of."""
        columns = ("hypervisor_type", "hypervisor_version", "vcpus", "memory_mb",
                   "local_gb", "vcpus_used", "memory_mb_used", "free_ram_mb",
                   "running_vms", "disk_available_least", "cpu_info",
                   "ram_allocation_ratio",
                   "disk_allocation_ratio", "cpu_allocation_ratio", "stats")
        values = {name: self.compute_node.get(name) for name in columns}
        # The table holds whole GB; a swap of a few MB rounds up, never down.
        values["local_gb_used"] = _round(self.compute_node["local_gb_used"])
        values["free_disk_gb"] = self.compute_node["local_gb"] - values["local_gb_used"]
        return values, self._generation

    def _send_report(self, context, values, generation):
        with self._report_lock:
            if generation < self._reported_generation:
                LOG.debug("A newer resource report was sent already: this one is dropped")
                return
            self.conductor_api.compute_node_update(context, self.host, self.nodename, values)
            self._reported_generation = generation


def _round(gigabytes):
    whole = int(gigabytes)
    return whole if whole == gigabytes else whole + 1
