"""Events other services send about an instance (mirrors the
``InstanceEvents`` and ``ComputeVirtAPI.wait_for_instance_event`` of
``nova/compute/manager.py`` and its ``external_instance_event``).

The network service tells Nova when a port is ready with an event
``network-vif-plugged-<port id>`` (``POST /os-server-external-events``, which
the API casts to the instance's compute). A boot that plugged a VIF waits
for it before it calls the instance ACTIVE, as Nova's libvirt driver does:

    with self.virtapi.wait_for_instance_event(instance, [("network-vif-plugged",
                                                          port_id)], deadline):
        plug the VIFs, start the guest
    # here every awaited event has arrived, or the deadline's error_callback ran

The waiter is registered *before* the work that triggers the event, so an
event that arrives fast is not missed. An event nobody waits for is logged
``Received unexpected event …`` and dropped, as Nova does; except
``network-changed`` (the network service's word that a port of the
instance changed, sent for every API update of it, the compute's own
binding at a boot included), which nobody waits for: the compute reads
that port again into the instance's cached network info.

Left out: ``volume-extended`` and ``power-update`` events (no volumes here
yet), events for instances being live-migrated.
"""

import contextlib
import threading
import time

from oslo_log import log as logging

from mininova import exception

LOG = logging.getLogger(__name__)


def event_key(name, tag):
    """``network-vif-plugged-<port id>``, an event's name in Nova's logs."""
    return f"{name}-{tag}" if tag else name


class _Waiter:
    def __init__(self):
        self.arrived = threading.Event()
        self.status = None


class InstanceEvents:
    """The events this compute is waiting for, per instance."""

    def __init__(self):
        self._lock = threading.Lock()
        self._waiting = {}  # instance uuid -> {event key: _Waiter}

    def prepare_for_instance_event(self, instance_uuid, name, tag):
        waiter = _Waiter()
        with self._lock:
            self._waiting.setdefault(instance_uuid, {})[event_key(name, tag)] = waiter
        return waiter

    def pop_instance_event(self, instance_uuid, key):
        """The waiter of this event, taken away; None if nobody waits."""
        with self._lock:
            waiters = self._waiting.get(instance_uuid, {})
            waiter = waiters.pop(key, None)
            if not waiters:
                self._waiting.pop(instance_uuid, None)
            return waiter

    def clear_events_for_instance(self, instance_uuid):
        """Forget an instance's waiters (its build or delete is over)."""
        with self._lock:
            return self._waiting.pop(instance_uuid, {})


class ComputeVirtAPI:
    """What the compute offers its virt driver (Nova's ``virtapi``)."""

    def __init__(self, compute):
        self._compute = compute

    @contextlib.contextmanager
    def wait_for_instance_event(self, instance, events, deadline, error_callback):
        """Run the block, then wait up to ``deadline`` seconds (counted from
        the start) for every ``(name, tag)`` of ``events``. A timeout or a
        failed event calls ``error_callback(event_name, instance)``, which
        decides whether the build goes on."""
        started = time.monotonic()
        instance_events = self._compute.instance_events
        waiters = {(name, tag): instance_events.prepare_for_instance_event(
            instance["uuid"], name, tag) for name, tag in events}
        try:
            yield
            for (name, tag), waiter in waiters.items():
                left = max(0.0, deadline - (time.monotonic() - started))
                if not waiter.arrived.wait(left):
                    error_callback(event_key(name, tag), instance)
                elif waiter.status == "failed":
                    error_callback(event_key(name, tag), instance)
        finally:
            for name, tag in events:
                instance_events.pop_instance_event(instance["uuid"], event_key(name, tag))


class ExternalEventsMixin:
    """``external_instance_event``, the RPC method of the compute manager."""

    def external_instance_event(self, context, instances, events):
        by_uuid = {instance["uuid"]: instance for instance in instances}
        for event in events:
            instance = by_uuid[event["server_uuid"]]
            key = event_key(event["name"], event.get("tag"))
            LOG.debug("Received event %(event)s", {"event": key}, instance=instance)
            if event["name"] == "network-changed":
                # Nobody waits for it: it says "read this port again".
                self._refresh_network_info_for_event(context, instance, event, key)
            else:
                self._process_instance_event(instance, event, key)

    def _refresh_network_info_for_event(self, context, instance, event, key):
        LOG.debug("Refreshing instance network info cache due to event %s.", key,
                  instance=instance)
        try:
            self._refresh_vif(context, instance, event["tag"])
        except exception.NotFound as error:
            LOG.info("Failed to process external instance event %(event)s due to: "
                     "%(error)s", {"event": key, "error": error}, instance=instance)

    def _process_instance_event(self, instance, event, key):
        waiter = self.instance_events.pop_instance_event(instance["uuid"], key)
        if waiter is not None:
            LOG.debug("Processing event %(event)s", {"event": key}, instance=instance)
            waiter.status = event.get("status", "completed")
            waiter.arrived.set()
            return
        if (event["name"] == "network-vif-unplugged"
                and instance["task_state"] == "deleting"):
            LOG.debug("Received event %s for instance with task_state %s.", key,
                      instance["task_state"], instance=instance)
            return
        LOG.warning("Received unexpected event %(event)s for instance with vm_state "
                    "%(vm_state)s and task_state %(task_state)s.",
                    {"event": key, "vm_state": instance["vm_state"],
                     "task_state": instance["task_state"]}, instance=instance)
