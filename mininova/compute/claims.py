"""Claims: reserve a host's resources for a build (mirrors
``nova/compute/claims.py``, with its Queens/Rocky log lines).

The scheduler chose this host from a picture that may be seconds old; the
claim is the compute's own check, against its own up-to-date numbers and
the limits the scheduler's filters computed (``total × allocation ratio``).
Each resource logs its total, used and limit; any shortfall fails the claim
with ``Insufficient compute resources: ...`` and the build is not started.

Used as a context manager: if the build fails inside the ``with`` block,
the claim is aborted and its resources are given back.
"""

from oslo_log import log as logging

from mininova import exception
from mininova.compute import utils as compute_utils

LOG = logging.getLogger(__name__)


class Claim:
    def __init__(self, context, instance, nodename, tracker, resources, limits,
                 flavor=None):
        self.context = context
        self.instance = instance
        self.nodename = nodename
        self.tracker = tracker
        flavor = compute_utils.local_disk_flavor(instance, flavor)
        self.memory_mb = flavor["memory_mb"]
        self.disk_gb = flavor["root_gb"] + flavor["ephemeral_gb"]
        self.vcpus = flavor["vcpus"]
        self._claim_test(resources, limits or {})

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()
        return False

    def abort(self):
        LOG.debug("Aborting claim: %s", self, instance=self.instance)
        self.tracker.abort_instance_claim(self.context, self.instance)

    def _claim_test(self, resources, limits):
        LOG.info("Attempting claim on node %(node)s: memory %(memory_mb)d MB, "
                 "disk %(disk_gb)d GB, vcpus %(vcpus)d CPU",
                 {"node": self.nodename, "memory_mb": self.memory_mb,
                  "disk_gb": self.disk_gb, "vcpus": self.vcpus}, instance=self.instance)
        reasons = [
            self._test("memory", "MB", resources["memory_mb"], resources["memory_mb_used"],
                       self.memory_mb, limits.get("memory_mb")),
            self._test("disk", "GB", resources["local_gb"], resources["local_gb_used"],
                       self.disk_gb, limits.get("disk_gb")),
            self._test("vcpu", "VCPU", resources["vcpus"], resources["vcpus_used"],
                       self.vcpus, limits.get("vcpu")),
        ]
        reasons = [reason for reason in reasons if reason]
        if reasons:
            raise exception.ComputeResourcesUnavailable(reason="; ".join(reasons))
        LOG.info("Claim successful on node %s", self.nodename, instance=self.instance)

    def _test(self, type_, unit, total, used, requested, limit):
        """A reason string when ``requested`` does not fit, else None."""
        values = {"type": type_, "unit": unit, "total": total, "used": used,
                  "requested": requested, "limit": limit}
        LOG.info("Total %(type)s: %(total)d %(unit)s, used: %(used).02f %(unit)s",
                 values, instance=self.instance)
        if limit is None:
            LOG.info("%(type)s limit not specified, defaulting to unlimited",
                     values, instance=self.instance)
            return None
        values["free"] = limit - used
        LOG.info("%(type)s limit: %(limit).02f %(unit)s, free: %(free).02f %(unit)s",
                 values, instance=self.instance)
        if requested > values["free"]:
            return ("Free %(type)s %(free).02f %(unit)s < requested %(requested)d %(unit)s"
                    % values)
        return None

    def __repr__(self):
        return (f"[Claim: {self.memory_mb} memory_mb, {self.disk_gb} disk_gb, "
                f"{self.vcpus} vcpus]")


class MoveClaim(Claim):
    """The destination's claim for a resize or cold migration: the new
    flavor, tested the same way; aborting it drops only the move's
    reservation (the instance keeps its host until the move is done)."""

    def __init__(self, context, instance, flavor, migration, nodename, tracker, resources,
                 limits):
        self.migration = migration
        super().__init__(context, instance, nodename, tracker, resources, limits,
                         flavor=flavor)

    def abort(self):
        LOG.debug("Aborting claim: %s", self, instance=self.instance)
        self.tracker.drop_move_claim(self.context, self.migration)
