"""ServerGroupSoftAffinityWeigher and ServerGroupSoftAntiAffinityWeigher
(mirror ``nova/scheduler/weights/affinity.py``): the ``soft-affinity`` and
``soft-anti-affinity`` server group policies of API microversion 2.15.

A soft policy is a preference, not a rule: no filter drops a host for it,
so a full host never makes a NoValidHost. Instead each host weighs the
number of the group's members already on it: soft-affinity prefers the
host with the most, soft-anti-affinity the host with the fewest (its raw
value is minus the count). For a request without such a group every host
weighs 0, which changes no choice.
"""

from mininova.conf import CONF
from mininova.scheduler import weights


class BaseSoftAffinityWeigher(weights.BaseHostWeigher):
    """(Its name starts with "Base" so that the weigher loader skips it.)"""

    policy = None

    def weighs_anything(self, spec):
        group = spec.get("instance_group")
        return bool(group) and group["policy"] == self.policy

    def members_here(self, host_state, spec):
        if not self.weighs_anything(spec):
            return 0
        return len(spec.get("group_members_by_host", {}).get(host_state.host, ()))


class ServerGroupSoftAffinityWeigher(BaseSoftAffinityWeigher):
    policy = "soft-affinity"

    def weight_multiplier(self):
        return CONF.filter_scheduler.soft_affinity_weight_multiplier

    def weigh_object(self, host_state, spec):
        return self.members_here(host_state, spec)


class ServerGroupSoftAntiAffinityWeigher(BaseSoftAffinityWeigher):
    policy = "soft-anti-affinity"

    def weight_multiplier(self):
        return CONF.filter_scheduler.soft_anti_affinity_weight_multiplier

    def weigh_object(self, host_state, spec):
        return -self.members_here(host_state, spec)
