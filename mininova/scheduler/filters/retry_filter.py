"""RetryFilter (mirrors ``nova/scheduler/filters/retry_filter.py``): skip the
hosts this build was already tried on."""

from oslo_log import log as logging

from mininova.scheduler import filters

LOG = logging.getLogger(__name__)


class RetryFilter(filters.BaseHostFilter):
    def needed_for(self, spec):
        return bool((spec.get("retry") or {}).get("hosts"))

    def host_passes(self, host_state, spec):
        retry = spec.get("retry") or {}
        tried = [list(pair) for pair in retry.get("hosts", [])]
        if [host_state.host, host_state.nodename] in tried:
            LOG.info("Host %(host)s fails.  Previously tried hosts: %(hosts)s",
                     {"host": [host_state.host, host_state.nodename], "hosts": tried})
            failure = retry.get("exc_reason")
            return filters.Verdict.fail(
                "already tried for this build" + (f"; it failed with: {failure}" if failure
                                                  else ""))
        return filters.Verdict.ok("not tried yet")
