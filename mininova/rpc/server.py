"""The server side: a service's queues, each message run on its endpoints,
its reply, and heartbeats while a monitored call runs (stands for
``oslo_messaging/rpc/server.py``: ``RPCServer`` and its ``_watchdog`` that
sends call-monitor heartbeats; ``oslo_messaging/rpc/dispatcher.py``: the
endpoint that has the method; the reply and its retries while the reply
queue is missing, of ``oslo_messaging/_drivers/amqpdriver.py``; and the
check for second copies, ``_MsgIdCache`` of
``oslo_messaging/_drivers/amqp.py``).

The queues are consumed on the process's one consuming connection
(``Subscription`` in ``consumer.py``). Left out: RPC versions and
namespaces in the dispatch, access policies (``DefaultRPCAccessPolicy``;
here a method starting with ``_``, named in an endpoint's ``NOT_RPC`` or a
periodic task is not called), and executors other than a thread pool
(oslo.messaging's ``threading`` executor is futurist's thread pool; here it
is :class:`_WorkerPool`, a lighter one of the same shape).
"""

import collections
import itertools
import queue
import threading
import time
import uuid

import kombu
from oslo_log import log as logging

from mininova import context as mn_context
from mininova import exception
from mininova.conf import CONF
from mininova.rpc.consumer import Subscription
from mininova.rpc.exceptions import MessageDeliveryFailure, MessageUndeliverable
from mininova.rpc.messages import encode_failure
from mininova.rpc.transport import DEFAULT_EXCHANGE, get_transport

LOG = logging.getLogger(__name__)

# A reply whose queue is missing (its caller is reconnecting) is sent again
# this often, for up to rpc_response_timeout.
MISSING_REPLY_QUEUE_RETRY = 0.25
# How many message ids a server remembers to drop second copies of them.
DUPLICATE_CACHE_SIZE = 1024


class _CallHeartbeat(threading.Thread):
    """While a monitored call is being worked on here, tell its caller so:
    a heartbeat on its reply queue every half ``call_monitor_timeout``
    (oslo.messaging's call-monitor watchdog)."""

    def __init__(self, transport, body):
        super().__init__(name=f"heartbeat-{body['msg_id'][:8]}", daemon=True)
        self.transport = transport
        self.body = body
        self.interval = body["call_monitor_timeout"] / 2
        self._done = threading.Event()

    def run(self):
        heartbeat = {"msg_id": self.body["msg_id"], "heartbeat": True}
        while not self._done.wait(self.interval):
            LOG.debug("Sending call-monitor heartbeat for active call to %(method)s "
                      "(interval=%(interval)i)",
                      {"method": self.body.get("method"), "interval": self.interval})
            try:
                self.transport.publish(heartbeat, self.body["reply_to"], DEFAULT_EXCHANGE,
                                       method="heartbeat", timeout=self.interval,
                                       persistent=False)
            except MessageDeliveryFailure as exc:
                # The broker is away; the next beat may get through.
                LOG.debug("Call-monitor heartbeat failed: %s", exc)

    def stop(self):
        self._done.set()
        self.join()


class _WorkerPool:
    """A server's worker threads: up to ``size`` of them, each started when
    a message comes and no worker is idle, all taking messages from one
    queue (what oslo.messaging's executor, a futurist thread pool, does).

    concurrent.futures' pool did this before; per message it made a Future
    (with its Condition), a work item, and went through two Python-level
    semaphores, on the consuming thread and on the worker. Nobody waits on
    a message's Future here, so a message is a tuple in a ``SimpleQueue``
    and the idle workers are a counter under a lock.
    """

    def __init__(self, size, name):
        self._size = size
        self._name = name
        self._work = queue.SimpleQueue()
        self._threads = []
        # Workers done with their message and not yet given another. Counted
        # as concurrent.futures counts them: a worker that finds a message
        # already queued takes it while still counted idle, which can only
        # happen with every worker started, when none is started anyway.
        self._idle = 0
        self._lock = threading.Lock()
        self._stopping = False

    def submit(self, function, *args):
        """Run ``function(*args)`` on a worker; RuntimeError once shut down."""
        with self._lock:
            if self._stopping:
                raise RuntimeError("cannot run a message after shutdown")
            if self._idle:
                self._idle -= 1
            elif len(self._threads) < self._size:
                worker = threading.Thread(target=self._run, daemon=True,
                                          name=f"{self._name}_{len(self._threads)}")
                self._threads.append(worker)
                worker.start()
        self._work.put((function, args))

    def _run(self):
        while True:
            item = self._work.get()
            if item is None:
                return
            function, args = item
            try:
                function(*args)
            except Exception:  # noqa: BLE001
                # _dispatch handles a method's own errors; this is a bug in it.
                LOG.exception("Unexpected error in an RPC worker")
            del item, function, args  # not kept alive while idle
            with self._lock:
                self._idle += 1

    def shutdown(self, wait=True):
        """Drop the messages no worker has started on, let the running ones
        finish (``wait``: and wait for them)."""
        with self._lock:
            self._stopping = True
            threads = list(self._threads)
        while True:
            try:
                self._work.get_nowait()
            except queue.Empty:
                break
        for _ in threads:
            self._work.put(None)
        if wait:
            for worker in threads:
                if worker is not threading.current_thread():
                    worker.join()


class RPCServer:
    """Consumes ``<topic>``, ``<topic>.<server>`` and the topic's fanout, and
    runs each message's method on the first of ``endpoints`` that has it, in
    a thread pool (the conductor has two endpoints, as in Nova).

    Messages are acknowledged as soon as they arrive, before they run: like
    oslo.messaging, delivery is at most once, so a message whose service dies
    half-way is not run twice; the services' start-up recovery (init_host)
    handles what was left half done.
    """

    _ids = itertools.count(1)

    def __init__(self, topic, server, endpoints, transport=None, executor_size=None):
        self.topic = topic
        self.server = server
        self.endpoints = endpoints
        self.transport = transport or get_transport()
        self._fanout_queue = f"{topic}_fanout_{uuid.uuid4().hex}"
        self._executor = _WorkerPool(executor_size or CONF.executor_thread_pool_size,
                                     f"rpc-{topic}")
        self._consumer = Subscription(f"rpc-{topic}-{next(self._ids)}", self._queues,
                                      self._on_message)
        # The unique ids of the last messages taken, in order (to forget the
        # oldest) and as a set (to look one up without reading them all).
        # Only the consumer thread touches them.
        self._recent_ids = collections.deque()
        self._recent_id_set = set()

    def _queues(self):
        exchange = self.transport.exchange
        fanout = kombu.Exchange(f"{self.topic}_fanout", type="fanout", durable=False)
        return [
            # Shared, durable and kept across restarts of the consumer and
            # of the broker, so that casts sent while a service (or
            # RabbitMQ) restarts wait for it.
            kombu.Queue(self.topic, exchange, routing_key=self.topic,
                        durable=True, auto_delete=False),
            kombu.Queue(f"{self.topic}.{self.server}", exchange,
                        routing_key=f"{self.topic}.{self.server}",
                        durable=True, auto_delete=False),
            kombu.Queue(self._fanout_queue, fanout, durable=False, auto_delete=True),
        ]

    def start(self):
        self.transport.consumer().subscribe(self._consumer)
        if not self._consumer.ready.wait(timeout=30):
            LOG.warning("RPC server for topic %s is not consuming yet", self.topic)

    def stop(self):
        self.transport.unsubscribe(self._consumer)
        self._executor.shutdown(wait=True)

    def _on_message(self, body, message):
        message.ack()
        unique_id = body.get("unique_id")
        if unique_id is not None:
            if unique_id in self._recent_id_set:
                LOG.warning("Dropping a second copy of %s (message %s): its publish was "
                            "retried after the broker had taken it", body.get("method"),
                            unique_id)
                return
            self._remember(unique_id)
        try:
            self._executor.submit(self._dispatch, body)
        except RuntimeError:
            LOG.warning("Dropping %s: the service is stopping", body.get("method"))

    def _remember(self, unique_id):
        self._recent_ids.append(unique_id)
        self._recent_id_set.add(unique_id)
        if len(self._recent_ids) > DUPLICATE_CACHE_SIZE:
            self._recent_id_set.discard(self._recent_ids.popleft())

    def _dispatch(self, body):
        ctxt = mn_context.RequestContext.from_dict(body.get("context", {}))
        ctxt.update_store()
        method = body.get("method", "")
        reply = {"msg_id": body.get("msg_id")}
        heartbeat = None
        if body.get("reply_to") and body.get("call_monitor_timeout"):
            heartbeat = _CallHeartbeat(self.transport, body)
            heartbeat.start()
        try:
            function = self._find_method(method)
            reply["result"] = function(ctxt, **body.get("args", {}))
        except Exception as exc:
            if body.get("reply_to"):
                # The caller will see it; log at debug to keep one error per failure.
                LOG.debug("Exception during message handling of %s: %s", method, exc)
            else:
                LOG.exception("Exception during message handling of cast %s", method)
            reply["failure"] = encode_failure(exc)
        finally:
            if heartbeat is not None:
                # Before the reply: no heartbeat may follow it.
                heartbeat.stop()
            mn_context.clear_current()
        if body.get("reply_to"):
            self._send_reply(body["reply_to"], reply)

    def _find_method(self, name):
        for endpoint in self.endpoints:
            function = getattr(endpoint, name, None)
            if (not name.startswith("_") and callable(function)
                    and name not in endpoint.NOT_RPC
                    and not hasattr(function, "_periodic_spacing")):
                return function
        raise exception.InvalidInput(reason=f"{self.topic} has no RPC method {name!r}")

    def _send_reply(self, reply_to, reply):
        """Send the reply; if its queue is missing (the caller's connection
        is being re-established), again and again for rpc_response_timeout
        (oslo.messaging does the same)."""
        started = time.monotonic()
        while True:
            try:
                self.transport.publish(reply, reply_to, DEFAULT_EXCHANGE, method="reply",
                                       persistent=False, mandatory=True)
                return
            except MessageUndeliverable:
                waited = time.monotonic() - started
                if waited > CONF.rpc_response_timeout:
                    LOG.error("The reply %(msg_id)s failed to send after %(duration)d "
                              "seconds due to a missing queue (%(reply_q)s). Abandoning...",
                              {"msg_id": reply["msg_id"], "duration": waited,
                               "reply_q": reply_to})
                    return
                LOG.debug("The reply %(msg_id)s cannot be sent  %(reply_q)s reply queue "
                          "does not exist, retrying...",
                          {"msg_id": reply["msg_id"], "reply_q": reply_to})
                time.sleep(MISSING_REPLY_QUEUE_RETRY)
            except MessageDeliveryFailure:
                LOG.exception("Could not send the reply to %s after %.1f s", reply_to,
                              time.monotonic() - started)
                return
