"""ServerGroupAntiAffinityFilter (mirrors the anti-affinity half of
``nova/scheduler/filters/affinity_filter.py``): a member of an
``anti-affinity`` server group never goes to a host where another member
already is, or, when the group's rules say ``max_server_per_host`` (API
microversion 2.64), where that many members already are."""

from mininova.scheduler import filters


class ServerGroupAntiAffinityFilter(filters.BaseHostFilter):
    policy = "anti-affinity"

    def needed_for(self, spec):
        group = spec.get("instance_group")
        return bool(group) and group["policy"] == self.policy

    def host_passes(self, host_state, spec):
        group = spec.get("instance_group")
        if not group or group["policy"] != self.policy:
            return filters.Verdict.ok("not in an anti-affinity group")
        max_per_host = (group.get("rules") or {}).get("max_server_per_host", 1)
        here = len(spec.get("group_members_by_host", {}).get(host_state.host, ()))
        if here >= max_per_host:
            return filters.Verdict.fail(
                f"anti-affinity: group {group['name']} has {here} member(s) on "
                f"{host_state.host}, at most {max_per_host} per host")
        return filters.Verdict.ok("{} member(s) of group {} here, fewer than {}", here,
                                  group["name"], max_per_host)
