"""DiskFilter (mirrors ``nova/scheduler/filters/disk_filter.py``, Queens).

requested = (root_gb + ephemeral_gb) × 1024 + swap MB, without the root
for a server booted from a volume; usable = total × disk_allocation_ratio −
used. The limit goes to the compute's claim.
"""

from oslo_log import log as logging

from mininova.scheduler import filters
from mininova.scheduler.utils import requested_disk_mb

LOG = logging.getLogger(__name__)


class DiskFilter(filters.BaseHostFilter):
    def host_passes(self, host_state, spec):
        requested_disk = requested_disk_mb(spec)
        ratio = host_state.disk_allocation_ratio
        total_usable_disk_mb = host_state.total_usable_disk_gb * 1024
        disk_mb_limit = total_usable_disk_mb * ratio
        used_disk_mb = total_usable_disk_mb - host_state.free_disk_mb
        usable_disk_mb = disk_mb_limit - used_disk_mb
        if usable_disk_mb < requested_disk:
            LOG.debug("%(host_state)s does not have %(requested_disk)d MB usable disk space "
                      "before overcommit, it only has %(physical_disk_size)d MB.",
                      {"host_state": host_state, "requested_disk": requested_disk,
                       "physical_disk_size": usable_disk_mb})
            return filters.Verdict.fail(
                f"free disk {usable_disk_mb:.0f} MB < requested {requested_disk} MB "
                f"(total {total_usable_disk_mb} MB × ratio {ratio} − used {used_disk_mb} MB)")
        host_state.limits["disk_gb"] = disk_mb_limit / 1024
        return filters.Verdict.ok("free disk {:.0f} MB ≥ requested {} MB", usable_disk_mb,
                                  requested_disk)
