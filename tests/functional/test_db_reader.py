"""``db.reader()``: one request's reads in one transaction (Nova's
enginefacade readers nest the same way), on a real SQLite file."""

import threading

import pytest
from sqlalchemy import event

from mininova import context as mn_context
from mininova.db import api as db
from mininova.db import block_devices as bdm_db
from mininova.db import migration
from tests.functional.helpers import wait_for_all

UUID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def instance(conf):
    migration.db_sync()
    return db.instance_create(mn_context.get_admin_context(), {
        "uuid": UUID, "vm_state": "active", "task_state": None,
        "project_id": "demo", "user_id": "demo", "flavor": {}})


@pytest.fixture
def begins():
    """The transactions the engine began, by the name of the thread that
    began each (the in-process cloud's services have threads of their own)."""
    count = []
    engine = db.get_engine()

    def on_begin(_connection):
        count.append(threading.current_thread().name)

    event.listen(engine, "begin", on_begin)
    yield count
    event.remove(engine, "begin", on_begin)


def test_reads_inside_a_reader_share_its_transaction(instance, begins):
    ctxt = mn_context.get_admin_context()
    with db.reader():
        db.instance_get_by_uuid(ctxt, UUID)
        bdm_db.bdm_get_all_by_instance(ctxt, UUID)
        with db.reader():  # nested: still the same one
            db.instance_get_by_uuid(ctxt, UUID)
    assert len(begins) == 1
    # Outside it, each read has its own again.
    db.instance_get_by_uuid(ctxt, UUID)
    db.instance_get_by_uuid(ctxt, UUID)
    assert len(begins) == 3


def test_a_writer_inside_a_reader_commits_on_its_own(instance, begins):
    ctxt = mn_context.get_admin_context()
    with db.reader():
        db.instance_get_by_uuid(ctxt, UUID)
        db.instance_update(ctxt, UUID, {"display_name": "renamed"})
    assert len(begins) >= 2
    assert db.instance_get_by_uuid(ctxt, UUID)["display_name"] == "renamed"


def test_an_error_in_a_reader_leaves_no_transaction_behind(instance, begins):
    ctxt = mn_context.get_admin_context()
    with pytest.raises(RuntimeError), db.reader():
        db.instance_get_by_uuid(ctxt, UUID)
        raise RuntimeError("boom")
    before = len(begins)
    db.instance_get_by_uuid(ctxt, UUID)
    assert len(begins) == before + 1


def test_a_server_is_shown_from_one_transaction(cloud, admin, image, begins):
    """GET /servers/<id> reads the instance and its block device mappings
    (and, at other versions or states, its faults, tags and host's
    service) in the API's request thread: one transaction for all."""
    server = admin.create_server("one-read", image["id"], "42")
    wait_for_all(admin, 1, "ACTIVE")
    begins.clear()
    assert admin.get_server(server["id"])["id"] == server["id"]
    assert len([name for name in begins if name.startswith("waitress")]) == 1


def test_a_projects_quota_limits_are_read_in_one_transaction(conf, begins):
    """The class's limits and the project's own: a POST /servers reads
    them three times (instances, metadata items, the recheck)."""
    from mininova import quota
    from mininova.db import quotas as quotas_db

    migration.db_sync()
    ctxt = mn_context.get_admin_context()
    quotas_db.quota_class_set(ctxt, "default", "instances", 20)
    quotas_db.quota_set(ctxt, "demo", "cores", 7)
    begins.clear()
    limits = quota.get_project_limits(ctxt, "demo")
    assert len(begins) == 1
    assert limits["instances"] == 20 and limits["cores"] == 7
    assert limits["ram"] == conf.quota.ram
