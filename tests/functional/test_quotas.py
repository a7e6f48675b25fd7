"""Quotas as Nova counts them: os-quota-sets, os-quota-class-sets and
/limits with Nova's bodies per microversion, the policy matrix, every
enforcement point with Nova's 403 message, and races: requests arriving
together never get past a limit, and a refused one leaves nothing."""

import threading

import pytest

from mininova import context as mn_context
from mininova import quota
from mininova.conf import CONF
from mininova.db import api as db
from tests.functional import helpers
from tests.functional.helpers import api, as_role, fault

# Servers booted here finish building before the cloud stops.
pytestmark = pytest.mark.usefixtures("builds_settle")

NANO, MICRO, MEDIUM = "42", "84", "3"

DEFAULTS_V21 = {
    "cores": 20, "fixed_ips": -1, "floating_ips": -1, "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255, "injected_files": 5, "instances": 10, "key_pairs": 100,
    "metadata_items": 128, "ram": 51200, "security_group_rules": -1, "security_groups": -1,
    "server_group_members": 10, "server_groups": 10}
NETWORK = {"fixed_ips", "floating_ips", "security_groups", "security_group_rules"}
INJECTED = {"injected_files", "injected_file_content_bytes", "injected_file_path_bytes"}


def set_quota(admin, project="demo", **limits):
    response = api(admin, "PUT", f"/os-quota-sets/{project}", json={"quota_set": limits})
    assert response.status_code == 200, response.text
    return response.json()["quota_set"]


def boot(client, image, name="vm", flavor=NANO, **extra):
    body = {"server": dict({"name": name, "imageRef": image["id"], "flavorRef": flavor},
                           **extra)}
    return api(client, "POST", "/servers", json=body)


# --- os-quota-sets -------------------------------------------------------------------------

def test_a_project_has_novas_defaults(demo):
    body = api(demo, "GET", "/os-quota-sets/demo").json()
    assert body == {"quota_set": dict(DEFAULTS_V21, id="demo")}
    assert api(demo, "GET", "/os-quota-sets/demo/defaults").json() == body


def test_microversions_drop_the_network_then_the_file_quotas(demo):
    v236 = api(demo, "GET", "/os-quota-sets/demo", "2.36").json()["quota_set"]
    assert set(v236) == set(DEFAULTS_V21) - NETWORK | {"id"}
    v257 = api(demo, "GET", "/os-quota-sets/demo", "2.57").json()["quota_set"]
    assert set(v257) == set(DEFAULTS_V21) - NETWORK - INJECTED | {"id"}
    status, text = fault(api(demo, "GET", "/os-quota-sets/demo?colour=red", "2.75"))
    assert status == 400 and "'colour' was unexpected" in text


def test_detail_counts_what_is_used(admin, demo, image):
    created = demo.create_server("vm", image["id"], MICRO)
    helpers.wait_for_status(demo, created["id"], "ACTIVE")
    detail = api(demo, "GET", "/os-quota-sets/demo/detail").json()["quota_set"]
    assert detail["id"] == "demo"
    assert detail["instances"] == {"in_use": 1, "limit": 10, "reserved": 0}
    assert detail["cores"] == {"in_use": 1, "limit": 20, "reserved": 0}
    assert detail["ram"] == {"in_use": 128, "limit": 51200, "reserved": 0}
    assert detail["key_pairs"] == {"in_use": 0, "limit": 100, "reserved": 0}


def test_an_admin_sets_and_deletes_a_projects_quotas(admin, demo):
    updated = set_quota(admin, instances=5, cores="7")
    assert "id" not in updated
    assert updated["instances"] == 5 and updated["cores"] == 7
    assert api(demo, "GET", "/os-quota-sets/demo").json()["quota_set"]["instances"] == 5
    assert api(admin, "GET", "/os-quota-sets/other").json()["quota_set"]["instances"] == 10
    assert api(admin, "DELETE", "/os-quota-sets/demo").status_code == 202
    assert api(demo, "GET", "/os-quota-sets/demo").json()["quota_set"]["instances"] == 10


def test_a_limit_below_usage_needs_force(admin, demo, image):
    demo.create_server("a", image["id"], NANO)
    demo.create_server("b", image["id"], NANO)
    response = api(admin, "PUT", "/os-quota-sets/demo", json={"quota_set": {"instances": 1}})
    assert fault(response) == (400, "Quota limit 1 for instances must be greater than or "
                                    "equal to already used and reserved 2.")
    forced = api(admin, "PUT", "/os-quota-sets/demo",
                 json={"quota_set": {"instances": 1, "force": True}})
    assert forced.json()["quota_set"]["instances"] == 1


@pytest.mark.parametrize("body, text", [
    ({"instances": -2}, "-2 is less than the minimum of -1"),
    ({"instances": "many"}, "does not match"),
    ({"widgets": 1}, "'widgets' was unexpected"),
])
def test_bad_quota_values(admin, body, text):
    status, message = fault(api(admin, "PUT", "/os-quota-sets/demo",
                                json={"quota_set": body}))
    assert status == 400 and text in message


def test_network_quotas_cannot_be_set_from_2_36(admin):
    assert api(admin, "PUT", "/os-quota-sets/demo", "2.35",
               json={"quota_set": {"floating_ips": 3}}).status_code == 200
    status, text = fault(api(admin, "PUT", "/os-quota-sets/demo", "2.36",
                             json={"quota_set": {"floating_ips": 3}}))
    assert status == 400 and "'floating_ips' was unexpected" in text


def test_per_user_quotas_are_refused_with_a_reason(admin):
    assert fault(api(admin, "GET", "/os-quota-sets/demo?user_id=demo")) == (
        400, "Per-user quotas are not supported by mininova: leave out user_id.")


# --- os-quota-class-sets -------------------------------------------------------------------

def test_the_default_class_is_every_projects_default(admin, demo):
    shown = api(admin, "GET", "/os-quota-class-sets/default").json()["quota_class_set"]
    # v2.1 leaves out the server group quotas, as Nova did until 2.50.
    assert shown == dict({k: v for k, v in DEFAULTS_V21.items()
                          if not k.startswith("server_group")}, id="default")
    v250 = api(admin, "GET", "/os-quota-class-sets/default", "2.50").json()["quota_class_set"]
    assert set(v250) == set(DEFAULTS_V21) - NETWORK | {"id"}
    v257 = api(admin, "GET", "/os-quota-class-sets/default", "2.57").json()["quota_class_set"]
    assert set(v257) == set(DEFAULTS_V21) - NETWORK - INJECTED | {"id"}

    updated = api(admin, "PUT", "/os-quota-class-sets/default",
                  json={"quota_class_set": {"instances": 3}})
    assert updated.status_code == 200
    assert updated.json()["quota_class_set"]["instances"] == 3
    assert "id" not in updated.json()["quota_class_set"]
    # Every project without a limit of its own now has 3.
    assert api(demo, "GET", "/os-quota-sets/demo").json()["quota_set"]["instances"] == 3
    assert api(demo, "GET", "/os-quota-sets/demo/defaults").json()["quota_set"][
        "instances"] == 3
    set_quota(admin, instances=4)
    assert api(demo, "GET", "/os-quota-sets/demo").json()["quota_set"]["instances"] == 4


# --- /limits --------------------------------------------------------------------------------

def test_limits_show_quotas_and_usage_in_novas_names(demo, image):
    created = demo.create_server("vm", image["id"], MICRO)
    helpers.wait_for_status(demo, created["id"], "ACTIVE")
    limits = api(demo, "GET", "/limits").json()["limits"]
    assert limits["rate"] == []
    assert limits["absolute"] == {
        "maxTotalRAMSize": 51200, "maxTotalInstances": 10, "maxTotalCores": 20,
        "maxTotalKeypairs": 100, "maxTotalFloatingIps": -1, "maxServerMeta": 128,
        "maxImageMeta": 128, "maxPersonality": 5, "maxPersonalitySize": 10240,
        "maxSecurityGroups": -1, "maxSecurityGroupRules": -1, "maxServerGroups": 10,
        "maxServerGroupMembers": 10, "totalRAMUsed": 128, "totalCoresUsed": 1,
        "totalInstancesUsed": 1, "totalFloatingIpsUsed": 0, "totalSecurityGroupsUsed": 0,
        "totalServerGroupsUsed": 0}


def test_limits_microversions(demo):
    def names(version):
        return set(api(demo, "GET", "/limits", version).json()["limits"]["absolute"])

    v21 = names("2.1")
    assert v21 - names("2.36") == {"maxTotalFloatingIps", "maxSecurityGroups",
                                   "maxSecurityGroupRules", "totalFloatingIpsUsed",
                                   "totalSecurityGroupsUsed"}
    assert names("2.36") - names("2.39") == {"maxImageMeta"}
    assert names("2.39") - names("2.57") == {"maxPersonality", "maxPersonalitySize"}
    assert names("2.79") == {
        "maxTotalRAMSize", "maxTotalInstances", "maxTotalCores", "maxTotalKeypairs",
        "maxServerMeta", "maxServerGroups", "maxServerGroupMembers", "totalRAMUsed",
        "totalCoresUsed", "totalInstancesUsed", "totalServerGroupsUsed"}


def test_an_admin_reads_another_projects_limits(admin, demo, image):
    demo.create_server("vm", image["id"], NANO)
    other = api(admin, "GET", "/limits?tenant_id=demo").json()["limits"]["absolute"]
    assert other["totalInstancesUsed"] == 1
    assert api(admin, "GET", "/limits").json()["limits"]["absolute"]["totalInstancesUsed"] == 0
    assert fault(api(demo, "GET", "/limits?tenant_id=admin")) == (
        403, "Policy doesn't allow os_compute_api:limits:other_project to be performed.")


# --- the policy matrix -------------------------------------------------------------------------

@pytest.mark.parametrize("role, project, path, expected", [
    ("admin", "demo", "/os-quota-sets/demo", 200),
    ("member", "demo", "/os-quota-sets/demo", 200),
    ("reader", "demo", "/os-quota-sets/demo", 200),
    ("member", "other", "/os-quota-sets/demo", 403),
    ("reader", "demo", "/os-quota-sets/demo/detail", 200),
    ("member", "other", "/os-quota-sets/demo/detail", 403),
    ("member", "other", "/os-quota-sets/demo/defaults", 200),
    ("admin", "demo", "/os-quota-class-sets/default", 200),
    ("member", "demo", "/os-quota-class-sets/default", 403),
    ("reader", "demo", "/limits", 200),
    ("member", "other", "/limits", 200),
])
def test_who_reads_quotas(admin, role, project, path, expected):
    assert api(as_role(admin, role, project), "GET", path).status_code == expected


@pytest.mark.parametrize("role, expected", [("admin", 200), ("member", 403), ("reader", 403)])
def test_only_admins_change_quotas(admin, role, expected):
    user = as_role(admin, role)
    body = {"quota_set": {"instances": 5}}
    assert api(user, "PUT", "/os-quota-sets/demo", json=body).status_code == expected
    assert api(user, "PUT", "/os-quota-class-sets/default",
               json={"quota_class_set": {"instances": 5}}).status_code == expected
    assert api(user, "DELETE", "/os-quota-sets/demo").status_code == (
        202 if expected == 200 else 403)


# --- enforcement ------------------------------------------------------------------------------

def test_boot_over_the_instances_quota_is_a_403_and_leaves_nothing(admin, demo, image):
    set_quota(admin, instances=2)
    assert boot(demo, image).status_code == 202
    assert boot(demo, image).status_code == 202
    assert fault(boot(demo, image)) == (
        403, "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances")
    assert len(demo.list_servers()) == 2


def test_several_resources_over_are_named_together(admin, demo, image):
    set_quota(admin, instances=1, cores=1, ram=100)
    boot(demo, image)
    assert fault(boot(demo, image, flavor=MICRO)) == (
        403, "Quota exceeded for instances, cores, ram: Requested 1, 1, 128, but already "
             "used 1, 1, 64 of 1, 1, 100 instances, cores, ram")


def test_min_and_max_count_take_what_still_fits(admin, demo, image):
    set_quota(admin, instances=3)
    assert boot(demo, image, min_count=1, max_count=5).status_code == 202
    assert len(demo.list_servers()) == 3
    assert fault(boot(demo, image, min_count=2, max_count=4)) == (
        403, "Quota exceeded for instances: Requested 2-4, but already used 3 of 3 instances")


def test_the_ram_quota_counts_flavors(admin, demo, image):
    set_quota(admin, ram=100)
    assert fault(boot(demo, image, flavor=MICRO)) == (
        403, "Quota exceeded for ram: Requested 128, but already used 0 of 100 ram")


def test_metadata_items_over_a_projects_quota(admin, demo, image):
    set_quota(admin, metadata_items=2)
    assert fault(boot(demo, image, metadata={"a": "1", "b": "2", "c": "3"})) == (
        403, "Maximum number of metadata items exceeds 2")
    assert demo.list_servers() == []


def test_a_resize_needs_quota_for_the_growth(admin, demo, image):
    CONF.set_override("allow_resize_to_same_host", True)
    server = demo.create_server("vm", image["id"], NANO)
    helpers.wait_for_status(demo, server["id"], "ACTIVE")
    set_quota(admin, cores=1, ram=100)
    response = helpers.server_action(demo, server["id"], {"resize": {"flavorRef": MEDIUM}})
    assert fault(response) == (
        403, "Quota exceeded for cores, ram: Requested 1, 4032, but already used 1, 64 of "
             "1, 100 cores, ram")
    assert helpers.wait_for_settled(demo, server["id"], "ACTIVE")["flavor"]["id"] == NANO


def test_reverting_a_resize_down_needs_quota_too(admin, demo, image):
    CONF.set_override("allow_resize_to_same_host", True)
    server = demo.create_server("vm", image["id"], MICRO)
    helpers.wait_for_status(demo, server["id"], "ACTIVE")
    helpers.server_action(demo, server["id"], {"resize": {"flavorRef": NANO}})
    helpers.wait_for_settled(demo, server["id"], "VERIFY_RESIZE")
    set_quota(admin, ram=64)
    assert fault(helpers.server_action(demo, server["id"], {"revertResize": None})) == (
        403, "Quota exceeded for ram: Requested 64, but already used 64 of 64 ram")


def test_key_pairs_over_quota(admin, demo):
    set_quota(admin, key_pairs=1)
    assert api(demo, "POST", "/os-keypairs", json={"keypair": {"name": "one"}}
               ).status_code == 200
    assert fault(api(demo, "POST", "/os-keypairs", json={"keypair": {"name": "two"}})) == (
        403, "Quota exceeded, too many key pairs.")


def test_server_groups_and_their_members_over_quota(admin, demo, image):
    set_quota(admin, server_groups=1, server_group_members=1)
    body = {"server_group": {"name": "g", "policies": ["anti-affinity"]}}
    group = api(demo, "POST", "/os-server-groups", json=body).json()["server_group"]
    assert fault(api(demo, "POST", "/os-server-groups", json=body)) == (
        403, "Quota exceeded, too many server groups.")
    def boot_in_group(count):
        server = {"name": "vm", "imageRef": image["id"], "flavorRef": NANO,
                  "min_count": count}
        return api(demo, "POST", "/servers",
                   json={"server": server, "os:scheduler_hints": {"group": group["id"]}})

    assert fault(boot_in_group(2)) == (403, "Quota exceeded, too many servers in group")
    assert demo.list_servers() == []
    assert boot_in_group(1).status_code == 202
    assert fault(boot_in_group(1)) == (403, "Quota exceeded, too many servers in group")
    assert api(demo, "GET", "/limits").json()["limits"]["absolute"][
        "totalServerGroupsUsed"] == 1


# --- the recheck: racing requests -------------------------------------------------------------

def all_rows(project_id):
    """Every instances row of the project, deleted ones included."""
    return db.instance_get_all_by_filters(mn_context.get_admin_context(),
                                          project_id=project_id, read_deleted=True)


def test_twenty_boots_at_once_never_pass_a_quota_of_ten(demo, image):
    answers = []
    barrier = threading.Barrier(20)

    def one_boot(index):
        barrier.wait()
        answers.append(boot(demo, image, name=f"race-{index}"))

    threads = [threading.Thread(target=one_boot, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    accepted = [a for a in answers if a.status_code == 202]
    refused = [a for a in answers if a.status_code != 202]
    assert len(answers) == 20
    assert 1 <= len(accepted) <= 10
    for answer in refused:
        status, message = fault(answer)
        assert status == 403
        assert message.startswith("Quota exceeded for instances: Requested 1, but already "
                                  "used "), message
    # Nothing half-built: the accepted ones are all there is, and they build.
    assert len(all_rows("demo")) == len(accepted)
    helpers.wait_for_all(demo, len(accepted), "ACTIVE", timeout=60)


def test_the_recheck_undoes_what_a_race_let_through(admin, demo, image, monkeypatch):
    """A request whose first count came before another's rows (simulated:
    its first count is skipped) is refused by the second count, and its
    rows are gone."""
    set_quota(admin, instances=1)
    boot(demo, image, name="first")
    monkeypatch.setattr(quota, "check_num_instances",
                        lambda context, flavor, min_count, max_count, project_id=None:
                        max_count)
    assert fault(boot(demo, image, name="second")) == (
        403, "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances")
    assert [row["display_name"] for row in all_rows("demo")] == ["first"]


def test_without_the_recheck_a_race_gets_through(admin, demo, image, monkeypatch):
    """What ``[quota] recheck_quota = False`` trades away."""
    CONF.set_override("recheck_quota", False, "quota")
    set_quota(admin, instances=1)
    boot(demo, image, name="first")
    monkeypatch.setattr(quota, "check_num_instances",
                        lambda context, flavor, min_count, max_count, project_id=None:
                        max_count)
    assert boot(demo, image, name="second").status_code == 202


def test_ten_key_pairs_at_once_never_pass_a_quota_of_three(admin, demo):
    set_quota(admin, key_pairs=3)
    answers = []
    barrier = threading.Barrier(10)

    def one(index):
        barrier.wait()
        answers.append(api(demo, "POST", "/os-keypairs",
                           json={"keypair": {"name": f"k{index}"}}))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    accepted = [a for a in answers if a.status_code == 200]
    assert 1 <= len(accepted) <= 3
    assert all(fault(a) == (403, "Quota exceeded, too many key pairs.")
               for a in answers if a.status_code != 200)
    assert len(api(demo, "GET", "/os-keypairs").json()["keypairs"]) == len(accepted)


def test_the_key_pair_recheck_takes_the_new_one_back(admin, demo, monkeypatch):
    set_quota(admin, key_pairs=1)
    api(demo, "POST", "/os-keypairs", json={"keypair": {"name": "first"}})
    real_check = quota.check_key_pairs
    # The first count (delta 1) missed the other key pair; the recheck does not.
    monkeypatch.setattr(quota, "check_key_pairs",
                        lambda context, user_id, delta=1:
                        None if delta else real_check(context, user_id, delta))
    assert fault(api(demo, "POST", "/os-keypairs", json={"keypair": {"name": "second"}})) == (
        403, "Quota exceeded, too many key pairs.")
    names = [k["keypair"]["name"] for k in api(demo, "GET", "/os-keypairs").json()["keypairs"]]
    assert names == ["first"]


def test_the_server_group_recheck_takes_the_new_one_back(admin, demo, monkeypatch):
    set_quota(admin, server_groups=1)
    body = {"server_group": {"name": "g", "policies": ["affinity"]}}
    api(demo, "POST", "/os-server-groups", json=body)
    real_check = quota.check_server_groups
    monkeypatch.setattr(quota, "check_server_groups",
                        lambda context, delta=1: None if delta else real_check(context, delta))
    assert fault(api(demo, "POST", "/os-server-groups", json=body)) == (
        403, "Quota exceeded, too many server groups.")
    assert len(api(demo, "GET", "/os-server-groups").json()["server_groups"]) == 1
