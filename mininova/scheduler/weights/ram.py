"""RAMWeigher (mirrors ``nova/scheduler/weights/ram.py``): prefer the host
with the most free RAM. A positive ``ram_weight_multiplier`` spreads
instances over hosts; a negative one stacks them onto the fullest host."""

from mininova.conf import CONF
from mininova.scheduler import weights


class RAMWeigher(weights.BaseHostWeigher):
    def weight_multiplier(self):
        return CONF.filter_scheduler.ram_weight_multiplier

    def weigh_object(self, host_state, spec):
        return host_state.free_ram_mb
