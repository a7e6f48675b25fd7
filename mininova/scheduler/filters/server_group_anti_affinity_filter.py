"""ServerGroupAntiAffinityFilter (mirrors the anti-affinity half of
``nova/scheduler/filters/affinity_filter.py``): a member of an
``anti-affinity`` server group never goes to a host where another member
already is."""

from mininova.scheduler import filters


class ServerGroupAntiAffinityFilter(filters.BaseHostFilter):
    policy = "anti-affinity"

    def host_passes(self, host_state, spec):
        group = spec.get("instance_group")
        if not group or group["policy"] != self.policy:
            return filters.Verdict.ok("not in an anti-affinity group")
        if host_state.host in spec.get("group_hosts", ()):
            return filters.Verdict.fail(
                f"anti-affinity: group {group['name']} already on {host_state.host}")
        return filters.Verdict.ok(f"no member of group {group['name']} here")
