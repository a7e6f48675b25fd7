"""mininova-volume's quotas through its REST API: ``os-quota-sets`` (show,
defaults, the admin's update and reset), ``limits``, and the 413s a create,
snapshot or extend gets when it would go over, with nothing left behind."""

from tests.functional.volume.helpers import ADMIN, fault

DEFAULTS = {"volumes": 10, "snapshots": 10, "gigabytes": 1000, "backups": 10,
            "backup_gigabytes": 1000, "groups": 10, "per_volume_gigabytes": -1,
            "volumes___DEFAULT__": -1, "gigabytes___DEFAULT__": -1,
            "snapshots___DEFAULT__": -1}


def set_quota(http, project="demo", **limits):
    response = http.put(f"/os-quota-sets/{project}", json={"quota_set": limits}, user=ADMIN)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["quota_set"]


def volume_count(http):
    return len(http.get("/volumes").get_json()["volumes"])


def test_a_project_sees_cinders_defaults_and_its_usage(http):
    shown = http.get("/os-quota-sets/demo").get_json()["quota_set"]
    assert shown == {"id": "demo", **DEFAULTS}
    assert http.get("/os-quota-sets/demo/defaults").get_json()["quota_set"] == shown
    volume = http.create_volume(size=2)
    http.create_snapshot(volume["id"])
    usage = http.get("/os-quota-sets/demo?usage=True").get_json()["quota_set"]
    assert usage["volumes"] == {"limit": 10, "in_use": 1, "reserved": 0, "allocated": 0}
    assert usage["gigabytes"]["in_use"] == 4  # the volume and its snapshot
    assert usage["snapshots___DEFAULT__"]["in_use"] == 1


def test_the_admin_sets_and_resets_a_projects_quotas(http):
    assert set_quota(http, volumes=1, gigabytes=5)["volumes"] == 1
    assert http.get("/os-quota-sets/demo").get_json()["quota_set"]["gigabytes"] == 5
    assert http.delete("/os-quota-sets/demo", user=ADMIN).status_code == 200
    assert http.get("/os-quota-sets/demo").get_json()["quota_set"]["volumes"] == 10


def test_only_the_admin_updates_and_nobody_reads_another_projects(http):
    response = http.put("/os-quota-sets/demo", json={"quota_set": {"volumes": 50}})
    assert fault(response)[:2] == ("forbidden", 403)
    assert fault(http.get("/os-quota-sets/admin"))[:2] == ("forbidden", 403)
    assert http.get("/os-quota-sets/demo", user=ADMIN).status_code == 200


def test_bad_updates_say_what_is_wrong(http):
    response = http.put("/os-quota-sets/demo", json={"quota_set": {"cores": 5}}, user=ADMIN)
    assert fault(response) == ("badRequest", 400,
                               "Invalid input received: Bad key(s) in quota set: cores")
    response = http.put("/os-quota-sets/demo", json={"quota_set": {"volumes": -2}}, user=ADMIN)
    assert fault(response) == ("badRequest", 400, "Invalid input received: volumes must be >= -1")
    http.create_volume()
    http.create_volume()
    response = http.put("/os-quota-sets/demo", json={"quota_set": {"volumes": 1}}, user=ADMIN)
    assert fault(response) == (
        "badRequest", 400, "Quota volumes limit must be equal or greater than existing resources.")


def test_a_volume_over_the_count_is_413_and_not_made(http):
    set_quota(http, volumes=1)
    http.create_volume()
    response = http.post("/volumes", json={"volume": {"size": 1}})
    assert fault(response) == ("overLimit", 413, "Maximum number of volumes allowed (1) "
                                                 "exceeded for quota 'volumes'.")
    assert response.headers["Retry-After"] == "0"
    assert volume_count(http) == 1


def test_a_volume_over_the_gigabytes_is_413(http):
    set_quota(http, gigabytes=3)
    http.create_volume(size=2)
    response = http.post("/volumes", json={"volume": {"size": 2}})
    assert fault(response) == (
        "overLimit", 413, "Requested volume or snapshot exceeds allowed gigabytes quota. "
                          "Requested 2G, quota is 3G and 2G has been consumed.")
    assert volume_count(http) == 1


def test_a_volume_larger_than_per_volume_gigabytes_is_413(http):
    set_quota(http, per_volume_gigabytes=1)
    response = http.post("/volumes", json={"volume": {"size": 2}})
    assert fault(response) == ("overLimit", 413, "Requested volume size 2G is larger than "
                                                 "maximum allowed limit 1G.")
    assert volume_count(http) == 0


def test_a_per_type_limit_counts_that_types_volumes(http):
    set_quota(http, volumes___DEFAULT__=1)
    http.create_volume()
    response = http.post("/volumes", json={"volume": {"size": 1}})
    assert fault(response)[2] == ("Maximum number of volumes allowed (1) exceeded for quota "
                                  "'volumes___DEFAULT__'.")


def test_a_snapshot_over_quota_is_413_and_its_volume_untouched(http):
    volume = http.create_volume(size=2)
    set_quota(http, snapshots=0)
    response = http.post("/snapshots", json={"snapshot": {"volume_id": volume["id"]}})
    assert fault(response) == ("overLimit", 413,
                               "Maximum number of snapshots allowed (0) exceeded")
    set_quota(http, snapshots=10, gigabytes=3)
    response = http.post("/snapshots", json={"snapshot": {"volume_id": volume["id"]}})
    assert fault(response)[:2] == ("overLimit", 413)
    assert http.get("/snapshots").get_json()["snapshots"] == []
    assert http.volume(volume["id"])["status"] == "available"


def test_an_extend_over_the_gigabytes_is_413_and_the_volume_stays_available(http):
    volume = http.create_volume(size=1)
    set_quota(http, gigabytes=2)
    response = http.post(f"/volumes/{volume['id']}/action",
                         json={"os-extend": {"new_size": 3}})
    assert fault(response) == (
        "overLimit", 413, "Requested volume or snapshot exceeds allowed gigabytes quota. "
                          "Requested 2G, quota is 2G and 1G has been consumed.")
    shown = http.volume(volume["id"])
    assert (shown["status"], shown["size"]) == ("available", 1)


def test_limits_show_the_callers_absolute_limits_and_usage(http):
    set_quota(http, volumes=4)
    http.create_volume(size=2)
    limits = http.get("/limits").get_json()["limits"]
    assert limits["rate"] == []
    assert limits["absolute"] == {
        "maxTotalVolumes": 4, "maxTotalSnapshots": 10, "maxTotalVolumeGigabytes": 1000,
        "maxTotalBackups": 10, "maxTotalBackupGigabytes": 1000, "totalVolumesUsed": 1,
        "totalSnapshotsUsed": 0, "totalGigabytesUsed": 2, "totalBackupsUsed": 0,
        "totalBackupGigabytesUsed": 0}
