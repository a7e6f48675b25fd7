"""os-server-groups across its microversions: project and user (2.13), the
soft policies (2.15) and the weighers that keep them, ``policy`` and
``rules`` (2.64) and the anti-affinity rule ``max_server_per_host`` the
scheduler keeps."""

import pytest

from tests.functional import helpers
from tests.functional.helpers import api

NANO = "42"


def create_group(client, version, **group):
    return api(client, "POST", "/os-server-groups", version, json={"server_group": group})


def test_2_13_project_and_user(demo):
    group = create_group(demo, "2.12", name="g", policies=["affinity"]).json()["server_group"]
    assert set(group) == {"id", "name", "policies", "members", "metadata"}
    shown = api(demo, "GET", f"/os-server-groups/{group['id']}", "2.13").json()["server_group"]
    assert (shown["project_id"], shown["user_id"]) == ("demo", "demo")


def test_2_15_soft_policies(demo):
    response = create_group(demo, "2.14", name="g", policies=["soft-affinity"])
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"].startswith(
        "Invalid input for field/attribute 0.")
    response = create_group(demo, "2.15", name="g", policies=["soft-anti-affinity"])
    assert response.status_code == 200
    assert response.json()["server_group"]["policies"] == ["soft-anti-affinity"]


def test_2_64_policy_and_rules(demo):
    response = create_group(demo, "2.64", name="g", policies=["affinity"])
    assert response.status_code == 400
    response = create_group(demo, "2.64", name="g", policy="anti-affinity",
                            rules={"max_server_per_host": 2})
    assert response.status_code == 200, response.text
    group = response.json()["server_group"]
    assert group == {"id": group["id"], "name": "g", "policy": "anti-affinity",
                     "rules": {"max_server_per_host": 2}, "members": [],
                     "project_id": "demo", "user_id": "demo"}
    old = api(demo, "GET", f"/os-server-groups/{group['id']}", "2.63").json()["server_group"]
    assert (old["policies"], old["metadata"]) == (["anti-affinity"], {})
    plain = create_group(demo, "2.64", name="h", policy="affinity").json()["server_group"]
    assert plain["rules"] == {}
    response = create_group(demo, "2.64", name="h", policy="affinity",
                            rules={"max_server_per_host": 2})
    assert (response.status_code, response.json()["badRequest"]["message"]) == (
        400, "Only anti-affinity policy supports rules.")
    response = create_group(demo, "2.64", name="h", policy="anti-affinity",
                            rules={"max_server_per_host": 0})
    assert response.status_code == 400
    response = create_group(demo, "2.64", name="h", policy="anti-affinity",
                            rules={"other": 1})
    assert response.status_code == 400


def test_2_75_an_unknown_list_parameter_is_a_400(demo):
    assert api(demo, "GET", "/os-server-groups", "2.74", params={"x": "1"}).status_code == 200
    assert api(demo, "GET", "/os-server-groups", "2.75", params={"x": "1"}).status_code == 400


def boot_in(client, image, group_id, count):
    hosts = []
    for index in range(count):
        created = client.create_server(f"vm{index}", image["id"], NANO,
                                       scheduler_hints={"group": group_id})
        server = helpers.wait_until(lambda c=created: client.get_server(c["id"]),
                                    lambda s: s["status"] in ("ACTIVE", "ERROR"),
                                    what="the build")
        hosts.append(server.get("OS-EXT-SRV-ATTR:host") if server["status"] == "ACTIVE"
                     else "ERROR")
    return hosts


@pytest.mark.hosts("host1", "host2")
def test_max_server_per_host(admin, image):
    group = create_group(admin, "2.64", name="g", policy="anti-affinity",
                         rules={"max_server_per_host": 2}).json()["server_group"]
    hosts = boot_in(admin, image, group["id"], 5)
    assert sorted(hosts[:4]) == ["host1", "host1", "host2", "host2"]
    assert hosts[4] == "ERROR"


@pytest.fixture
def only_group_weighers(conf):
    """Without the RAM and disk weighers' spreading, the soft policies decide."""
    conf.set_override("ram_weight_multiplier", 0.0, "filter_scheduler")
    conf.set_override("disk_weight_multiplier", 0.0, "filter_scheduler")


@pytest.mark.hosts("host1", "host2")
def test_soft_affinity_stacks(only_group_weighers, admin, image):
    group = create_group(admin, "2.15", name="g",
                         policies=["soft-affinity"]).json()["server_group"]
    hosts = boot_in(admin, image, group["id"], 3)
    assert len(set(hosts)) == 1 and "ERROR" not in hosts


@pytest.mark.hosts("host1", "host2")
def test_soft_anti_affinity_spreads_and_never_fails(only_group_weighers, admin, image):
    group = create_group(admin, "2.64", name="g",
                         policy="soft-anti-affinity").json()["server_group"]
    hosts = boot_in(admin, image, group["id"], 3)
    assert sorted(hosts[:2]) == ["host1", "host2"]
    # A third member has no empty host left: a preference, not a rule.
    assert hosts[2] in ("host1", "host2")
