"""ComputeFilter (mirrors ``nova/scheduler/filters/compute_filter.py``): only
hosts whose compute service is enabled and up."""

from oslo_log import log as logging

from mininova import servicegroup
from mininova.scheduler import filters

LOG = logging.getLogger(__name__)


# Every host that passes gets the same answer: one object for all of them.
UP = filters.Verdict.ok("service enabled and up")


class ComputeFilter(filters.BaseHostFilter):
    run_filter_once_per_request = True

    def host_passes(self, host_state, spec):
        service = host_state.service
        if service["disabled"]:
            LOG.debug("%(host_state)s is disabled, reason: %(reason)s",
                      {"host_state": host_state, "reason": service.get("disabled_reason")})
            return filters.Verdict.fail(
                f"service disabled: {service.get('disabled_reason') or 'no reason given'}")
        down = servicegroup.down_reason(service)
        if down:
            LOG.warning("%(host_state)s has not been heard from in a while",
                        {"host_state": host_state})
            return filters.Verdict.fail(down)
        return UP
