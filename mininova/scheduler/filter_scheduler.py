"""The filter scheduler (mirrors ``nova/scheduler/filter_scheduler.py``).

For each instance of a request:

1. start from every compute host (HostManager.get_all_host_states);
2. run the enabled filters, each removing hosts that cannot take it;
3. weigh the survivors and pick at random among the best
   ``host_subset_size`` (1: simply the best);
4. consume the instance's resources from that host's state, so the next
   instance of the same request sees them used.

No survivor means NoValidHost for the whole request.
"""

import random
import threading

from oslo_log import log as logging

from mininova import exception
from mininova.conf import CONF
from mininova.scheduler import host_manager

LOG = logging.getLogger(__name__)

NOT_ENOUGH_HOSTS = "There are not enough hosts available."


class Decision:
    """What the filters said about each host for one instance."""

    def __init__(self, instance_uuid):
        self.instance_uuid = instance_uuid
        self.verdicts = []   # (filter, host, node, passed, reason)
        self.counts = []     # (filter, start, end)

    def record(self, filter_name, host_state, verdict):
        self.verdicts.append((filter_name, host_state.host, host_state.nodename,
                              verdict.passed, verdict.reason))

    def count(self, filter_name, start, end):
        self.counts.append((filter_name, start, end))

    def summary(self):
        """Nova's ``['RamFilter: (start: 3, end: 0)', ...]``."""
        return [f"{name}: (start: {start}, end: {end})" for name, start, end in self.counts]


class FilterScheduler:
    def __init__(self):
        self.host_manager = host_manager.HostManager()
        # One request at a time per scheduler process: it reads and consumes
        # the shared host states, and two interleaved requests would both
        # count the same free RAM.
        self._lock = threading.Lock()

    def select_destinations(self, context, spec):
        with self._lock:
            candidates = self.host_manager.get_all_host_states(context)
            selections = []
            for index, instance_uuid in enumerate(spec["instance_uuids"]):
                # Each instance starts from the hosts that passed for the one
                # before: the filters run once per request (ComputeFilter,
                # AvailabilityZoneFilter) do not run again to remove them.
                selection, candidates = self._select_one(candidates, spec, index,
                                                         instance_uuid)
                selections.append(selection)
            return selections

    def _select_one(self, host_states, spec, index, instance_uuid):
        """The selection for one instance, and the hosts that passed its filters."""
        for host_state in host_states:
            host_state.limits = {}
        decision = Decision(instance_uuid)
        hosts = self.host_manager.get_filtered_hosts(host_states, spec, index, decision)
        if not hosts:
            LOG.info("Filtering removed all hosts for the request with instance ID "
                     "'%(inst_uuid)s'. Filter results: %(str_results)s",
                     {"inst_uuid": instance_uuid, "str_results": decision.summary()})
            raise exception.NoValidHost(reason=NOT_ENOUGH_HOSTS)
        LOG.debug("Filtered %(hosts)s", {"hosts": hosts})
        weighed = self.host_manager.get_weighed_hosts(hosts, spec)
        LOG.debug("Weighed %(hosts)s", {"hosts": weighed})
        subset = weighed[:CONF.filter_scheduler.host_subset_size]
        chosen = random.choice(subset).obj
        LOG.debug("Selected host: %(host)s", {"host": chosen})
        chosen.consume_from_request(spec)
        alternates = [[item.obj.host, item.obj.nodename] for item in weighed
                      if item.obj is not chosen][:CONF.scheduler.max_attempts - 1]
        selection = {"host": chosen.host, "nodename": chosen.nodename,
                     "limits": dict(chosen.limits), "alternates": alternates}
        return selection, hosts
