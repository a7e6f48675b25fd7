"""Telling Nova what happened to its servers' ports (mirrors
``neutron/notifiers/nova.py`` and ``neutron/notifiers/batch_notifier.py``).

Nova's compute plugs a VIF and then *waits* (``vif_plugging_timeout``) for
the network service to say the port is really up; that message is an
external event, ``POST <compute endpoint>/os-server-external-events``::

    {"events": [{"name": "network-vif-plugged", "server_uuid": "<device_id>",
                 "tag": "<port id>", "status": "completed"}]}

Which events, when (only for ports of servers: ``device_owner``
``compute:…`` and a UUID ``device_id``):

=========================  ===========================================  =========
event                      when                                          status
=========================  ===========================================  =========
``network-vif-plugged``    the port goes ACTIVE (its host's L2 agent     completed
                           saw the tap), from DOWN or BUILD
``network-vif-plugged``    the port goes ERROR                           failed
``network-vif-unplugged``  the port goes from ACTIVE to DOWN (tap gone,  completed
                           or bound elsewhere)
``network-changed``        the port is updated through the API
``network-vif-deleted``    the port is deleted through the API
=========================  ===========================================  =========

Events are sent in batches (``[network] send_events_interval``): the first
goes at once; while it is sent and for the interval after, new events
wait and then go together, so a burst of port changes is one request. A
boot's ``network-vif-plugged`` can therefore wait for the rest of the
window its port's ``network-changed`` (Nova's binding update) opened:
114 ms in one traced boot here, while QEMU was still starting the paused
guest (0.46 s under TCG), so it cost nothing there; on a host where the
start takes less than the window, it would show.

Who the network service is to Nova: with ``[api] auth_strategy =
keystone``, the service user of ``[nova]`` (keystoneauth: ``auth_type =
password``, ``auth_url``, ``username``, ``password``, ``project_name``...)
and the ``compute`` endpoint of the catalog (or ``[nova]
endpoint_override``). With ``noauth2``, the token ``[nova] noauth_token``
(``neutron:service``) and ``X-Roles: service``, sent to ``[nova]
endpoint_override`` or ``http://127.0.0.1:<osapi_compute_listen_port>/v2.1``.
Nova's rule for the call, ``os_compute_api:os-server-external-events:create``,
is ``service_or_admin``.

Left out: the events of floating IPs, ironic notifications.
"""

import queue
import threading
import time

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_log import log as logging

from mininova.network import constants, utils

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

EVENT_STATUS = {constants.PORT_STATUS_ACTIVE: "completed",
                constants.PORT_STATUS_ERROR: "failed",
                constants.PORT_STATUS_DOWN: "completed"}
SEND_ATTEMPTS = 3


class BatchNotifier:
    """Calls ``callback(events)`` with what was queued, at most once per
    ``interval`` seconds, the first time at once."""

    def __init__(self, interval, callback):
        self.interval = interval
        self.callback = callback
        self._pending = queue.Queue()
        self._sending = threading.Lock()

    def queue_event(self, event):
        if not event:
            return
        self._pending.put(event)
        # A short-lived thread per event; only one of them at a time holds
        # the lock and sends, the others see it taken and end at once.
        threading.Thread(target=self._send_pending, name="nova-notifier", daemon=True).start()

    def _send_pending(self):
        if not self._sending.acquire(blocking=False):
            return
        try:
            while not self._pending.empty():
                batch = []
                while not self._pending.empty():
                    batch.append(self._pending.get())
                self.callback(batch)
                # Holding the lock while sleeping lets the next events batch up.
                time.sleep(self.interval)
        finally:
            self._sending.release()
        # An event queued between the last check and the release would
        # otherwise wait for the next one.
        if not self._pending.empty():
            self._send_pending()


class NovaNotifier:
    def __init__(self):
        self.batch_notifier = BatchNotifier(CONF.network.send_events_interval, self.send_events)
        self._adapter = None
        self._lock = threading.Lock()

    # --- deciding what to send ------------------------------------------------

    def record_port_status_changed(self, port, old_status, new_status):
        """A port's status changed from ``old_status``: is that an event?"""
        if not CONF.network.notify_nova_on_port_status_changes:
            return
        if not utils.is_compute_port(port):
            return
        if old_status == constants.PORT_STATUS_ACTIVE and new_status == constants.PORT_STATUS_DOWN:
            name = constants.VIF_UNPLUGGED
        elif (old_status in (constants.PORT_STATUS_DOWN, constants.PORT_STATUS_BUILD)
              and new_status in (constants.PORT_STATUS_ACTIVE, constants.PORT_STATUS_ERROR)):
            name = constants.VIF_PLUGGED
        else:
            LOG.debug("Ignoring state change previous_port_status: %s current_port_status: "
                      "%s port_id %s", old_status, new_status, port["id"])
            return
        self.batch_notifier.queue_event({"server_uuid": port["device_id"], "name": name,
                                         "status": EVENT_STATUS[new_status],
                                         "tag": port["id"]})

    def send_network_change(self, action, original, port):
        """An API call changed (``update_port``) or deleted (``delete_port``)
        a port: Nova refreshes what it knows of the server's network."""
        if not CONF.network.notify_nova_on_port_data_changes:
            return
        if not utils.is_compute_port(port):
            return
        name = constants.VIF_DELETED if action == "delete_port" else constants.NETWORK_CHANGED
        self.batch_notifier.queue_event({"server_uuid": port["device_id"], "name": name,
                                         "tag": port["id"]})

    # --- sending ------------------------------------------------------------------

    def send_events(self, events):
        LOG.debug("Sending events: %s", events)
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                response = self._post(events)
                break
            except ks_exceptions.ConnectFailure as exc:
                if attempt == SEND_ATTEMPTS:
                    LOG.error("Failed to notify nova on events: %s: %s", events, exc)
                    return
                time.sleep(0.2 * attempt)
            except Exception:
                LOG.exception("Failed to notify nova on events: %s", events)
                return
        self._log_response(events, response)

    def _post(self, events):
        headers = {"X-OpenStack-Request-ID": oslo_context.generate_request_id()}
        if CONF.api.auth_strategy != "keystone":
            headers.update({"X-Auth-Token": CONF.nova.noauth_token, "X-Roles": "service"})
        return self._get_adapter().post("/os-server-external-events", json={"events": events},
                                        headers=headers, raise_exc=False)

    def _get_adapter(self):
        with self._lock:
            if self._adapter is None:
                self._adapter = self._make_adapter()
            return self._adapter

    @staticmethod
    def _make_adapter():
        if CONF.api.auth_strategy == "keystone":
            auth = ks_loading.load_auth_from_conf_options(CONF, "nova")
            session = ks_loading.load_session_from_conf_options(CONF, "nova", auth=auth)
            endpoint = CONF.nova.endpoint_override
        else:
            session = ks_session.Session(timeout=CONF.nova.timeout or 30)
            endpoint = (CONF.nova.endpoint_override
                        or f"http://127.0.0.1:{CONF.osapi_compute_listen_port}/v2.1")
        return ks_adapter.Adapter(session, service_type="compute",
                                  interface=CONF.nova.valid_interfaces or "public",
                                  region_name=CONF.nova.region_name,
                                  endpoint_override=endpoint)

    @staticmethod
    def _log_response(events, response):
        if response.status_code == 404:
            LOG.debug("Nova returned NotFound for event: %s", events)
            return
        if response.status_code not in (200, 207):
            LOG.error("Error response returned from nova: %s %s", response.status_code,
                      response.text[:500])
            return
        for event in response.json().get("events", []):
            if event.get("code") == 200:
                LOG.info("Nova event response: %s", event)
            else:
                LOG.warning("Nova event: %s returned with failed status", event)
