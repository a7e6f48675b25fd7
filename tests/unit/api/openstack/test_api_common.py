"""status_from_state: the API's ``status`` derived from (vm_state, task_state)."""

import pytest

from mininova.api.openstack.common import status_from_state


@pytest.mark.parametrize("vm_state, task_state, status", [
    ("active", None, "ACTIVE"),
    ("building", None, "BUILD"),
    ("building", "scheduling", "BUILD"),
    ("building", "spawning", "BUILD"),
    ("active", "rebooting", "REBOOT"),
    ("active", "rebooting_hard", "HARD_REBOOT"),
    ("stopped", None, "SHUTOFF"),
    ("stopped", "rebooting_hard", "HARD_REBOOT"),
    ("active", "resize_prep", "RESIZE"),
    ("resized", None, "VERIFY_RESIZE"),
    ("paused", None, "PAUSED"),
    ("suspended", None, "SUSPENDED"),
    ("error", None, "ERROR"),
    ("deleted", None, "DELETED"),
    # Nova keeps the vm_state's status while an action runs that has no status of
    # its own: a server being deleted still shows ACTIVE.
    ("active", "deleting", "ACTIVE"),
    ("active", "powering-off", "ACTIVE"),
    ("stopped", "powering-on", "SHUTOFF"),
])
def test_status_from_state(vm_state, task_state, status):
    assert status_from_state(vm_state, task_state) == status


def test_task_state_defaults_to_none():
    assert status_from_state("active") == "ACTIVE"


def test_an_unknown_vm_state_is_unknown():
    assert status_from_state("no-such-state", None) == "UNKNOWN"


# --- task_and_vm_state_from_status: a ?status= filter, as Nova inverts the map ---

from mininova.api.openstack import common  # noqa: E402


def test_a_status_of_a_vm_state_matches_any_task():
    vm_state, task_state = common.task_and_vm_state_from_status(["SHUTOFF"])
    assert vm_state == ["stopped"]
    assert "default" in task_state


def test_a_status_of_a_task_names_the_task():
    vm_state, task_state = common.task_and_vm_state_from_status(["reboot"])
    assert (vm_state, task_state) == (["active"], ["rebooting"])


def test_an_unknown_status_matches_nothing():
    assert common.task_and_vm_state_from_status(["NOPE"]) == ([], [])


def test_changes_filters_are_naive_utc_and_ordered():
    filters = common.changes_filters({"changes-since": ["2024-05-01T12:00:00+02:00"]})
    assert filters["changes-since"].isoformat() == "2024-05-01T10:00:00"
    with pytest.raises(Exception, match="must be less than or equal"):
        common.changes_filters({"changes-since": ["2024-05-02T00:00:00Z"],
                                "changes-before": ["2024-05-01T00:00:00Z"]})
