"""DiskWeigher (mirrors ``nova/scheduler/weights/disk.py``): prefer the host
with the most free disk; ``disk_weight_multiplier`` < 0 stacks."""

from mininova.conf import CONF
from mininova.scheduler import weights


class DiskWeigher(weights.BaseHostWeigher):
    def weight_multiplier(self):
        return CONF.filter_scheduler.disk_weight_multiplier

    def weigh_object(self, host_state, spec):
        return host_state.free_disk_mb
