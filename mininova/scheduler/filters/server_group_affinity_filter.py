"""ServerGroupAffinityFilter (mirrors the affinity half of
``nova/scheduler/filters/affinity_filter.py``): once a member of an
``affinity`` server group is on a host, the others must go there too. The
first member may go anywhere."""

from mininova.scheduler import filters


class ServerGroupAffinityFilter(filters.BaseHostFilter):
    policy = "affinity"

    def needed_for(self, spec):
        group = spec.get("instance_group")
        return bool(group) and group["policy"] == self.policy

    def host_passes(self, host_state, spec):
        group = spec.get("instance_group")
        if not group or group["policy"] != self.policy:
            return filters.Verdict.ok("not in an affinity group")
        group_hosts = spec.get("group_hosts", ())
        if group_hosts and host_state.host not in group_hosts:
            return filters.Verdict.fail(f"affinity: group {group['name']} is on "
                                        f"{', '.join(sorted(group_hosts))}, not here")
        return filters.Verdict.ok("group {} is here or nowhere yet", group["name"])
