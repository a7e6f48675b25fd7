"""Lifecycle events in mininova/virt/libvirt/host.py: libvirt's (event,
detail) → transitions, STOPPED held back and cancelled, the dispatcher
thread's filtering, the callback registered again on every new connection.

No libvirtd: connections and domains are stand-ins, libvirt's event loop is
never started."""

import threading
import time

import libvirt
import pytest

from mininova.virt import driver
from mininova.virt.libvirt import host as libvirt_host

STARTED, STOPPED = driver.EVENT_LIFECYCLE_STARTED, driver.EVENT_LIFECYCLE_STOPPED
PAUSED, RESUMED = driver.EVENT_LIFECYCLE_PAUSED, driver.EVENT_LIFECYCLE_RESUMED
SUSPENDED = driver.EVENT_LIFECYCLE_SUSPENDED


def event(uuid, transition):
    return driver.LifecycleEvent(uuid, transition)


@pytest.mark.parametrize("libvirt_event, detail, expected", [
    (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED, STARTED),
    (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_RESTORED, STARTED),
    (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN, STOPPED),
    (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED, STOPPED),
    (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_SAVED, SUSPENDED),
    (libvirt.VIR_DOMAIN_EVENT_SUSPENDED, libvirt.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED, PAUSED),
    (libvirt.VIR_DOMAIN_EVENT_SUSPENDED, libvirt.VIR_DOMAIN_EVENT_SUSPENDED_IOERROR, PAUSED),
    (libvirt.VIR_DOMAIN_EVENT_RESUMED, libvirt.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED, RESUMED),
    (libvirt.VIR_DOMAIN_EVENT_DEFINED, 0, None),
    (libvirt.VIR_DOMAIN_EVENT_UNDEFINED, 0, None),
    (libvirt.VIR_DOMAIN_EVENT_SHUTDOWN, libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED, None),
    (libvirt.VIR_DOMAIN_EVENT_CRASHED, 0, None),
])
def test_libvirt_events_become_transitions(libvirt_event, detail, expected):
    assert libvirt_host.lifecycle_transition(libvirt_event, detail) == expected


# --- STOPPED held back -------------------------------------------------------------------

def test_a_stopped_event_waits_for_the_delay():
    stops = libvirt_host.DelayedStops(15)
    assert stops.add(event("a", STOPPED), now=100) == []
    assert stops.seconds_to_next(100) == 15
    assert stops.due(114.9) == []
    assert stops.due(115) == [event("a", STOPPED)]
    assert stops.seconds_to_next(116) is None


def test_a_reboot_reports_only_started():
    stops = libvirt_host.DelayedStops(15)
    assert stops.add(event("a", STOPPED), now=100) == []
    assert stops.add(event("a", STARTED), now=101) == [event("a", STARTED)]
    assert stops.due(200) == []


def test_other_guests_do_not_cancel_a_held_stop():
    stops = libvirt_host.DelayedStops(15)
    stops.add(event("a", STOPPED), now=100)
    assert stops.add(event("b", STARTED), now=101) == [event("b", STARTED)]
    assert stops.due(115) == [event("a", STOPPED)]


def test_other_transitions_are_reported_at_once():
    stops = libvirt_host.DelayedStops(15)
    for transition in (STARTED, PAUSED, RESUMED, SUSPENDED):
        assert stops.add(event("a", transition), now=100) == [event("a", transition)]


def test_a_second_stop_restarts_the_wait():
    stops = libvirt_host.DelayedStops(15)
    stops.add(event("a", STOPPED), now=100)
    stops.add(event("a", STOPPED), now=110)
    assert stops.due(120) == []
    assert stops.due(125) == [event("a", STOPPED)]


def test_no_delay_reports_stopped_at_once():
    assert libvirt_host.DelayedStops(0).add(event("a", STOPPED), now=1) == [event("a", STOPPED)]


# --- the Host: callback, dispatcher, connections -----------------------------------------

class FakeDomain:
    def __init__(self, uuid):
        self.uuid = uuid

    def UUIDString(self):
        return self.uuid


class FakeConnection:
    def __init__(self):
        self.alive = True
        self.callbacks = []
        self.closed = False

    def isAlive(self):
        return 1 if self.alive else 0

    def domainEventRegisterAny(self, domain, event_id, callback, opaque):
        assert (domain, event_id) == (None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE)
        self.callbacks.append(callback)
        return len(self.callbacks)

    def domainEventDeregisterAny(self, callback_id):
        self.callbacks[callback_id - 1] = None

    def close(self):
        self.closed = True

    def fire(self, uuid, libvirt_event, detail=0):
        """What libvirt's event loop thread does."""
        for callback in self.callbacks:
            if callback is not None:
                callback(self, FakeDomain(uuid), libvirt_event, detail, None)


@pytest.fixture
def connections(monkeypatch):
    opened = []

    def fake_open(uri):
        opened.append(FakeConnection())
        return opened[-1]
    monkeypatch.setattr(libvirt_host.libvirt, "open", fake_open)
    monkeypatch.setattr(libvirt_host, "start_event_loop", lambda: None)
    return opened


class Received:
    def __init__(self):
        self.events = []
        self._changed = threading.Condition()

    def __call__(self, lifecycle_event):
        with self._changed:
            self.events.append(lifecycle_event)
            self._changed.notify_all()

    def wait_for(self, count, timeout=5):
        with self._changed:
            self._changed.wait_for(lambda: len(self.events) >= count, timeout)
        return self.events


@pytest.fixture
def host(connections, monkeypatch):
    monkeypatch.setattr(libvirt_host, "LIFECYCLE_STOPPED_DELAY", 0.2)
    received = Received()
    ours = {"mine-1", "mine-2"}
    the_host = libvirt_host.Host("qemu:///system", lifecycle_event_handler=received,
                                 guest_filter=lambda uuid: uuid in ours)
    the_host.initialize()
    the_host.get_connection()
    yield the_host, received
    the_host.close()


def test_events_of_this_hosts_guests_reach_the_handler(host, connections):
    the_host, received = host
    conn = connections[0]
    conn.fire("theirs", libvirt.VIR_DOMAIN_EVENT_STARTED)
    conn.fire("mine-1", libvirt.VIR_DOMAIN_EVENT_DEFINED)
    conn.fire("mine-1", libvirt.VIR_DOMAIN_EVENT_STARTED)
    conn.fire("mine-1", libvirt.VIR_DOMAIN_EVENT_SUSPENDED)
    conn.fire("mine-1", libvirt.VIR_DOMAIN_EVENT_STOPPED,
              libvirt.VIR_DOMAIN_EVENT_STOPPED_SAVED)
    assert received.wait_for(3) == [event("mine-1", STARTED), event("mine-1", PAUSED),
                                    event("mine-1", SUSPENDED)]


def test_stopped_comes_after_the_delay_unless_the_guest_starts_again(host, connections):
    the_host, received = host
    conn = connections[0]
    conn.fire("mine-1", libvirt.VIR_DOMAIN_EVENT_STOPPED)      # a reboot...
    conn.fire("mine-1", libvirt.VIR_DOMAIN_EVENT_STARTED)      # ...comes back
    started = time.monotonic()
    conn.fire("mine-2", libvirt.VIR_DOMAIN_EVENT_STOPPED)      # a real stop
    assert received.wait_for(2) == [event("mine-1", STARTED), event("mine-2", STOPPED)]
    assert time.monotonic() - started >= 0.2
    time.sleep(0.3)
    assert len(received.events) == 2


def test_a_failing_handler_does_not_stop_the_dispatcher(connections, monkeypatch):
    received = Received()

    def handler(lifecycle_event):
        received(lifecycle_event)
        raise RuntimeError("the compute choked")
    the_host = libvirt_host.Host("qemu:///system", lifecycle_event_handler=handler)
    the_host.initialize()
    conn = the_host.get_connection()
    conn.fire("a", libvirt.VIR_DOMAIN_EVENT_STARTED)
    conn.fire("b", libvirt.VIR_DOMAIN_EVENT_STARTED)
    assert [e.uuid for e in received.wait_for(2)] == ["a", "b"]
    the_host.close()


def test_a_new_connection_gets_the_callback_again(host, connections):
    the_host, received = host
    connections[0].alive = False          # libvirtd restarted
    new = the_host.get_connection()
    assert new is connections[1]
    new.fire("mine-1", libvirt.VIR_DOMAIN_EVENT_RESUMED)
    assert received.wait_for(1) == [event("mine-1", RESUMED)]


def test_close_stops_the_dispatcher_and_deregisters(connections):
    the_host = libvirt_host.Host("qemu:///system", lifecycle_event_handler=Received())
    the_host.initialize()
    dispatcher = the_host._dispatcher
    conn = the_host.get_connection()
    the_host.close()
    assert not dispatcher.is_alive()
    assert conn.callbacks == [None] and conn.closed


def test_without_a_handler_there_are_no_threads_nor_callbacks(connections):
    the_host = libvirt_host.Host("qemu:///system")
    the_host.initialize()
    conn = the_host.get_connection()
    assert the_host._dispatcher is None and conn.callbacks == []
    the_host.close()
