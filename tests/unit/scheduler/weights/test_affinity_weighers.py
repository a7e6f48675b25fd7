"""The soft server group policies (2.15): soft-affinity prefers the host
with the most members, soft-anti-affinity the one with the fewest; neither
changes anything for a request without such a group."""

import pytest

from mininova.scheduler import weights
from mininova.scheduler.host_manager import HostState
from mininova.scheduler.weights import affinity

pytestmark = pytest.mark.usefixtures("conf")


def spec(policy, by_host):
    return {"instance_group": {"uuid": "g", "name": "g", "policy": policy, "members": []},
            "group_members_by_host": {host: set(members) for host, members in by_host.items()}}


HOSTS = [HostState("host1", "host1"), HostState("host2", "host2"), HostState("host3", "host3")]
BY_HOST = {"host1": ["a", "b"], "host2": ["c"]}


def best(weigher, request_spec):
    return weights.weigh([weigher], HOSTS, request_spec)[0].obj.host


def test_soft_affinity_prefers_the_most_members():
    assert best(affinity.ServerGroupSoftAffinityWeigher(), spec("soft-affinity", BY_HOST)) == (
        "host1")


def test_soft_anti_affinity_prefers_the_fewest():
    assert best(affinity.ServerGroupSoftAntiAffinityWeigher(),
                spec("soft-anti-affinity", BY_HOST)) == "host3"


@pytest.mark.parametrize("weigher", [affinity.ServerGroupSoftAffinityWeigher(),
                                     affinity.ServerGroupSoftAntiAffinityWeigher()])
def test_no_soft_group_weighs_nothing(weigher):
    for request_spec in ({"instance_group": None}, spec("anti-affinity", BY_HOST)):
        assert [weigher.weigh_object(h, request_spec) for h in HOSTS] == [0, 0, 0]


@pytest.mark.parametrize("weigher", [affinity.ServerGroupSoftAffinityWeigher(),
                                     affinity.ServerGroupSoftAntiAffinityWeigher()])
def test_without_its_group_a_weigher_is_not_asked_host_by_host(weigher, monkeypatch):
    # Every host would weigh 0: weigh() says so without a call per host,
    # and the explanation still shows the weigher's (zero) part.
    asked = []
    monkeypatch.setattr(weigher, "weigh_object", lambda host, spec: asked.append(host) or 0)
    weighed = weights.weigh([weigher], HOSTS, {"instance_group": None})
    assert asked == []
    assert {name: part for host in weighed for name, part in host.parts.items()} == {
        weigher.name: (0, 0.0)}
    assert weigher.weighs_anything(spec(weigher.policy, BY_HOST))
