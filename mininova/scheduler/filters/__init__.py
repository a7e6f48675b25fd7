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
    """A filter's answer for one host: pass or fail, and why.

    The reason is kept as a ``str.format`` template and its values, and
    written out only when read: the scheduler reads the reasons of the
    hosts a filter removes (they go into the decision's explanation),
    never those of the hosts that pass, and at 1000 hosts formatting a
    "free RAM 7680 MB ≥ requested 512 MB" for each of them on every
    request took a sizeable share of the request for nothing.
    """

    __slots__ = ("passed", "_template", "_values")

    def __init__(self, passed, template="", *values):
        self.passed = passed
        self._template = template
        self._values = values

    @property
    def reason(self):
        return self._template.format(*self._values) if self._values else self._template

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return f"Verdict({'pass' if self.passed else 'fail'}: {self.reason})"

    @classmethod
    def ok(cls, template="", *values):
        return cls(True, template, *values)

    @classmethod
    def fail(cls, template, *values):
        return cls(False, template, *values)


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
