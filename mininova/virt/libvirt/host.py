"""The connection to libvirtd and its lifecycle events (mirrors
``nova/virt/libvirt/host.py``).

One connection per compute service, opened at start and reopened if
libvirtd restarts. libvirt-python releases the GIL during calls, so the
build threads can share it.

Lifecycle events
----------------
libvirtd tells its clients when a guest starts, stops, pauses or resumes,
whoever caused it: the compute itself, a user in ``virsh``, or the guest
(``poweroff`` inside it). The compute manager logs them as ``VM Started
(Lifecycle Event)`` and brings the database in line. Three threads carry
them there:

1. libvirt's default event loop (``virEventRegisterDefaultImpl``, once per
   process and *before* any connection is opened, or that connection never
   hears of events; then ``virEventRunDefaultImpl`` in a daemon thread).
   It calls :meth:`Host._lifecycle_callback`, which only turns libvirt's
   (event, detail) into a transition and queues it: no libvirt call, no
   lock, nothing that can block the loop every connection of the process
   depends on (keepalives included);
2. the Host's dispatcher thread takes events off the queue, keeps those of
   the guests ``guest_filter`` accepts (on a libvirtd shared by several
   compute services, the ones naming this host: a libvirt lookup, hence
   here and not in the callback), holds STOPPED back for
   :data:`LIFECYCLE_STOPPED_DELAY` seconds and hands the rest to
   ``lifecycle_event_handler`` (the driver's ``emit_event``);
3. the compute manager's handler then runs in that dispatcher thread.

The callback is registered again on every new connection (a libvirtd
restart loses it). ``close`` stops the dispatcher; libvirt's loop thread
stays, see :func:`start_event_loop`.

Left out: the connection-close callback (Nova disables the compute service
while libvirtd is away; here the next call reconnects), capability caching,
mdev/PCI discovery, the live-migration event details (post-copy, migrated).
"""

import queue
import threading
import time

import libvirt
from oslo_log import log as logging

from mininova import exception
from mininova.virt import driver as virt_driver

LOG = logging.getLogger(__name__)

# A reboot is a STOPPED followed, a moment later, by a STARTED. Reported at
# once, the STOPPED would make the compute believe the guest powered itself
# off and call the stop API on a guest that is coming back. Nova waits 15 s
# for more news of the guest; any newer event of the same guest cancels it.
LIFECYCLE_STOPPED_DELAY = 15

# Asked of the dispatcher thread to end.
_STOP = object()

# libvirt's event loop is one per process (see start_event_loop).
_event_loop_lock = threading.Lock()
_event_loop_thread = None


def lifecycle_transition(event, detail):
    """libvirt's lifecycle ``event`` and ``detail`` as one of the driver's
    EVENT_LIFECYCLE_* transitions, or None for those the compute ignores
    (defined, undefined, the guest's own "shutting down", crashed, which a
    STOPPED follows anyway)."""
    if event == libvirt.VIR_DOMAIN_EVENT_STOPPED:
        if detail == libvirt.VIR_DOMAIN_EVENT_STOPPED_SAVED:
            # managedSave (suspend): its memory is on disk, not lost. Nova
            # reports a plain STOPPED here; we name it what the compute
            # calls it, so the power state becomes SUSPENDED, not SHUTDOWN.
            return virt_driver.EVENT_LIFECYCLE_SUSPENDED
        return virt_driver.EVENT_LIFECYCLE_STOPPED
    if event == libvirt.VIR_DOMAIN_EVENT_STARTED:
        return virt_driver.EVENT_LIFECYCLE_STARTED
    if event == libvirt.VIR_DOMAIN_EVENT_SUSPENDED:
        # libvirt's "suspended" is the vCPUs stopped: Nova's pause.
        return virt_driver.EVENT_LIFECYCLE_PAUSED
    if event == libvirt.VIR_DOMAIN_EVENT_RESUMED:
        return virt_driver.EVENT_LIFECYCLE_RESUMED
    return None


class DelayedStops:
    """Holds STOPPED events back for ``delay`` seconds; any newer event of
    the same guest cancels the one held (it was a reboot, or is old news).
    Kept apart from the thread so the timing can be tested with a clock
    that is only a number."""

    def __init__(self, delay):
        self.delay = delay
        self._held = {}  # uuid -> (when it is due, event)

    def add(self, event, now):
        """The events to report now, given ``event`` just arrived."""
        self._held.pop(event.uuid, None)
        if event.transition == virt_driver.EVENT_LIFECYCLE_STOPPED and self.delay > 0:
            self._held[event.uuid] = (now + self.delay, event)
            return []
        return [event]

    def due(self, now):
        """The held events whose delay is over, oldest first."""
        ready = sorted((due, event.uuid) for due, event in self._held.values() if due <= now)
        return [self._held.pop(uuid)[1] for _due, uuid in ready]

    def seconds_to_next(self, now):
        """How long until the next held event is due; None if none is held."""
        if not self._held:
            return None
        return max(0.0, min(due for due, _event in self._held.values()) - now)

    def clear(self):
        self._held.clear()


def start_event_loop():
    """Register libvirt's default event loop and run it, once per process.

    It must be registered before the connections that want events are
    opened. Once registered, every libvirt connection of the process (and
    its keepalive) relies on the loop running, so it is never stopped: the
    thread is a daemon, ended with the process, as in Nova.
    """
    global _event_loop_thread
    with _event_loop_lock:
        if _event_loop_thread is not None:
            return
        libvirt.virEventRegisterDefaultImpl()
        _event_loop_thread = threading.Thread(target=_run_event_loop,
                                              name="libvirt-event-loop", daemon=True)
        _event_loop_thread.start()


def _run_event_loop():
    while True:
        try:
            libvirt.virEventRunDefaultImpl()
        except libvirt.libvirtError:
            # One failed iteration (a poll interrupted) must not end the
            # loop every connection depends on.
            time.sleep(0.1)


def _ignore_libvirt_error(context, error):
    """libvirt prints every error to stderr by default ("Domain not found"
    for each lookup of a guest that is not there); they reach us as
    exceptions anyway. Nova silences them the same way."""


class Host:
    def __init__(self, uri, lifecycle_event_handler=None, guest_filter=None):
        """``lifecycle_event_handler(LifecycleEvent)`` gets the events of the
        guests for which ``guest_filter(uuid)`` is true (all without one)."""
        libvirt.registerErrorHandler(_ignore_libvirt_error, None)
        self.uri = uri
        self._conn = None
        self._lock = threading.Lock()
        self._lifecycle_event_handler = lifecycle_event_handler
        self._guest_filter = guest_filter
        self._event_queue = queue.Queue()
        self._delayed_stops = DelayedStops(LIFECYCLE_STOPPED_DELAY)
        self._dispatcher = None
        self._callback_id = None

    # --- the connection -------------------------------------------------------

    def initialize(self):
        """Start receiving lifecycle events (when there is a handler for
        them). Call before the first :meth:`get_connection`."""
        if self._lifecycle_event_handler is None or self._dispatcher is not None:
            return
        start_event_loop()
        self._dispatcher = threading.Thread(target=self._dispatch_events,
                                            name="libvirt-event-dispatch", daemon=True)
        self._dispatcher.start()

    def get_connection(self):
        with self._lock:
            if self._conn is None or not self._is_alive():
                self._conn = self._connect()
                if self._dispatcher is not None:
                    # A new connection (libvirtd restarted) has no callbacks.
                    self._register_lifecycle_callback(self._conn)
            return self._conn

    def _is_alive(self):
        try:
            return self._conn.isAlive() == 1
        except libvirt.libvirtError:
            return False

    def _connect(self):
        LOG.debug("Connecting to libvirt: %s", self.uri)
        try:
            return libvirt.open(self.uri)
        except libvirt.libvirtError as exc:
            LOG.error("Connection to libvirt failed: %s", exc)
            raise exception.HypervisorUnavailable(host=self.uri) from exc

    def _register_lifecycle_callback(self, conn):
        try:
            self._callback_id = conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle_callback, None)
        except libvirt.libvirtError as exc:
            self._callback_id = None
            LOG.warning("URI %(uri)s does not support events: %(error)s",
                        {"uri": self.uri, "error": exc})

    def close(self):
        """Stop dispatching events and close the connection."""
        self._stop_dispatcher()
        with self._lock:
            if self._conn is None:
                return
            try:
                if self._callback_id is not None:
                    self._conn.domainEventDeregisterAny(self._callback_id)
            except libvirt.libvirtError:
                pass  # a dead connection has forgotten it already
            self._callback_id = None
            try:
                self._conn.close()
            except libvirt.libvirtError:
                pass
            self._conn = None

    def lookup(self, instance_uuid):
        """The domain whose UUID is the instance's, or None."""
        try:
            return self.get_connection().lookupByUUIDString(instance_uuid)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise

    # --- lifecycle events ------------------------------------------------------

    def _lifecycle_callback(self, conn, domain, event, detail, opaque):
        """Runs in libvirt's event loop thread: queue, and nothing else.
        (UUIDString reads the domain object, it does not ask libvirtd.)"""
        transition = lifecycle_transition(event, detail)
        if transition is not None:
            self._event_queue.put(virt_driver.LifecycleEvent(domain.UUIDString(), transition))

    def _stop_dispatcher(self):
        if self._dispatcher is None:
            return
        self._event_queue.put(_STOP)
        self._dispatcher.join(timeout=10)
        self._dispatcher = None
        # Held STOPPED events die with the service, as in Nova.
        self._delayed_stops.clear()

    def _dispatch_events(self):
        while True:
            wait = self._delayed_stops.seconds_to_next(time.monotonic())
            try:
                event = self._event_queue.get(timeout=wait)
            except queue.Empty:
                event = None
            if event is _STOP:
                return
            now = time.monotonic()
            ready = []
            if event is not None and self._wanted(event):
                ready += self._delayed_stops.add(event, now)
            ready += self._delayed_stops.due(now)
            for ready_event in ready:
                self._emit(ready_event)

    def _wanted(self, event):
        if self._guest_filter is None:
            return True
        try:
            return self._guest_filter(event.uuid)
        except Exception:
            LOG.exception("Could not tell whose guest %s is; dropping its event %s",
                          event.uuid, event.name)
            return False

    def _emit(self, event):
        try:
            self._lifecycle_event_handler(event)
        except Exception:
            # A failing handler must not end the thread: later events matter.
            LOG.exception("Exception dispatching event %s", event)
