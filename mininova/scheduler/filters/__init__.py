"""Host filters (mirrors ``nova/scheduler/filters/__init__.py``).

A filter looks at one host and the request and says whether the host can
take it. Nova's ``host_passes`` returns a bare boolean; ours returns a
:class:`Verdict`, which is truthy or falsy the same way but also carries a
one-line reason ("free RAM 320 MB < requested 512 MB"), so a scheduling
decision can be explained afterwards.
"""

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class Verdict:
    """A filter's answer for one host: pass or fail, and why."""

    __slots__ = ("passed", "reason")

    def __init__(self, passed, reason=""):
        self.passed = passed
        self.reason = reason

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return f"Verdict({'pass' if self.passed else 'fail'}: {self.reason})"

    @classmethod
    def ok(cls, reason=""):
        return cls(True, reason)

    @classmethod
    def fail(cls, reason):
        return cls(False, reason)


class BaseHostFilter:
    """Subclasses implement ``host_passes(host_state, spec) -> Verdict``."""

    # Filters whose answer cannot change between the instances of one
    # request are run once per request (Nova's run_filter_once_per_request).
    run_filter_once_per_request = False

    def needed_for(self, spec):
        """False when the request asks nothing of this filter (no zone, no
        server group, no capability...): every host would pass, so the
        filter is not run host by host. (Nova runs every filter on every
        host; at 10,000 hosts those calls are most of a request.)"""
        return True

    def host_passes(self, host_state, spec):
        raise NotImplementedError

    @property
    def name(self):
        return type(self).__name__


def all_filters():
    """Every filter class shipped in this package (the default available_filters)."""
    from mininova.scheduler import filters, loadables

    return loadables.classes_in_package(filters, BaseHostFilter)
