"""The filter scheduler (mirrors ``nova/scheduler/filter_scheduler.py``).

For each instance of a request:

1. start from every compute host (HostManager.get_all_host_states), or,
   for the second instance on, from the hosts that passed for the first;
2. run the enabled filters, each removing hosts that cannot take it;
3. weigh the survivors and pick at random among the best
   ``host_subset_size`` (1: simply the best);
4. consume the instance's resources from that host's state, so the next
   instance of the same request sees them used.

No survivor means NoValidHost for the whole request.

Beyond Nova: every decision is kept (``scheduling_decisions``): the hosts
considered, the hosts each filter removed and why, the best weights and
the choice. ``mininova server-explain`` shows it, and a NoValidHost says
which filters removed which hosts instead of only "not enough hosts".
"""

import itertools
import random
import threading

from oslo_log import log as logging

from mininova import exception
from mininova.conf import CONF
from mininova.db import scheduling as scheduling_db
from mininova.scheduler import host_manager

LOG = logging.getLogger(__name__)

NOT_ENOUGH_HOSTS = "There are not enough hosts available."


class Decision:
    """What happened to the hosts for one instance: the record behind
    ``server-explain`` and the NoValidHost message."""

    def __init__(self, instance_uuid, host_states, attempt, request_id):
        self.instance_uuid = instance_uuid
        self.attempt = attempt
        self.request_id = request_id
        self.hosts = [[h.host, h.nodename] for h in host_states]
        # [{"name", "start", "end", "verdicts": [failed hosts only]}]
        self.filters = []
        self.weights = []
        self.selected = None

    def record(self, filter_name, host_state, verdict):
        """Keep the hosts a filter removes (a pass needs no explaining, and a
        cloud of 1000 hosts would otherwise store 1000 rows per filter)."""
        if not self.filters or self.filters[-1]["name"] != filter_name:
            self.filters.append({"name": filter_name, "start": None, "end": None,
                                 "verdicts": []})
        if not verdict:
            self.filters[-1]["verdicts"].append({
                "host": host_state.host, "node": host_state.nodename,
                "passed": False, "reason": verdict.reason})

    def count(self, filter_name, start, end):
        if not self.filters or self.filters[-1]["name"] != filter_name:
            self.filters.append({"name": filter_name, "verdicts": []})
        self.filters[-1].update(start=start, end=end)

    def weighed(self, weighed_hosts):
        self.weights = [{"host": item.obj.host, "node": item.obj.nodename,
                         "weight": item.weight,
                         "parts": {name: list(values) for name, values in item.parts.items()}}
                        for item in weighed_hosts[:CONF.filter_scheduler.explained_weights]]

    def summary(self):
        """Nova's ``['RamFilter: (start: 3, end: 0)', ...]``."""
        return [f"{f['name']}: (start: {f['start']}, end: {f['end']})" for f in self.filters]

    def explanation(self):
        """Which filters removed which hosts, one line each."""
        lines = []
        for entry in self.filters:
            for verdict in entry["verdicts"]:
                lines.append(f"{entry['name']}: {verdict['host']}: {verdict['reason']}")
        return lines

    def to_record(self):
        return {"instance_uuid": self.instance_uuid, "request_id": self.request_id,
                "attempt": self.attempt, "filters": self.filters, "weights": self.weights,
                "hosts": self.hosts,
                "selected_host": self.selected[0] if self.selected else None,
                "selected_node": self.selected[1] if self.selected else None}


def no_valid_host(decision):
    """NoValidHost with Nova's sentence, then what each filter removed.

    The message becomes the instance fault (at most 255 characters), so it
    names only the filters that removed hosts, with their reasons:
    ``... available. RamFilter: (start: 2, end: 1): h1: free RAM 320 MB <
    requested 512 MB (...). ComputeFilter: (start: 1, end: 0): h2: service
    down: ...``. The full list goes to the fault's details.
    """
    removals = [f"{entry['name']}: (start: {entry['start']}, end: {entry['end']}): "
                + "; ".join(f"{v['host']}: {v['reason']}" for v in entry["verdicts"])
                for entry in decision.filters if entry["verdicts"]]
    reason = " ".join([NOT_ENOUGH_HOSTS, *(f"{removal}." for removal in removals)])
    return exception.NoValidHost(reason=reason,
                                 details="\n".join(decision.explanation()))


class FilterScheduler:
    def __init__(self):
        self.host_manager = host_manager.HostManager()
        # One request at a time per scheduler process: it reads and consumes
        # the shared host states, and two interleaved requests would both
        # count the same free RAM.
        self._lock = threading.Lock()

    def select_destinations(self, context, spec):
        members_by_host = self._group_members_by_host(context, spec)
        spec = dict(spec, group_hosts=set(members_by_host), group_members_by_host=members_by_host)
        attempt = (spec.get("retry") or {}).get("num_attempts", 1)
        decisions = []
        # The decisions are saved inside the lock too: saving them while the
        # next request is being filtered would make the two fight over the
        # GIL and the database, and a burst of requests slower than a queue.
        with self._lock:
            try:
                candidates = self.host_manager.get_all_host_states(context)
                selections = []
                for index, instance_uuid in enumerate(spec["instance_uuids"]):
                    decision = Decision(instance_uuid, candidates, attempt,
                                        context.request_id)
                    decisions.append(decision)
                    # Each instance starts from the hosts that passed for the one
                    # before: the filters run once per request (ComputeFilter,
                    # AvailabilityZoneFilter...) do not run again to remove them.
                    selection, candidates = self._select_one(candidates, spec, index,
                                                             instance_uuid, decision)
                    selections.append(selection)
                return selections
            finally:
                self._save(context, decisions)

    @staticmethod
    def _group_members_by_host(context, spec):
        """``{host: {member uuid, ...}}``: where the request's server group
        already has members (the affinity filters read the hosts, the
        anti-affinity rule and the soft weighers count the members)."""
        group = spec.get("instance_group")
        if not group:
            return {}
        by_host = {}
        for member, host in scheduling_db.instance_group_member_hosts(
                context, group["uuid"], exclude=spec["instance_uuids"]).items():
            by_host.setdefault(host, set()).add(member)
        return by_host

    def _select_one(self, host_states, spec, index, instance_uuid, decision):
        """The selection for one instance, and the hosts that passed its filters."""
        for host_state in host_states:
            host_state.limits = {}
        self._add_members_placed_here(host_states, spec)
        hosts = self.host_manager.get_filtered_hosts(host_states, spec, index, decision)
        if not hosts:
            LOG.info("Filtering removed all hosts for the request with instance ID "
                     "'%(inst_uuid)s'. Filter results: %(str_results)s",
                     {"inst_uuid": instance_uuid, "str_results": decision.summary()})
            raise no_valid_host(decision)
        LOG.debug("Filtered %(hosts)s", {"hosts": hosts})
        weighed = self.host_manager.get_weighed_hosts(hosts, spec, best=_needed_weighed())
        decision.weighed(weighed)
        LOG.debug("Weighed %(hosts)s", {"hosts": weighed})
        subset = weighed[:CONF.filter_scheduler.host_subset_size]
        chosen = random.choice(subset).obj
        LOG.debug("Selected host: %(host)s", {"host": chosen})
        chosen.consume_from_request(spec, instance_uuid)
        decision.selected = [chosen.host, chosen.nodename]
        _add_member(spec, chosen.host, instance_uuid)
        alternates = list(itertools.islice(
            ([item.obj.host, item.obj.nodename] for item in weighed if item.obj is not chosen),
            CONF.scheduler.max_attempts - 1))
        selection = {"host": chosen.host, "nodename": chosen.nodename,
                     "limits": dict(chosen.limits), "alternates": alternates}
        return selection, hosts

    @staticmethod
    def _add_members_placed_here(host_states, spec):
        """Group members this scheduler placed but whose compute has not yet
        claimed them (so their row has no host yet) count too."""
        group = spec.get("instance_group")
        if not group:
            return
        members = set(group["members"]) - set(spec["instance_uuids"])
        for host_state in host_states:
            for member in members & set(host_state.instances):
                _add_member(spec, host_state.host, member)

    @staticmethod
    def _save(context, decisions):
        for decision in decisions:
            try:
                scheduling_db.scheduling_decision_create(context, decision.to_record())
            except Exception:
                # An explanation must never cost a boot.
                LOG.exception("Could not record the scheduling decision for %s",
                              decision.instance_uuid)


def _needed_weighed():
    """How many of the best-weighed hosts a selection uses: the subset the
    choice is made in, the alternates beside the chosen one, and the ones
    an explanation shows."""
    return max(CONF.filter_scheduler.host_subset_size, CONF.scheduler.max_attempts,
               CONF.filter_scheduler.explained_weights)


def _add_member(spec, host, instance_uuid):
    """Count a member of the request's server group on ``host``."""
    if spec.get("instance_group"):
        spec["group_hosts"].add(host)
        spec["group_members_by_host"].setdefault(host, set()).add(instance_uuid)
