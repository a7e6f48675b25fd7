"""Remote procedure calls between services, on kombu (stands for oslo.messaging).

Nova's services talk through oslo.messaging; this module keeps its concepts
and names so the message flow reads the same, in a few hundred lines:

* one **topic exchange** (``control_exchange``, ``mininova``) that every
  message is published to;
* per service, a queue ``<topic>`` (any server of that topic may take the
  message: the schedulers share ``scheduler``), a queue ``<topic>.<host>``
  (only that server: ``compute.host1``), and a private queue bound to the
  **fanout** exchange ``<topic>_fanout`` (every server gets a copy);
* **cast**: publish and return (fire and forget, at most once);
* **call**: publish with a ``msg_id`` and the name of this process's reply
  queue ``reply_<uuid hex>``, then wait up to ``rpc_response_timeout`` for the
  answer (or the remote exception) to come back on that queue.

A message is JSON::

    {"method": "build_and_run_instance", "args": {...},
     "context": {"request_id": "req-...", "user_id": ..., ...},
     "msg_id": "<hex>", "reply_to": "reply_<hex>"}      # the last two: calls only

The receiving side rebuilds the request context from ``context`` and makes it
the thread's current one, so its log lines carry the same ``req-…``.

Transports: ``rabbit://user:pass@host:port/vhost`` (RabbitMQ, through kombu's
py-amqp transport) and ``memory://`` (kombu's in-process transport: the
all-in-one mode and the functional tests). Consumers reconnect by themselves
when the broker goes away; publishers retry for a while.

Left out on purpose: RPC version negotiation (``RPC_API_VERSION``,
``can_send_version``), serializers for versioned objects, notifications, the
other drivers (kafka, amqp1), and heartbeats threads of their own.
"""

import itertools
import threading
import time
import traceback
import uuid
from concurrent import futures
from datetime import datetime

import kombu
import kombu.pools
from kombu.pools import producers
from oslo_log import log as logging

from mininova import context as mn_context
from mininova import exception
from mininova.conf import CONF

LOG = logging.getLogger(__name__)

# How long to wait between two attempts to reach a broker that is down.
RECONNECT_INTERVAL_MAX = 5
# kombu's in-memory transport polls its queues; this is the pause between polls.
MEMORY_POLLING_INTERVAL = 0.002
# A consumer wakes this often to notice it should stop (and to send heartbeats).
DRAIN_TIMEOUT = 0.25
# In memory:// the consumer polls every 2 ms anyway, so waking it more often
# costs nothing and lets a service stop at once (tests start and stop the
# whole cloud hundreds of times).
MEMORY_DRAIN_TIMEOUT = 0.02
# Publishing retries this many times (about a minute in all) before giving up.
PUBLISH_MAX_RETRIES = 15


class MessagingTimeout(exception.MininovaException):
    msg_fmt = "Timed out waiting for a reply to message ID %(msg_id)s"
    code = 504


class MessageDeliveryFailure(exception.MininovaException):
    msg_fmt = "Could not publish %(method)s to %(target)s: %(reason)s"
    code = 503


class RemoteError(exception.MininovaException):
    """An exception raised by the remote side that is not one of ours."""

    msg_fmt = "Remote error: %(exc_type)s %(value)s"


# --- encoding --------------------------------------------------------------

def to_primitive(value):
    """Make ``value`` JSON-able: datetimes become ISO 8601 strings."""
    if isinstance(value, dict):
        return {key: to_primitive(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_primitive(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def encode_request(ctxt, method, args, msg_id=None, reply_to=None):
    """The body of a cast (no msg_id) or a call."""
    body = {"method": method, "args": to_primitive(args), "context": ctxt.to_dict()}
    if msg_id:
        body["msg_id"] = msg_id
        body["reply_to"] = reply_to
    return body


def encode_failure(exc):
    """How a remote exception travels back in a reply."""
    return {
        "class": type(exc).__name__,
        "module": type(exc).__module__,
        "message": str(exc),
        "kwargs": to_primitive(getattr(exc, "kwargs", {})),
        "traceback": "".join(traceback.format_exception(exc)),
    }


def decode_failure(failure):
    """Rebuild our own exceptions by class name; wrap anything else."""
    cls = None
    if failure.get("module") == exception.__name__:
        cls = exception.by_name(failure["class"])
    if cls is not None:
        exc = cls(message=failure["message"], **failure.get("kwargs", {}))
    else:
        exc = RemoteError(exc_type=failure["class"], value=failure["message"])
    exc.remote_traceback = failure.get("traceback", "")
    return exc


# --- transport -------------------------------------------------------------

class Transport:
    """A broker URL, the exchange, and the process's reply queue."""

    def __init__(self, url, exchange_name):
        self.url = url
        self.exchange = kombu.Exchange(exchange_name, type="topic", durable=False)
        # kombu calls RabbitMQ's transport "amqp"; oslo.messaging "rabbit".
        self._kombu_url = url.replace("rabbit://", "amqp://", 1)
        if self._kombu_url.rstrip("/") == "memory:":
            self._kombu_url = "memory://localhost/"
        self._transport_options = {}
        self.drain_timeout = DRAIN_TIMEOUT
        if url.startswith("memory://"):
            self._transport_options["polling_interval"] = MEMORY_POLLING_INTERVAL
            self.drain_timeout = MEMORY_DRAIN_TIMEOUT
        # Publishing borrows connections from kombu's pool, keyed by this one.
        self._pool_key = self.connection()
        self._reply_waiter = None
        self._lock = threading.Lock()

    def connection(self):
        return kombu.Connection(
            self._kombu_url,
            transport_options=self._transport_options,
            connect_timeout=5,
        )

    def describe(self):
        """Where the broker is, without the password, for log lines."""
        return self._pool_key.as_uri()

    def publish(self, body, routing_key, exchange=None, method=""):
        exchange = self.exchange if exchange is None else exchange
        try:
            with producers[self._pool_key].acquire(block=True, timeout=60) as producer:
                producer.publish(
                    body,
                    exchange=exchange,
                    routing_key=routing_key,
                    serializer="json",
                    declare=[exchange] if exchange.name else [],
                    retry=True,
                    retry_policy={
                        "max_retries": PUBLISH_MAX_RETRIES,
                        "interval_start": 0.5,
                        "interval_step": 1,
                        "interval_max": RECONNECT_INTERVAL_MAX,
                        "errback": self._log_publish_retry,
                    },
                )
        except Exception as exc:
            raise MessageDeliveryFailure(
                method=method, target=routing_key, reason=exc
            ) from exc

    def _log_publish_retry(self, exc, interval):
        LOG.error(
            "AMQP server on %s is unreachable: %s. Trying again in %d seconds.",
            self.describe(),
            exc,
            interval,
        )

    def reply_waiter(self):
        with self._lock:
            if self._reply_waiter is None:
                self._reply_waiter = ReplyWaiter(self)
                self._reply_waiter.start()
            return self._reply_waiter

    def cleanup(self):
        if self._reply_waiter is not None:
            self._reply_waiter.stop()
            self._reply_waiter = None


_TRANSPORTS = {}
_TRANSPORTS_LOCK = threading.Lock()


def get_transport(url=None, exchange=None):
    """The process-wide Transport for ``url`` (default: CONF.transport_url)."""
    url = url or CONF.transport_url
    exchange = exchange or CONF.control_exchange
    with _TRANSPORTS_LOCK:
        key = (url, exchange)
        if key not in _TRANSPORTS:
            _TRANSPORTS[key] = Transport(url, exchange)
        return _TRANSPORTS[key]


def cleanup():
    """Stop reply consumers and drop the transports (service stop, tests)."""
    with _TRANSPORTS_LOCK:
        for transport in _TRANSPORTS.values():
            transport.cleanup()
        _TRANSPORTS.clear()
        # Close the publishers' pooled connections (and forget the pools).
        kombu.pools.reset()


def reset_memory_broker():
    """Forget every queue and binding of the in-memory broker (tests)."""
    from kombu.transport import memory

    memory.Channel.queues.clear()
    memory.Channel.events.clear()
    memory.Transport.global_state.clear()


# --- consuming, with reconnection ------------------------------------------

class _ConsumerThread(threading.Thread):
    """Consume some queues forever, reconnecting when the broker goes away."""

    def __init__(self, transport, name, make_queues, on_message):
        super().__init__(name=name, daemon=True)
        self.transport = transport
        self._make_queues = make_queues
        self._on_message = on_message
        self._stopping = threading.Event()
        self.ready = threading.Event()

    def run(self):
        failures = 0
        while not self._stopping.is_set():
            try:
                with self.transport.connection() as conn:
                    conn.ensure_connection(max_retries=1)
                    if failures:
                        LOG.info("Reconnected to AMQP server on %s", self.transport.describe())
                    failures = 0
                    self._consume(conn)
            except Exception as exc:  # connection refused, reset, channel closed...
                failures += 1
                interval = min(failures, RECONNECT_INTERVAL_MAX)
                LOG.error(
                    "AMQP server on %s is unreachable: %s. Trying again in %d seconds.",
                    self.transport.describe(),
                    exc,
                    interval,
                )
                self._stopping.wait(interval)

    def _consume(self, conn):
        queues = self._make_queues()
        with conn.Consumer(queues, callbacks=[self._on_message], accept=["json"]):
            self.ready.set()
            while not self._stopping.is_set():
                try:
                    conn.drain_events(timeout=self.transport.drain_timeout)
                except TimeoutError:
                    conn.heartbeat_check()

    def stop(self):
        self._stopping.set()
        self.join(timeout=5)


class ReplyWaiter:
    """The process's ``reply_<uuid>`` queue and the callers waiting on it."""

    def __init__(self, transport):
        self.queue_name = f"reply_{uuid.uuid4().hex}"
        self._waiting = {}
        self._lock = threading.Lock()
        self._thread = _ConsumerThread(
            transport, self.queue_name, self._queues, self._on_reply
        )

    def _queues(self):
        # Replies come through the default exchange, straight to this queue.
        return [
            kombu.Queue(
                self.queue_name,
                routing_key=self.queue_name,
                durable=False,
                auto_delete=True,
            )
        ]

    def start(self):
        self._thread.start()
        self._thread.ready.wait(timeout=30)

    def stop(self):
        self._thread.stop()

    def expect(self, msg_id):
        slot = {"event": threading.Event(), "reply": None}
        with self._lock:
            self._waiting[msg_id] = slot
        return slot

    def forget(self, msg_id):
        with self._lock:
            self._waiting.pop(msg_id, None)

    def _on_reply(self, body, message):
        message.ack()
        with self._lock:
            slot = self._waiting.pop(body.get("msg_id"), None)
        if slot is None:
            # The caller timed out already; Nova logs the same situation.
            LOG.warning("No calling threads waiting for msg_id : %s", body.get("msg_id"))
            return
        slot["reply"] = body
        slot["event"].set()


# --- the client side -------------------------------------------------------

class RPCClient:
    """Sends casts and calls to a topic (and optionally one server of it).

    ``prepare()`` returns a copy aimed elsewhere, as oslo.messaging's does:
    ``client.prepare(server='host1').cast(ctxt, 'build_and_run_instance', ...)``.
    """

    def __init__(self, topic, server=None, fanout=False, timeout=None, transport=None):
        self.topic = topic
        self.server = server
        self.fanout = fanout
        self.timeout = timeout
        self.transport = transport or get_transport()

    def prepare(self, server=None, fanout=None, timeout=None):
        return RPCClient(
            self.topic,
            server=server if server is not None else self.server,
            fanout=fanout if fanout is not None else self.fanout,
            timeout=timeout if timeout is not None else self.timeout,
            transport=self.transport,
        )

    def _routing(self):
        if self.fanout:
            return kombu.Exchange(f"{self.topic}_fanout", type="fanout", durable=False), ""
        if self.server:
            return None, f"{self.topic}.{self.server}"
        return None, self.topic

    def cast(self, ctxt, method, **kwargs):
        exchange, routing_key = self._routing()
        self.transport.publish(
            encode_request(ctxt, method, kwargs), routing_key, exchange, method=method
        )

    def call(self, ctxt, method, **kwargs):
        if self.fanout:
            raise ValueError("A fanout message cannot be a call")
        timeout = self.timeout or CONF.rpc_response_timeout
        waiter = self.transport.reply_waiter()
        msg_id = uuid.uuid4().hex
        slot = waiter.expect(msg_id)
        body = encode_request(ctxt, method, kwargs, msg_id, waiter.queue_name)
        try:
            self.transport.publish(body, self._routing()[1], method=method)
            if not slot["event"].wait(timeout):
                raise MessagingTimeout(msg_id=msg_id)
        finally:
            waiter.forget(msg_id)
        reply = slot["reply"]
        if reply.get("failure"):
            raise decode_failure(reply["failure"])
        return reply.get("result")


# --- the server side -------------------------------------------------------

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
        self._executor = futures.ThreadPoolExecutor(
            max_workers=executor_size or CONF.executor_thread_pool_size,
            thread_name_prefix=f"rpc-{topic}",
        )
        self._consumer = _ConsumerThread(
            self.transport, f"rpc-consumer-{topic}-{next(self._ids)}",
            self._queues, self._on_message,
        )

    def _queues(self):
        exchange = self.transport.exchange
        fanout = kombu.Exchange(f"{self.topic}_fanout", type="fanout", durable=False)
        return [
            # Shared and kept across restarts of the consumer, so that casts
            # sent while a service restarts wait for it.
            kombu.Queue(self.topic, exchange, routing_key=self.topic,
                        durable=False, auto_delete=False),
            kombu.Queue(f"{self.topic}.{self.server}", exchange,
                        routing_key=f"{self.topic}.{self.server}",
                        durable=False, auto_delete=False),
            kombu.Queue(self._fanout_queue, fanout, durable=False, auto_delete=True),
        ]

    def start(self):
        self._consumer.start()
        if not self._consumer.ready.wait(timeout=30):
            LOG.warning("RPC server for topic %s is not consuming yet", self.topic)

    def stop(self):
        self._consumer.stop()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _on_message(self, body, message):
        message.ack()
        try:
            self._executor.submit(self._dispatch, body)
        except RuntimeError:
            LOG.warning("Dropping %s: the service is stopping", body.get("method"))

    def _dispatch(self, body):
        ctxt = mn_context.RequestContext.from_dict(body.get("context", {}))
        ctxt.update_store()
        method = body.get("method", "")
        reply = {"msg_id": body.get("msg_id")}
        try:
            function = self._find_method(method)
            reply["result"] = to_primitive(function(ctxt, **body.get("args", {})))
        except Exception as exc:
            if body.get("reply_to"):
                # The caller will see it; log at debug to keep one error per failure.
                LOG.debug("Exception during message handling of %s: %s", method, exc)
            else:
                LOG.exception("Exception during message handling of cast %s", method)
            reply["failure"] = encode_failure(exc)
        finally:
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
        default_exchange = kombu.Exchange("", type="direct")
        started = time.monotonic()
        try:
            self.transport.publish(reply, reply_to, default_exchange, method="reply")
        except MessageDeliveryFailure:
            LOG.exception("Could not send the reply to %s after %.1f s", reply_to,
                          time.monotonic() - started)
