"""ServerGroupAntiAffinityFilter: no two members on a host, or at most
``max_server_per_host`` when the group's rules say so (microversion 2.64)."""

import pytest

from mininova.scheduler.filters import server_group_anti_affinity_filter
from mininova.scheduler.host_manager import HostState

pytestmark = pytest.mark.usefixtures("conf")


def spec(members_here, rules=None, policy="anti-affinity"):
    group = {"uuid": "g", "name": "web", "policy": policy, "members": [], "rules": rules}
    return {"instance_group": group,
            "group_members_by_host": {"host1": set(members_here)} if members_here else {}}


def passes(request_spec):
    return server_group_anti_affinity_filter.ServerGroupAntiAffinityFilter().host_passes(
        HostState("host1", "host1"), request_spec)


def test_one_member_per_host_by_default():
    assert passes(spec([]))
    verdict = passes(spec(["a"]))
    assert not verdict
    assert verdict.reason == "anti-affinity: group web has 1 member(s) on host1, at most 1 per host"


def test_max_server_per_host():
    assert passes(spec(["a"], {"max_server_per_host": 2}))
    assert not passes(spec(["a", "b"], {"max_server_per_host": 2}))


def test_other_policies_are_not_its_business():
    assert passes(spec(["a"], policy="soft-anti-affinity"))
    assert passes({"instance_group": None})
