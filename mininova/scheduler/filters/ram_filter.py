"""RamFilter (mirrors ``nova/scheduler/filters/ram_filter.py``, Queens).

usable RAM = total × ram_allocation_ratio − used; the host passes when
usable ≥ the flavor's RAM. The limit (total × ratio) goes to the compute,
whose claim enforces the same bound (``memory limit: … free: …``).
"""

from oslo_log import log as logging

from mininova.scheduler import filters

LOG = logging.getLogger(__name__)


class RamFilter(filters.BaseHostFilter):
    def host_passes(self, host_state, spec):
        requested_ram = spec["flavor"]["memory_mb"]
        ratio = host_state.ram_allocation_ratio
        total_usable_ram_mb = host_state.total_usable_ram_mb
        memory_mb_limit = total_usable_ram_mb * ratio
        used_ram_mb = total_usable_ram_mb - host_state.free_ram_mb
        usable_ram = memory_mb_limit - used_ram_mb
        if usable_ram < requested_ram:
            LOG.debug("%(host_state)s does not have %(requested_ram)d MB usable ram, "
                      "it only has %(usable_ram)d MB usable ram.",
                      {"host_state": host_state, "requested_ram": requested_ram,
                       "usable_ram": usable_ram})
            return filters.Verdict.fail(
                f"free RAM {usable_ram:.0f} MB < requested {requested_ram} MB "
                f"(total {total_usable_ram_mb} MB × ratio {ratio} − used {used_ram_mb} MB)")
        host_state.limits["memory_mb"] = memory_mb_limit
        return filters.Verdict.ok("free RAM {:.0f} MB ≥ requested {} MB", usable_ram,
                                  requested_ram)
