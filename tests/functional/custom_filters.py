"""A filter of the kind an operator writes: loaded by import path through
``[filter_scheduler] available_filters``."""

import os
import time

from mininova.scheduler import filters


class NotOnHost2Filter(filters.BaseHostFilter):
    def host_passes(self, host_state, spec):
        if host_state.host == "host2":
            return filters.Verdict.fail("host2 is being drained")
        return filters.Verdict.ok("not host2")


class SlowFilter(filters.BaseHostFilter):
    """A scheduler that is alive but slow: every request takes
    ``$MININOVA_TEST_SLOW_FILTER_SECONDS`` seconds (read when it runs, so a
    test can set it in the scheduler's environment)."""

    run_filter_once_per_request = True

    def host_passes(self, host_state, spec):
        time.sleep(float(os.environ.get("MININOVA_TEST_SLOW_FILTER_SECONDS", "0")))
        return filters.Verdict.ok("took its time")
