"""A filter of the kind an operator writes: loaded by import path through
``[filter_scheduler] available_filters``."""

from mininova.scheduler import filters


class NotOnHost2Filter(filters.BaseHostFilter):
    def host_passes(self, host_state, spec):
        if host_state.host == "host2":
            return filters.Verdict.fail("host2 is being drained")
        return filters.Verdict.ok("not host2")
