"""The database API on a real SQLite file: the compare-and-swap updates
every action relies on, and what their conflicts say."""

import pytest

from mininova import context as mn_context
from mininova import exception
from mininova.db import api as db
from mininova.db import migration


@pytest.fixture
def instance(conf):
    migration.db_sync()
    return db.instance_create(mn_context.get_admin_context(), {
        "uuid": "11111111-2222-3333-4444-555555555555", "vm_state": "stopped",
        "task_state": None, "project_id": "demo", "user_id": "demo", "flavor": {}})


def test_a_vm_state_conflict_names_the_vm_state(instance):
    with pytest.raises(exception.InstanceUpdateConflict) as caught:
        db.instance_update(mn_context.get_admin_context(), instance["uuid"],
                           {"task_state": "pausing"}, expected_task_state=[None],
                           expected_vm_state=["active"])
    assert not isinstance(caught.value, exception.UnexpectedTaskStateError)
    assert caught.value.format_message() == (
        f"Conflict updating instance {instance['uuid']}. "
        "Expected: {'vm_state': ['active']}. Actual: {'vm_state': 'stopped'}")


def test_a_task_state_conflict_names_the_task_state(instance):
    ctxt = mn_context.get_admin_context()
    db.instance_update(ctxt, instance["uuid"], {"task_state": "powering-on"})
    with pytest.raises(exception.UnexpectedTaskStateError) as caught:
        db.instance_update(ctxt, instance["uuid"], {"task_state": "pausing"},
                           expected_task_state=[None], expected_vm_state=["stopped"])
    assert caught.value.format_message().endswith(
        "Expected: {'task_state': [None]}. Actual: {'task_state': 'powering-on'}")


def test_a_delete_in_progress_is_its_own_kind_of_conflict(instance):
    ctxt = mn_context.get_admin_context()
    db.instance_update(ctxt, instance["uuid"], {"task_state": "deleting"})
    with pytest.raises(exception.UnexpectedDeletingTaskStateError):
        db.instance_update(ctxt, instance["uuid"], {"task_state": None},
                           expected_task_state="powering-on")


def test_a_matching_update_returns_the_fresh_row(instance):
    updated = db.instance_update(mn_context.get_admin_context(), instance["uuid"],
                                 {"task_state": "powering-on"}, expected_task_state=[None],
                                 expected_vm_state="stopped")
    assert updated["task_state"] == "powering-on"


def _synchronous():
    with db.get_engine().connect() as connection:
        return connection.exec_driver_sql("PRAGMA synchronous").scalar()


def test_sqlite_syncs_at_checkpoints_not_at_every_commit_by_default(conf):
    # 1 is NORMAL: with the write-ahead log, consistent through any crash.
    assert _synchronous() == 1


def test_sqlite_syncs_every_commit_when_asked(conf):
    conf.set_override("sqlite_synchronous", True, "database")
    assert _synchronous() == 2  # FULL
