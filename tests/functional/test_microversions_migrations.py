"""GET /os-migrations (every resize and cold migration, admin only) and
/servers/<id>/migrations (live migrations in progress: none in mininova)
across their microversions: migration_type (2.23), uuid and paging (2.59),
changes-before (2.66)."""

import uuid

import pytest

from tests.functional import helpers
from tests.functional.helpers import api

NANO, MICRO = "42", "84"


@pytest.fixture
def resized(admin, image, conf):
    """A server resized in place (one host), confirmed: one migration."""
    conf.set_override("allow_resize_to_same_host", True)
    created = admin.create_server("vm", image["id"], NANO)
    server = helpers.wait_for_status(admin, created["id"], "ACTIVE")
    response = api(admin, "POST", f"/servers/{server['id']}/action",
                   json={"resize": {"flavorRef": MICRO}})
    assert response.status_code == 202, response.text
    helpers.wait_for_settled(admin, server["id"], "VERIFY_RESIZE")
    return server


def migrations(client, version, **params):
    response = api(client, "GET", "/os-migrations", version, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_v2_1_body(admin, resized):
    [migration] = migrations(admin, None)["migrations"]
    assert set(migration) == {"created_at", "dest_compute", "dest_host", "dest_node", "id",
                              "instance_uuid", "new_instance_type_id", "old_instance_type_id",
                              "source_compute", "source_node", "status", "updated_at"}
    assert (migration["instance_uuid"], migration["status"]) == (resized["id"], "finished")
    assert (migration["source_compute"], migration["dest_compute"]) == ("host1", "host1")


def test_2_23_migration_type_and_2_59_uuid(admin, resized):
    [v223] = migrations(admin, "2.23")["migrations"]
    assert v223["migration_type"] == "resize" and "uuid" not in v223
    [v259] = migrations(admin, "2.59")["migrations"]
    assert uuid.UUID(v259["uuid"])


def test_filters(admin, resized):
    assert len(migrations(admin, None, instance_uuid=resized["id"])["migrations"]) == 1
    assert migrations(admin, None, status="confirmed")["migrations"] == []
    assert len(migrations(admin, None, host="host1")["migrations"]) == 1
    assert migrations(admin, None, migration_type="migration")["migrations"] == []


def test_2_59_paging_and_2_66_changes_before(admin, resized):
    admin.session.post(f"{admin.compute_url}/servers/{resized['id']}/action",
                       json={"confirmResize": None})
    helpers.wait_for_settled(admin, resized["id"], "ACTIVE")
    api(admin, "POST", f"/servers/{resized['id']}/action", json={"resize": {"flavorRef": NANO}})
    helpers.wait_for_settled(admin, resized["id"], "VERIFY_RESIZE")
    every = migrations(admin, "2.59")["migrations"]
    assert len(every) == 2
    page = migrations(admin, "2.59", limit="1")
    assert page["migrations"] == every[:1]
    assert f"marker={every[0]['uuid']}" in page["migrations_links"][0]["href"]
    assert migrations(admin, "2.59", limit="1", marker=every[0]["uuid"])["migrations"] == (
        every[1:])
    response = api(admin, "GET", "/os-migrations", "2.59", params={"marker": "nope"})
    assert (response.status_code, response.json()["badRequest"]["message"]) == (
        400, "Marker nope could not be found.")
    assert api(admin, "GET", "/os-migrations", "2.59",
               params={"changes-before": "2000-01-01T00:00:00Z"}).status_code == 400
    assert migrations(admin, "2.66", **{"changes-before": "2000-01-01T00:00:00Z"})[
        "migrations"] == []


def test_admin_only(demo, resized):
    response = api(demo, "GET", "/os-migrations")
    assert response.json()["forbidden"]["message"] == (
        "Policy doesn't allow os_compute_api:os-migrations:index to be performed.")


def test_2_23_a_servers_live_migrations(admin, resized):
    path = f"/servers/{resized['id']}/migrations"
    assert api(admin, "GET", path, "2.22").status_code == 404
    assert api(admin, "GET", path, "2.23").json() == {"migrations": []}
    [migration] = migrations(admin, None)["migrations"]
    response = api(admin, "GET", f"{path}/{migration['id']}", "2.23")
    assert (response.status_code, response.json()["itemNotFound"]["message"]) == (
        404, f"Migration {migration['id']} for server {resized['id']} is not live-migration.")
    response = api(admin, "GET", f"{path}/999", "2.23")
    assert response.json()["itemNotFound"]["message"] == (
        f"In-progress live migration 999 is not found for server {resized['id']}.")
