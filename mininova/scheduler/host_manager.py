"""What the scheduler knows about each compute host (mirrors
``nova/scheduler/host_manager.py``).

A :class:`HostState` is built from the ``compute_nodes`` row its resource
tracker last reported, plus its ``services`` row (for the ComputeFilter).
The scheduler keeps them between requests and *consumes* from them as it
places instances, so two requests a moment apart do not both see the same
free RAM before the compute has reported the first claim. A newer report
from the compute replaces the consumed guess.

Every time compared here is a report's ``updated_at``, stamped by the
conductor that stored it, never the scheduler's own clock: a scheduler
whose clock runs ahead of (or behind) the conductor's still sees every
report. (Nova compares its own clock with the report's and relies on NTP.)
"""

import gc
import json
import threading
from datetime import timedelta

from oslo_log import log as logging

from mininova import servicegroup
from mininova.conf import CONF
from mininova.db import scheduling as scheduling_db
from mininova.db import services as services_db
from mininova.scheduler import filters, loadables, weights
from mininova.scheduler import utils as scheduler_utils

LOG = logging.getLogger(__name__)


# How far before the newest report already read each read starts again.
REPORT_OVERLAP = timedelta(seconds=5)
# From how many hosts on the scheduler keeps its long-lived objects out of
# the garbage collector's full collections (see _freeze_long_lived).
FREEZE_FROM_HOSTS = 500


class HostState:
    def __init__(self, host, nodename):
        self.host = host
        self.nodename = nodename
        self.updated = None
        self.total_usable_ram_mb = 0
        self.free_ram_mb = 0
        self.total_usable_disk_gb = 0
        self.free_disk_mb = 0
        self.disk_mb_used = 0
        self.vcpus_total = 0
        self.vcpus_used = 0
        self.num_instances = 0
        self.num_io_ops = 0
        self.ram_allocation_ratio = CONF.ram_allocation_ratio
        self.disk_allocation_ratio = CONF.disk_allocation_ratio
        self.cpu_allocation_ratio = CONF.cpu_allocation_ratio
        self.hypervisor_type = None
        self.cpu_info = {}
        self.stats = {}
        self.aggregates = []
        self.service = None
        self.availability_zone = CONF.default_availability_zone
        # What the filters set for this request, passed on to the claim.
        self.limits = {}
        # uuid -> None: the instances this host reported it runs.
        self.instances = {}

    def update_from_compute_node(self, node):
        """Take the compute's report if it is newer than the one we have.

        The same report read again (each read overlaps the previous one)
        must not undo what we consumed since: only a report written later
        knows more than our guess."""
        if self.updated is not None and node["updated_at"] is not None \
                and node["updated_at"] <= self.updated:
            return
        self.updated = node["updated_at"]
        self.total_usable_ram_mb = node["memory_mb"]
        self.free_ram_mb = node["free_ram_mb"]
        self.total_usable_disk_gb = node["local_gb"]
        self.free_disk_mb = node["free_disk_gb"] * 1024
        self.disk_mb_used = node["local_gb_used"] * 1024
        self.vcpus_total = node["vcpus"]
        self.vcpus_used = node["vcpus_used"]
        self.num_instances = node["running_vms"]
        self.ram_allocation_ratio = node["ram_allocation_ratio"]
        self.disk_allocation_ratio = node["disk_allocation_ratio"]
        self.cpu_allocation_ratio = node["cpu_allocation_ratio"]
        self.hypervisor_type = node["hypervisor_type"]
        self.cpu_info = _decoded(node.get("cpu_info")) or {}
        self.stats = _decoded(node.get("stats")) or {}

    def consume_from_request(self, spec, instance_uuid=None):
        """Pretend the instance is already here until the compute reports."""
        flavor = spec["flavor"]
        self.free_ram_mb -= flavor["memory_mb"]
        disk_mb = scheduler_utils.requested_disk_mb(spec)
        self.free_disk_mb -= disk_mb
        self.disk_mb_used += disk_mb
        self.vcpus_used += flavor["vcpus"]
        self.num_instances += 1
        self.num_io_ops += 1
        if instance_uuid:
            self.instances[instance_uuid] = None

    def __repr__(self):
        return (f"({self.host}, {self.nodename}) ram: {self.free_ram_mb}MB "
                f"disk: {self.free_disk_mb}MB io_ops: {self.num_io_ops} "
                f"instances: {self.num_instances}")


def _decoded(value):
    """A JSON column read as text (``compute_node_get_all(json_as_text=True)``)."""
    return json.loads(value) if isinstance(value, str) else value


def _freeze_long_lived():
    """Take every object alive now out of the garbage collector's sight
    (``gc.freeze``), after one last full collection, when the hosts changed.

    A request allocates tens of thousands of objects at 10,000 hosts (the
    services' rows, the filters' and weighers' lists), so the collector
    runs a full collection every few requests, and a full collection
    visits every object of the process: the host states, their reports,
    SQLAlchemy's and oslo.config's. At 10,000 hosts each took hundreds of
    milliseconds, on the request that happened to trigger it: most of the
    p90. Frozen, those objects are still freed when nothing refers to them
    (reference counting); only a cycle among them would stay, and the full
    collection just before leaves none that was garbage then. The
    collection costs what one of those pauses cost, once per change of the
    hosts instead of every few requests; below FREEZE_FROM_HOSTS a full
    collection is cheap and nothing is frozen.
    """
    gc.collect()
    gc.freeze()


def _zone(aggregates):
    """A host's zone: its aggregates' ``availability_zone``, else the default."""
    zones = sorted({a["availability_zone"] for a in aggregates if a["availability_zone"]})
    return ",".join(zones) if zones else CONF.default_availability_zone


class HostManager:
    def __init__(self):
        self.filter_classes = self._load_filters()
        self.enabled_filters = self._choose_filters(CONF.filter_scheduler.enabled_filters)
        self.weighers = [cls() for cls in loadables.load_classes(
            CONF.filter_scheduler.weight_classes, weights.BaseHostWeigher)]
        self._host_states = {}
        # The states in (host, node) order, kept until a host comes or goes.
        self._sorted_states = None
        # The newest updated_at of the compute node reports read so far.
        self._newest_report = None
        self._lock = threading.Lock()

    @staticmethod
    def _load_filters():
        classes = loadables.load_classes(CONF.filter_scheduler.available_filters,
                                         filters.BaseHostFilter)
        return {cls.__name__: cls for cls in classes}

    def _choose_filters(self, names):
        chosen = []
        for name in names:
            if name not in self.filter_classes:
                raise loadables.LoadError(
                    f"Filter {name!r} in [filter_scheduler] enabled_filters is not among "
                    f"the available filters: {', '.join(sorted(self.filter_classes))}")
            chosen.append(self.filter_classes[name]())
        return chosen

    def get_all_host_states(self, context):
        """HostStates of every compute node with a compute service row.

        Services are read whole every time (the ComputeFilter needs fresh
        heartbeats), but only the columns it needs, with the up-or-down
        rule applied by the database; compute nodes only when reported
        since the last read: at thousands of hosts, decoding every node's
        report and every heartbeat on every request would be most of the
        scheduler's time.
        """
        with self._lock:
            # Nodes before services: a compute registers its service before
            # it first reports, so every node read here finds its service
            # below. (Read the other way round, a host that started between
            # the two reads would look dead and be dropped.)
            self._read_new_reports(context)
            services = {s["host"]: s for s in services_db.service_liveness_get_all(
                context, "mininova-compute", servicegroup.up_since())}
            aggregates = scheduling_db.aggregates_by_host(context)
            dead = [key for key in self._host_states if key[0] not in services]
            for key in dead:
                LOG.info("Removing dead compute node %s:%s from scheduler", *key)
                del self._host_states[key]
            if dead or self._sorted_states is None:
                self._sorted_states = [self._host_states[key]
                                       for key in sorted(self._host_states)]
                if len(self._sorted_states) >= FREEZE_FROM_HOSTS:
                    _freeze_long_lived()
            # Read once: an option's lookup costs more than the rest of a
            # host's line here, and this runs for every host on every request.
            default_zone = CONF.default_availability_zone
            for state in self._sorted_states:
                state.service = services[state.host]
                state.aggregates = aggregates.get(state.host, ())
                state.availability_zone = (_zone(state.aggregates) if state.aggregates
                                           else default_zone)
            return list(self._sorted_states)

    def _read_new_reports(self, context):
        """Read the reports written since the newest one already read.

        The cut-off is a report's own ``updated_at`` (the conductor's clock),
        less a little overlap for reports stamped just before the newest
        one but committed after our last read."""
        since = self._newest_report and self._newest_report - REPORT_OVERLAP
        for node in services_db.compute_node_get_all(context, updated_since=since,
                                                     json_as_text=True):
            key = (node["host"], node["hypervisor_hostname"])
            state = self._host_states.get(key)
            if state is None:
                state = self._host_states[key] = HostState(*key)
                self._sorted_states = None
            state.update_from_compute_node(node)
            if node["updated_at"] and (self._newest_report is None
                                       or node["updated_at"] > self._newest_report):
                self._newest_report = node["updated_at"]

    def update_instance_info(self, host, instance_uuids):
        with self._lock:
            for (state_host, _node), state in self._host_states.items():
                if state_host == host:
                    state.instances = dict.fromkeys(instance_uuids)

    def get_filtered_hosts(self, host_states, spec, index, recorder):
        """Run the enabled filters in order; record each verdict."""
        hosts = self._without_ignored_hosts(list(host_states), spec, recorder)
        hosts = self._only_requested_destination(hosts, spec, recorder)
        LOG.debug("Starting with %d host(s)", len(hosts))
        for host_filter in self.enabled_filters:
            if index > 0 and host_filter.run_filter_once_per_request:
                continue
            start = len(hosts)
            if host_filter.needed_for(spec):
                hosts = self._run_filter(host_filter, hosts, spec, recorder)
            recorder.count(host_filter.name, start, len(hosts))
            LOG.debug("Filter %(cls_name)s returned %(obj_len)d host(s)",
                      {"cls_name": host_filter.name, "obj_len": len(hosts)})
            if not hosts:
                break
        return hosts

    @staticmethod
    def _run_filter(host_filter, hosts, spec, recorder):
        """The hosts that pass ``host_filter``; the others recorded with why."""
        name = host_filter.name
        kept = []
        for host_state in hosts:
            verdict = host_filter.host_passes(host_state, spec)
            if verdict:
                kept.append(host_state)
            else:
                recorder.record(name, host_state, verdict)
        return kept

    @staticmethod
    def _without_ignored_hosts(hosts, spec, recorder):
        """A cold migration must leave its host (and a resize too, unless
        allow_resize_to_same_host): the request names it in ``ignore_hosts``.
        Recorded like a filter, so the explanation says why it was left out."""
        ignored = set(spec.get("ignore_hosts") or ())
        if not ignored:
            return hosts
        LOG.debug("Host filter ignoring hosts: %s", ", ".join(sorted(ignored)))
        kept = []
        for host_state in hosts:
            if host_state.host in ignored:
                recorder.record("IgnoreHosts", host_state, filters.Verdict(
                    False, "the instance is moving away from this host"))
            else:
                kept.append(host_state)
        recorder.count("IgnoreHosts", len(hosts), len(kept))
        return kept

    @staticmethod
    def _only_requested_destination(hosts, spec, recorder):
        """A server asked for on a host and/or node (create at 2.74, migrate
        at 2.56: Nova's RequestSpec.requested_destination) may only go
        there; the filters still run on it, so a full host is a NoValidHost."""
        wanted = spec.get("requested_destination") or {}
        if not wanted:
            return hosts
        kept = []
        for host_state in hosts:
            if (wanted.get("host") not in (None, host_state.host)
                    or wanted.get("node") not in (None, host_state.nodename)):
                recorder.record("RequestedDestination", host_state, filters.Verdict(
                    False, "not the host (or node) the request asked for"))
            else:
                kept.append(host_state)
        recorder.count("RequestedDestination", len(hosts), len(kept))
        return kept

    def get_weighed_hosts(self, host_states, spec, best=None):
        """The hosts best first; only the ``best`` first ones when given (the
        scheduler needs a few: Nova weighs them all and keeps a few too)."""
        return weights.weigh(self.weighers, host_states, spec, best)
