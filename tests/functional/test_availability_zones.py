"""os-availability-zone: zones come from aggregates (compute hosts) or are
``nova`` by default and ``internal`` for the controller services."""

from mininova import context
from mininova.db import services as services_db


def call(client, method, path, body=None):
    response = client.session.request(method, f"{client.compute_url}{path}", json=body,
                                      timeout=client.timeout)
    return response.status_code, (response.json() if response.content else None)


def zones(client, detail=False):
    status, body = call(client, "GET", "/os-availability-zone" + ("/detail" if detail else ""))
    assert status == 200, body
    return body["availabilityZoneInfo"]


def make_zone(admin, name, zone, host):
    status, body = call(admin, "POST", "/os-aggregates",
                        {"aggregate": {"name": name, "availability_zone": zone}})
    assert status == 200, body
    status, body = call(admin, "POST", f"/os-aggregates/{body['aggregate']['id']}/action",
                        {"add_host": {"host": host}})
    assert status == 200, body


def update_service(host, binary, values):
    ctx = context.get_admin_context()
    service = services_db.service_get_by_host_and_binary(ctx, host, binary)
    services_db.service_update(ctx, service["id"], values)


def test_every_user_sees_the_default_zone(demo):
    assert zones(demo) == [{"zoneName": "nova", "zoneState": {"available": True},
                            "hosts": None}]


def test_an_aggregate_zone_with_a_host_is_a_zone(admin, demo, cloud):
    cloud.start_compute("host2")
    make_zone(admin, "rack2", "az2", "host2")
    # An aggregate zone without hosts makes no zone.
    call(admin, "POST", "/os-aggregates", {"aggregate": {"name": "e", "availability_zone": "az9"}})
    assert [(z["zoneName"], z["zoneState"]["available"]) for z in zones(demo)] == [
        ("az2", True), ("nova", True)]


def test_a_zone_whose_hosts_are_all_disabled_is_not_available(admin, demo, cloud):
    cloud.start_compute("host2")
    make_zone(admin, "rack2", "az2", "host2")
    update_service("host2", "mininova-compute", {"disabled": True})
    assert [(z["zoneName"], z["zoneState"]["available"]) for z in zones(demo)] == [
        ("nova", True), ("az2", False)]
    detail = {z["zoneName"]: z for z in zones(admin, detail=True)}
    assert detail["az2"] == {"zoneName": "az2", "zoneState": {"available": False},
                             "hosts": None}


def test_one_enabled_host_keeps_a_zone_available(admin, demo, cloud):
    cloud.start_compute("host2")
    cloud.start_compute("host3")
    make_zone(admin, "rack2", "az2", "host2")
    call(admin, "POST", "/os-aggregates/1/action", {"add_host": {"host": "host3"}})
    update_service("host2", "mininova-compute", {"disabled": True})
    assert [(z["zoneName"], z["zoneState"]["available"]) for z in zones(demo)] == [
        ("az2", True), ("nova", True)]
    # The detail lists the zone's enabled services only.
    detail = {z["zoneName"]: z for z in zones(admin, detail=True)}
    assert list(detail["az2"]["hosts"]) == ["host3"]


def test_detail_shows_hosts_and_services_with_the_internal_zone(admin, cloud):
    cloud.start_compute("host2")
    make_zone(admin, "rack2", "az2", "host2")
    detail = zones(admin, detail=True)
    assert [z["zoneName"] for z in detail] == ["az2", "internal", "nova"]
    by_name = {z["zoneName"]: z for z in detail}
    assert list(by_name["nova"]["hosts"]) == ["host1"]
    compute = by_name["nova"]["hosts"]["host1"]["mininova-compute"]
    assert (compute["available"], compute["active"]) == (True, True)
    assert compute["updated_at"].endswith("Z")
    assert list(by_name["az2"]["hosts"]) == ["host2"]
    internal = {binary for services in by_name["internal"]["hosts"].values()
                for binary in services}
    assert internal == {"mininova-conductor", "mininova-scheduler"}
    assert all(z["zoneState"] == {"available": True} for z in detail)


def test_detail_says_when_a_service_is_down(admin):
    update_service("host1", "mininova-compute", {"forced_down": True})
    [nova] = [z for z in zones(admin, detail=True) if z["zoneName"] == "nova"]
    assert nova["hosts"]["host1"]["mininova-compute"]["available"] is False
    assert nova["hosts"]["host1"]["mininova-compute"]["active"] is True


def test_detail_is_for_admins(demo):
    status, body = call(demo, "GET", "/os-availability-zone/detail")
    assert status == 403
    assert body["forbidden"]["message"] == (
        "Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed.")
