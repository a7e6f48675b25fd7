"""The network service's quotas (mininova/network/quota.py): Neutron's
/v2.0/quotas API and the 409 OverQuota of a create past the limit, with
nothing made."""

from tests.functional.network.conftest import neutron_error

DEFAULTS = {"network": 100, "subnet": 100, "port": 500, "security_group": 10,
            "security_group_rule": 100}


def set_quota(admin, project="demo", **limits):
    response = admin.put(f"quotas/{project}", {"quota": limits})
    assert response.status_code == 200, response.text
    return response.json()["quota"]


def test_a_project_reads_its_quota_defaults_and_usage(demo):
    assert demo.get("quotas/demo").json() == {"quota": DEFAULTS}
    assert demo.get("quotas/demo/default").json() == {"quota": DEFAULTS}
    demo.network_with_subnet()
    details = demo.get("quotas/demo/details").json()["quota"]
    assert details["network"] == {"limit": 100, "used": 1, "reserved": 0}
    assert details["subnet"]["used"] == 1


def test_the_admin_sets_lists_and_resets_quotas(admin):
    assert set_quota(admin, port=5)["port"] == 5
    listed = admin.get("quotas").json()["quotas"]
    assert listed == [{"project_id": "demo", "tenant_id": "demo", **DEFAULTS, "port": 5}]
    assert admin.delete("quotas/demo").status_code == 204
    assert admin.get("quotas/demo").json()["quota"]["port"] == 500
    assert admin.get("quotas").json()["quotas"] == []


def test_only_the_admin_changes_quotas_and_nobody_reads_others(demo, other):
    neutron_error(demo.put("quotas/demo", {"quota": {"port": 1000}}), 403,
                  "PolicyNotAuthorized")
    neutron_error(other.get("quotas/demo"), 403, "PolicyNotAuthorized")
    neutron_error(demo.get("quotas"), 403, "PolicyNotAuthorized")


def test_bad_quota_updates_say_what_is_wrong(admin, demo):
    message = neutron_error(admin.put("quotas/demo", {"quota": {"router": 5}}), 400,
                            "HTTPBadRequest")
    assert message == "Unrecognized attribute(s) 'router'"
    message = neutron_error(admin.put("quotas/demo", {"quota": {"port": -5}}), 400,
                            "HTTPBadRequest")
    assert message == ("Invalid input for port. Reason: '-5' should be an integer greater "
                       "than or equal to -1.")
    demo.create("network", name="a")
    demo.create("network", name="b")
    message = neutron_error(
        admin.put("quotas/demo", {"quota": {"network": 1, "check_limit": True}}), 400,
        "HTTPBadRequest")
    assert message == ("Quota limit 1 for network must be greater than or equal to already "
                       "used and reserved 2.")
    # force: the admin may set it below what is used; nothing more can be made.
    set_quota(admin, network=1, force=True)
    neutron_error(demo.post("networks", {"network": {"name": "c"}}), 409, "OverQuota")


def test_a_create_past_the_limit_is_409_and_makes_nothing(admin, demo):
    set_quota(admin, network=1, port=1)
    net, _subnet = demo.network_with_subnet()
    message = neutron_error(demo.post("networks", {"network": {"name": "second"}}), 409,
                            "OverQuota")
    assert message == "Quota exceeded for resources: ['network']."
    demo.create("port", network_id=net["id"])
    message = neutron_error(demo.post("ports", {"port": {"network_id": net["id"]}}), 409,
                            "OverQuota")
    assert message == "Quota exceeded for resources: ['port']."
    assert len(demo.get("networks").json()["networks"]) == 1
    assert len(demo.get("ports").json()["ports"]) == 1


def test_unlimited_is_minus_one(admin, demo):
    set_quota(admin, network=-1)
    for name in "abc":
        demo.create("network", name=name)
    assert demo.get("quotas/demo/details").json()["quota"]["network"]["used"] == 3
