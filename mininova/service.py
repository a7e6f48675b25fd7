"""A running service: RPC server, heartbeat and periodic tasks (mirrors
``nova/service.py``), and the WSGI service that serves the REST APIs.

``Service.create(binary, topic, manager)`` builds one; ``start()``:

0. a compute first waits for a conductor to answer (``wait_until_ready``):
   it may have started first;
1. ``manager.init_host()``: start-up checks and recovery;
2. registers (or finds) its row in ``services``: directly in the database
   for the controller services, through the conductor for compute, which
   holds no database credentials;
3. starts consuming ``<topic>``, ``<topic>.<host>`` and the topic's fanout;
4. beats every ``report_interval`` seconds and runs the periodic tasks.

The heartbeat has a thread of its own and holds no lock: a periodic task or
an RPC method that blocks does not delay it. Each beat waits at most
``report_interval`` for the conductor (a reply lost with the broker must not
hold up the next beats), and a failed beat is only logged, once: the service
is *down* only when no beat has arrived for ``service_down_time``
(servicegroup.py).

Left out: forking workers, graceful SIGHUP reload, the service version
column used for rolling upgrades.
"""

import threading
import time

from oslo_log import log as logging

from mininova import context as mn_context
from mininova import exception, rpc, utils
from mininova.conf import CONF

LOG = logging.getLogger(__name__)


class Service:
    def __init__(self, host, binary, topic, manager, service_api, endpoints=None):
        self.host = host
        self.binary = binary
        self.topic = topic
        self.manager = manager
        # What writes our row and heartbeats: the database directly, or the
        # conductor over RPC (compute).
        self.service_api = service_api
        self.endpoints = endpoints or [manager]
        self.service_ref = None
        # Set while heartbeats fail, so that the failure and the recovery
        # are each logged once (Nova's model_disconnected).
        self.model_disconnected = False
        self._rpc_server = None
        self._stopping = threading.Event()
        self._threads = []

    @classmethod
    def create(cls, binary, topic, manager, host=None, endpoints=None):
        # Imported here, and only the one needed: a compute process must not
        # load the database layer at all (the conductor's manager uses it).
        if binary == "mininova-compute":
            from mininova.conductor import api as conductor_api

            service_api = conductor_api.API()
        else:
            # Services holding database credentials run the conductor's
            # methods in-process: the same names, no RPC.
            from mininova.conductor import manager as conductor_manager

            service_api = conductor_manager.ConductorManager()
        return cls(host or CONF.host, binary, topic, manager, service_api, endpoints)

    def start(self):
        LOG.info("Starting %s node (version %s)", self.binary, utils.package_version())
        if hasattr(self.service_api, "wait_until_ready"):
            # A compute's start-up needs the conductor before anything else.
            self.service_api.wait_until_ready(mn_context.get_admin_context())
        self.manager.init_host()
        ctxt = mn_context.get_admin_context()
        self.service_ref = self.service_api.service_register(
            ctxt, self.host, self.binary, self.topic
        )
        self._rpc_server = rpc.RPCServer(self.topic, self.host, self.endpoints)
        self._rpc_server.start()
        LOG.debug("Join ServiceGroup membership for this service %s", self.topic)
        self.manager.post_start_hook()
        self._start_thread(self._heartbeat_loop, "heartbeat")
        self._start_thread(self._periodic_loop, "periodic")

    def _start_thread(self, target, name):
        thread = threading.Thread(target=target, name=f"{self.binary}-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _heartbeat_loop(self):
        # The first beat comes half an interval after start (the row's
        # creation already counts as a beat). Then on a fixed schedule: a
        # slow beat does not push the next ones back.
        next_beat = time.monotonic() + CONF.report_interval / 2
        while not self._stopping.wait(max(0.0, next_beat - time.monotonic())):
            next_beat = max(next_beat + CONF.report_interval, time.monotonic())
            self.report_state()

    def report_state(self):
        """Write one heartbeat (Nova's servicegroup db driver's _report_state)."""
        ctxt = mn_context.get_admin_context()
        try:
            self.service_api.service_heartbeat(ctxt, self.service_ref["id"])
        except exception.ServiceNotFound:
            LOG.warning("The service record of %s on %s was deleted; registering again",
                        self.binary, self.host)
            self.service_ref = self.service_api.service_register(
                ctxt, self.host, self.binary, self.topic)
        except (rpc.MessagingTimeout, rpc.MessageDeliveryFailure) as exc:
            if not self.model_disconnected:
                self.model_disconnected = True
                LOG.warning("Lost connection to mininova-conductor for reporting service "
                            "status: %s", exc)
        except Exception:
            if not self.model_disconnected:
                self.model_disconnected = True
                LOG.exception("model server went away")
        else:
            if self.model_disconnected:
                self.model_disconnected = False
                LOG.info("Recovered from being unable to report status.")

    def _periodic_loop(self):
        while not self._stopping.wait(CONF.periodic_interval):
            ctxt = mn_context.get_admin_context()
            ctxt.update_store()
            self.manager.run_periodic_tasks(ctxt)
            mn_context.clear_current()

    def stop(self):
        self._stopping.set()
        if self._rpc_server:
            self._rpc_server.stop()
        for thread in self._threads:
            thread.join(timeout=10)
        self.manager.cleanup_host()
        LOG.info("Stopped %s on %s", self.binary, self.host)


class WSGIService:
    """Serves a WSGI application (the REST APIs) with waitress."""

    # How often the server loop looks up from its sockets to see if it must stop.
    POLL_SECONDS = 0.2

    def __init__(self, name, app, host, port, threads, max_request_body_size=None,
                 keep_forwarded_headers=False):
        import waitress.server

        self.name = name
        options = {}
        if max_request_body_size:
            options["max_request_body_size"] = max_request_body_size
        if keep_forwarded_headers:
            # waitress drops X-Forwarded-For and the like from a client it
            # was not told to trust; the metadata API reads it (for its log
            # lines: who the signed request is for), never as the address.
            options["clear_untrusted_proxy_headers"] = False
        self._server = waitress.server.create_server(
            app, host=host, port=port, threads=threads, ident=name, **options
        )
        self.port = self._server.effective_port
        self._stopping = threading.Event()
        # Held while the loop closes its sockets, so that stop() never wakes
        # it through a trigger already closed (its fd number may be reused).
        self._closing = threading.Lock()
        self._closed = False
        self._thread = None

    def start(self):
        LOG.info("%s listening on %s:%s", self.name, self._server.effective_host, self.port)
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        self._thread.start()

    def _serve(self):
        from waitress import wasyncore

        while not self._stopping.is_set():
            wasyncore.loop(timeout=self.POLL_SECONDS, map=self._server._map, count=1)
        self._close()

    def _close(self):
        from waitress import wasyncore

        # A worker that finishes a request wakes the loop through the trigger:
        # let the workers end before the trigger closes.
        self._server.task_dispatcher.shutdown(timeout=5)
        # Closed after the loop, never while it waits on them; and all of
        # them: clients' keep-alive connections too, not only the listener.
        with self._closing:
            self._closed = True
            wasyncore.close_all(self._server._map)

    def stop(self):
        with self._closing:
            self._stopping.set()
            if not self._closed:
                # Wake the loop from its select() now, not at its next poll.
                self._server.pull_trigger()
        if self._thread:
            self._thread.join(timeout=10)
        elif not self._closed:
            self._close()  # never started: nothing else will close it


def wait_for_signal(services):
    """Run until SIGTERM or SIGINT, then stop ``services`` in reverse order."""
    import signal

    stop = threading.Event()

    def _handle(signum, _frame):
        LOG.info("Caught %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _handle)
    signal.signal(signal.SIGINT, _handle)
    while not stop.wait(1):
        pass
    for service in reversed(services):
        service.stop()
    rpc.cleanup()

