"""CoreFilter (mirrors ``nova/scheduler/filters/core_filter.py``, Queens):
vCPUs used + requested ≤ host vCPUs × cpu_allocation_ratio. Available but not
enabled by default, as in Nova."""

from oslo_log import log as logging

from mininova.scheduler import filters

LOG = logging.getLogger(__name__)


class CoreFilter(filters.BaseHostFilter):
    def host_passes(self, host_state, spec):
        requested = spec["flavor"]["vcpus"]
        ratio = host_state.cpu_allocation_ratio
        limit = host_state.vcpus_total * ratio
        free = limit - host_state.vcpus_used
        if free < requested:
            LOG.debug("%(host_state)s does not have %(requested)d usable vcpus, it only "
                      "has %(usable)d usable vcpus",
                      {"host_state": host_state, "requested": requested, "usable": free})
            return filters.Verdict.fail(
                f"free vCPUs {free:.0f} < requested {requested} "
                f"({host_state.vcpus_total} × ratio {ratio} − used {host_state.vcpus_used})")
        host_state.limits["vcpu"] = limit
        return filters.Verdict.ok("free vCPUs {:.0f} ≥ requested {}", free, requested)
