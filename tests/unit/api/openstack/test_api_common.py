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
