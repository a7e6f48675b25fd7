"""What the power-state sync does for each (vm_state, guest power state):
Nova's table in _sync_instance_power_state."""

import pytest

from mininova.compute import power_state, power_sync, vm_states

RUNNING, SHUTDOWN, CRASHED = power_state.RUNNING, power_state.SHUTDOWN, power_state.CRASHED
PAUSED, SUSPENDED, NOSTATE = power_state.PAUSED, power_state.SUSPENDED, power_state.NOSTATE


@pytest.mark.parametrize("vm_state, guest, expected", [
    (vm_states.ACTIVE, SHUTDOWN,
     ("Instance shutdown by itself. Calling the stop API.", True)),
    (vm_states.ACTIVE, CRASHED,
     ("Instance shutdown by itself. Calling the stop API.", True)),
    (vm_states.ACTIVE, SUSPENDED,
     ("Instance is suspended unexpectedly. Calling the stop API.", True)),
    (vm_states.STOPPED, RUNNING, ("Instance is not stopped. Calling the stop API.", False)),
    (vm_states.STOPPED, PAUSED, ("Instance is not stopped. Calling the stop API.", False)),
    (vm_states.PAUSED, SHUTDOWN,
     ("Paused instance shutdown by itself. Calling the stop API.", False)),
])
def test_a_guest_off_behind_an_active_server_is_stopped(vm_state, guest, expected):
    assert power_sync.why_stop(vm_state, guest) == expected


@pytest.mark.parametrize("vm_state, guest", [
    (vm_states.ACTIVE, RUNNING),
    (vm_states.ACTIVE, PAUSED),      # logged, ignored
    (vm_states.ACTIVE, NOSTATE),     # logged, ignored
    (vm_states.STOPPED, SHUTDOWN),
    (vm_states.STOPPED, NOSTATE),
    (vm_states.PAUSED, PAUSED),
    (vm_states.SUSPENDED, SHUTDOWN),
    (vm_states.RESIZED, SHUTDOWN),
    (vm_states.BUILDING, NOSTATE),
    (vm_states.ERROR, SHUTDOWN),
])
def test_other_differences_are_only_recorded(vm_state, guest):
    assert power_sync.why_stop(vm_state, guest) is None


def test_every_lifecycle_event_maps_to_a_power_state():
    from mininova.virt import driver

    assert set(power_sync.EVENT_POWER_STATE) == set(driver.EVENT_NAMES)
