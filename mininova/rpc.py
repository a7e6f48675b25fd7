"""Remote procedure calls between services, on kombu (stands for oslo.messaging).

Nova's services talk through oslo.messaging; this module keeps its concepts
and names so the message flow reads the same, in a few hundred lines:

* one **topic exchange** (``control_exchange``, ``mininova``) that every
  message is published to;
* per service, a queue ``<topic>`` (any server of that topic may take the
  message: the schedulers share ``scheduler``), a queue ``<topic>.<host>``
  (only that server: ``compute.host1``), and a private queue bound to the
  **fanout** exchange ``<topic>_fanout`` (every server gets a copy);
* **cast**: publish and return (fire and forget);
* **call**: publish with a ``msg_id`` and the name of this process's reply
  queue ``reply_<uuid hex>``, then wait up to ``rpc_response_timeout`` for the
  answer (or the remote exception) to come back on that queue.

A message is JSON::

    {"method": "build_and_run_instance", "args": {...},
     "context": {"request_id": "req-...", "user_id": ..., ...},
     "unique_id": "<hex>",
     "msg_id": "<hex>", "reply_to": "reply_<hex>",     # calls only
     "call_monitor_timeout": 60}                        # monitored calls only

The receiving side rebuilds the request context from ``context`` and makes it
the thread's current one, so its log lines carry the same ``req-…``.

What a broker restart or a dead service does to it (docs/ARCHITECTURE.md,
"RPC reliability"):

* **durable**: the topic exchange and the ``<topic>`` and ``<topic>.<host>``
  queues are durable and casts and calls are persistent messages, so what
  waits in a queue outlives a RabbitMQ restart (oslo.messaging's
  ``amqp_durable_queues = True``). Fanout and reply queues are transient.
* **confirmed**: RabbitMQ confirms every message it has routed (publisher
  confirms). A publish that loses its connection or its confirm is tried
  again on a new connection until ``rpc_publish_timeout`` has passed, then
  raises MessageDeliveryFailure: a cast is taken by the broker or fails
  loudly at the sender, never silently. A confirm lost after the broker
  took the message means it is sent twice; each message has a
  ``unique_id``, and a server drops a second copy of one of its last 1024.
* **call monitoring** (oslo.messaging's ``call_monitor_timeout``): a caller
  may give a call a long timeout *and* a short monitor timeout. The server
  that works on it sends a heartbeat to the reply queue every half monitor
  timeout, so the caller waits long only while someone works; with nobody
  consuming, it gives up after the monitor timeout. The request expires
  from its queue then too, so a service that comes back later does not run
  a request nobody waits for.
* a reply whose queue is missing (its caller is reconnecting) is returned by
  the broker and tried again for ``rpc_response_timeout``.

Transports: ``rabbit://user:pass@host:port/vhost`` (RabbitMQ, through kombu's
py-amqp transport) and ``memory://`` (kombu's in-process transport: the
all-in-one mode and the functional tests). The memory transport has no
broker to restart, no publisher confirms and no returned messages: there a
publish is done when it returns, and durability is moot.

Left out on purpose: RPC version negotiation (``RPC_API_VERSION``,
``can_send_version``), serializers for versioned objects, notifications, the
other drivers (kafka, amqp1), quorum queues, and AMQP connection heartbeats
(oslo.messaging's thread that notices a silently dead TCP connection: here
a dead connection is noticed when it is next used).
"""

import collections
import itertools
import json
import math
import queue
import threading
import time
import traceback
import uuid
from concurrent import futures
from datetime import datetime

import amqp.exceptions
import kombu
import kombu.exceptions
import kombu.utils.json
from oslo_log import log as logging

from mininova import context as mn_context
from mininova import exception
from mininova.conf import CONF

LOG = logging.getLogger(__name__)

# How long to wait between two attempts to reach a broker that is down.
RECONNECT_INTERVAL_MAX = 5
# kombu's in-memory transport polls its queues; this is the pause between polls.
MEMORY_POLLING_INTERVAL = 0.002
# A consumer wakes this often to notice it should stop.
DRAIN_TIMEOUT = 0.25
# In memory:// the consumer polls every 2 ms anyway, so waking it more often
# costs nothing and lets a service stop at once (tests start and stop the
# whole cloud hundreds of times).
MEMORY_DRAIN_TIMEOUT = 0.02
# A reply whose queue is missing (its caller is reconnecting) is sent again
# this often, for up to rpc_response_timeout.
MISSING_REPLY_QUEUE_RETRY = 0.25
# How long the first call of a process waits for its reply queue to be
# consumed. Not longer: a reply that comes before is returned by the broker
# and sent again, and the call's own timeout still applies.
REPLY_QUEUE_READY_WAIT = 5
# How long a publishing connection's send may block (the broker not reading
# from it) before the connection is given up and the message sent again on
# a fresh one.
SEND_TIMEOUT = 10
# How many connections a transport keeps for publishing (kombu's pool limit,
# which this replaced): a process of many services and threads holds no more,
# and a thread beyond them waits for one to be free.
PUBLISHING_CONNECTIONS = 10
# How many message ids a server remembers to drop second copies of them.
DUPLICATE_CACHE_SIZE = 1024
# AMQP delivery modes: a persistent message is written to disk by RabbitMQ
# when it sits in a durable queue, and outlives a broker restart there.
TRANSIENT, PERSISTENT = 1, 2

# What a lost or refused connection looks like: worth another try. Other
# errors (a refused login, a bad argument) would fail the same way again.
CONNECTION_ERRORS = (
    OSError,                                # refused, reset, timed out
    amqp.exceptions.ConnectionError,        # closed by the broker (shutdown)
    amqp.exceptions.RecoverableChannelError,
    amqp.exceptions.MessageNacked,          # the broker could not take it
    kombu.exceptions.OperationalError,      # kombu's name for the above
)


class MessagingTimeout(exception.MininovaException):
    msg_fmt = "Timed out waiting for a reply to message ID %(msg_id)s: %(reason)s"
    code = 504
    safe = True


class MessageDeliveryFailure(exception.MininovaException):
    msg_fmt = ("Could not send %(method)s to %(target)s: the message broker was "
               "unreachable for %(seconds)s s (%(reason)s)")
    code = 503
    safe = True


class MessageUndeliverable(exception.MininovaException):
    """The broker returned a message no queue would take (mandatory publish)."""

    msg_fmt = "No queue takes %(method)s sent to %(target)s"
    code = 503


class RemoteError(exception.MininovaException):
    """An exception raised by the remote side that is not one of ours."""

    msg_fmt = "Remote error: %(exc_type)s %(value)s"


# --- encoding --------------------------------------------------------------

def _json_default(value):
    """What JSON has no type for: datetimes become ISO 8601 strings (a
    receiver gets text, as from oslo.messaging's JSON serializer), sets
    lists; anything else as
    kombu's JSON encoder sends it (a UUID, a Decimal), so that kombu's
    decoder on the other side rebuilds it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return list(value)
    return _KOMBU_JSON.default(value)


_KOMBU_JSON = kombu.utils.json.JSONEncoder()
# One encoder for every message (json.dumps with a default= makes one per call).
_ENCODER = json.JSONEncoder(default=_json_default)


def dumps(body):
    """A message body as JSON text, in one pass of the C encoder (the
    datetimes and sets in it too, through ``_json_default``)."""
    return _ENCODER.encode(body)


# One decoder for every message, with kombu's hook, which rebuilds what
# kombu's encoder tagged (see _json_default).
_DECODER = json.JSONDecoder(object_hook=kombu.utils.json.object_hook)


def loads(payload):
    """The body of a message (JSON, as bytes or text)."""
    if not isinstance(payload, str):
        payload = bytes(payload).decode("utf-8")
    return _DECODER.decode(payload)


def encode_request(ctxt, method, args, msg_id=None, reply_to=None,
                   call_monitor_timeout=None):
    """The body of a cast (no msg_id) or a call. ``unique_id`` tells a second
    copy of the same message (a publish retried after its confirm was lost)
    from a new one (oslo.messaging's ``_unique_id``). Datetimes in ``args``
    become strings when the body is encoded (:func:`dumps`)."""
    body = {"method": method, "args": args, "context": ctxt.to_dict(),
            "unique_id": uuid.uuid4().hex}
    if msg_id:
        body["msg_id"] = msg_id
        body["reply_to"] = reply_to
        if call_monitor_timeout:
            body["call_monitor_timeout"] = call_monitor_timeout
    return body


def encode_failure(exc):
    """How a remote exception travels back in a reply."""
    return {
        "class": type(exc).__name__,
        "module": type(exc).__module__,
        "message": str(exc),
        "kwargs": getattr(exc, "kwargs", {}),
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

# Replies and heartbeats go through the default exchange, straight to the
# queue named by the routing key.
DEFAULT_EXCHANGE = kombu.Exchange("", type="direct")


class Transport:
    """A broker URL, the exchange, and the process's reply queue."""

    def __init__(self, url, exchange_name):
        self.url = url
        # Durable, as the topic queues bound to it: the bindings are kept
        # only if both ends are.
        self.exchange = kombu.Exchange(exchange_name, type="topic", durable=True)
        # kombu calls RabbitMQ's transport "amqp"; oslo.messaging "rabbit".
        self._kombu_url = url.replace("rabbit://", "amqp://", 1)
        if self._kombu_url.rstrip("/") == "memory:":
            self._kombu_url = "memory://localhost/"
        self.in_memory = url.startswith("memory://")
        self._transport_options = {}
        self.drain_timeout = DRAIN_TIMEOUT
        if self.in_memory:
            # No broker, no confirms: a publish is done when it returns.
            self._transport_options["polling_interval"] = MEMORY_POLLING_INTERVAL
            self.drain_timeout = MEMORY_DRAIN_TIMEOUT
        else:
            # Publisher confirms: basic_publish waits for RabbitMQ's ack.
            self._transport_options["confirm_publish"] = True
            # A send the broker does not take for this long fails (the
            # kernel's SO_SNDTIMEO, which costs nothing per message; see
            # _Publisher.publish).
            self._transport_options["write_timeout"] = SEND_TIMEOUT
        # Publishing borrows a connection (and its channel) from this pool.
        self._publishers = _PublisherPool(self.connection)
        self._reply_waiter = None
        self._consumer = None
        # Reentrant: the reply waiter, made under it, subscribes to consumer().
        self._lock = threading.RLock()

    @property
    def confirms(self):
        """Does the broker confirm what it took? (Not kombu's memory://.)"""
        return bool(self._transport_options.get("confirm_publish"))

    def connection(self):
        return kombu.Connection(
            self._kombu_url,
            transport_options=self._transport_options,
            connect_timeout=5,
        )

    def describe(self):
        """Where the broker is, without the password, for log lines."""
        return self.connection().as_uri()

    def publish(self, body, routing_key, exchange=None, method="", timeout=None,
                persistent=True, mandatory=False, expiration=None):
        """Publish ``body``; return once the broker has it (its confirm).

        A lost connection, a refused one or a missing confirm is tried again
        on a fresh connection, every few seconds, until ``timeout`` seconds
        (default ``rpc_publish_timeout``) have passed; then
        MessageDeliveryFailure. ``mandatory``: a message that no queue takes
        is returned by the broker, raised here as MessageUndeliverable.
        ``expiration``: seconds the message may wait in its queue.
        """
        exchange = self.exchange if exchange is None else exchange
        timeout = CONF.rpc_publish_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        # Encoded once, not again for each attempt.
        payload = dumps(body)
        for attempt in itertools.count(1):
            try:
                self._publish_once(payload, routing_key, exchange, method, deadline,
                                   persistent, mandatory, expiration)
                return
            except CONNECTION_ERRORS as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise MessageDeliveryFailure(
                        method=method, target=routing_key or exchange.name,
                        seconds=timeout, reason=exc) from exc
                # At once the first time: after a broker restart, each pooled
                # connection fails once, and the next one is a fresh one.
                pause = min(attempt - 1, RECONNECT_INTERVAL_MAX, remaining)
                self._log_unreachable(exc, pause)
                time.sleep(pause)

    def _publish_once(self, payload, routing_key, exchange, method, deadline, persistent,
                      mandatory, expiration):
        publisher = self._publishers.take(timeout=max(deadline - time.monotonic(), 1))
        try:
            returned = publisher.publish(
                payload, exchange, routing_key,
                delivery_mode=PERSISTENT if persistent else TRANSIENT,
                mandatory=mandatory, expiration=expiration,
                # How long to wait for the confirm.
                timeout=max(deadline - time.monotonic(), 1))
        except BaseException:
            # Lost, or in a state nobody knows (a confirm that never came):
            # closed, not lent to the next message.
            self._publishers.discard(publisher)
            raise
        self._publishers.give_back(publisher)
        if returned:
            raise MessageUndeliverable(method=method, target=routing_key)

    def _log_unreachable(self, exc, interval):
        LOG.error("AMQP server on %s is unreachable: %s. Trying again in %d seconds.",
                  self.describe(), exc, math.ceil(interval))

    def consumer(self):
        """The process's consuming connection for this broker (started on
        first use)."""
        with self._lock:
            if self._consumer is None:
                self._consumer = _ConsumerThread(self)
                self._consumer.start()
            return self._consumer

    def unsubscribe(self, subscription):
        """Stop consuming ``subscription`` (nothing to do once the consumer
        is gone: cleanup() stopped it with all its subscriptions)."""
        with self._lock:
            consumer = self._consumer
        if consumer is not None:
            consumer.unsubscribe(subscription)

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
        with self._lock:
            consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.stop()
        self._publishers.close()


class _Publisher:
    """A publishing connection with its channel and producer, kept open
    from one message to the next.

    Opening a channel, putting it in confirm mode and closing it again are
    three round trips to the broker; a message with its confirm is one. So
    each publishing connection keeps one channel, and declares an exchange
    the first time it publishes to it only.
    """

    def __init__(self, conn):
        conn.ensure_connection(max_retries=0)
        self.conn = conn
        self.channel = conn.channel()
        # A mandatory message no queue took comes back here (basic.return).
        self.returned = []
        self.producer = kombu.Producer(self.channel, on_return=self._on_return)
        self._declared = set()

    def _on_return(self, exc, *_args):
        self.returned.append(exc)

    def publish(self, payload, exchange, routing_key, timeout, **properties):
        """Send ``payload`` (JSON text), wait for its confirm; True if the
        broker returned it (mandatory, and no queue took it)."""
        self.returned.clear()
        declare = []
        if exchange.name and exchange.name not in self._declared:
            declare = [exchange]
        # The send has no timeout of its own: py-amqp would set the socket's
        # timeout before it and back after, two system calls that each let
        # go of the GIL; the connection's SEND_TIMEOUT bounds it instead.
        # The wait for the confirm has this publish's own deadline.
        self.producer.publish(
            payload, exchange=exchange, routing_key=routing_key,
            content_type="application/json", content_encoding="utf-8",
            declare=declare, confirm_timeout=timeout, **properties)
        self._declared.add(exchange.name)
        # The broker's basic.return of a mandatory message comes before its
        # confirm, so it is noted by now.
        return bool(self.returned)

    def close(self, broken=False):
        if broken:
            # Dropped without a goodbye: its socket may be dead.
            self.conn.collect()
        else:
            self.conn.release()


class _PublisherPool:
    """A transport's publishing connections (their :class:`_Publisher`),
    each lent to one thread at a time, at most ``limit`` of them.

    kombu's connection pool did this before (its limit is the same); a
    publish then paid for its generality: finding the pool by hashing the
    connection's parameters, checking the connection on each loan, looking
    up the channel kept for it. Here a loan is a semaphore and a list pop.
    A connection that failed is closed, not lent again: the next message
    gets a fresh one.
    """

    def __init__(self, make_connection, limit=PUBLISHING_CONNECTIONS):
        self._make_connection = make_connection
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)
        # Last in, first out: the connection used most recently is lent
        # first, the others stay idle.
        self._idle = []
        self._lock = threading.Lock()

    def take(self, timeout):
        """A publisher (a new one when none is idle), waiting up to
        ``timeout`` seconds while all ``limit`` are lent."""
        if not self._slots.acquire(timeout=timeout):
            raise TimeoutError(f"all {self.limit} publishing connections stayed busy "
                               f"for {timeout:.0f} s")
        try:
            with self._lock:
                if self._idle:
                    return self._idle.pop()
            return _Publisher(self._make_connection())
        except BaseException:
            self._slots.release()
            raise

    def give_back(self, publisher):
        with self._lock:
            self._idle.append(publisher)
        self._slots.release()

    def discard(self, publisher):
        try:
            publisher.close(broken=True)
        finally:
            self._slots.release()

    def close(self):
        """Close the idle connections (those lent out come back and stay
        until the next close)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for publisher in idle:
            try:
                publisher.close()
            except Exception:  # noqa: BLE001
                publisher.close(broken=True)


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


def reset_memory_broker():
    """Forget every queue and binding of the in-memory broker (tests)."""
    from kombu.transport import memory

    memory.Channel.queues.clear()
    memory.Channel.events.clear()
    memory.Transport.global_state.clear()


# --- consuming, with reconnection ------------------------------------------

def declare(conn, entities):
    """Declare exchanges and queues; replace one that an older mininova
    declared without durability.

    RabbitMQ refuses to declare an existing queue or exchange with other
    arguments (``PRECONDITION_FAILED - inequivalent arg 'durable'``). Such a
    leftover held only transient messages, so it is deleted and declared
    again, with a warning.
    """
    for entity in entities:
        parts = [entity.exchange, entity] if isinstance(entity, kombu.Queue) else [entity]
        for part in parts:
            if part is None or not part.name:
                continue
            try:
                with conn.channel() as channel:
                    part(channel).declare()
            except amqp.exceptions.PreconditionFailed as exc:
                if "inequivalent arg 'durable'" not in str(exc):
                    raise
                LOG.warning("%s %s exists without durability (declared by an older "
                            "mininova): deleting it and declaring it durable",
                            type(part).__name__, part.name)
                with conn.channel() as channel:
                    part(channel).delete()
                    part(channel).declare()


class Subscription:
    """Some queues and what to do with their messages: an RPC server's three
    queues, or the process's reply queue. Consumed on the transport's one
    consuming connection (:class:`_ConsumerThread`), on a channel of its own,
    so that cancelling it hands its unacknowledged messages back to the
    broker (a closed channel's are requeued) without touching the others."""

    def __init__(self, name, make_queues, on_message, no_ack=False):
        self.name = name
        self.make_queues = make_queues
        self.on_message = on_message
        # Delivered without acknowledgements: for a queue whose messages
        # are lost with its consumer anyway (the process's reply queue).
        self.no_ack = no_ack
        # Set once its queues are consumed (again after each reconnection).
        self.ready = threading.Event()
        self.cancelled = threading.Event()
        self.channel = None
        self.consumer = None

    def start(self, conn):
        queues = self.make_queues()
        declare(conn, queues)
        self.channel = conn.channel()
        self.consumer = kombu.Consumer(self.channel, queues, on_message=self._receive,
                                       no_ack=self.no_ack)
        self.consumer.consume()
        self.ready.set()

    def _receive(self, message):
        """Decode a message's JSON and hand it on (as kombu's ``callbacks``
        would, without its content-type registry: every mininova message
        is JSON, published by :func:`dumps`)."""
        try:
            body = loads(message.body)
        except ValueError as exc:
            LOG.error("Dropping a message on %s that is not JSON (%s): %s",
                      self.name, message.content_type, exc)
            if not self.no_ack:
                message.ack()
            return
        self.on_message(body, message)

    def stop(self):
        """Cancel the consumer and close the channel (connected or not)."""
        channel, self.channel, self.consumer = self.channel, None, None
        if channel is not None:
            try:
                channel.close()   # cancels its consumers; requeues the unacked
            except Exception:     # noqa: BLE001
                pass              # the connection is gone already: so are they


def _set_socket_timeout(conn, seconds):
    """Give the socket of a py-amqp connection this timeout (None: block).

    py-amqp sets a socket's timeout before each frame it reads and puts the
    old one back after, unless they are the same: two system calls per
    frame, six per call for the consuming thread (a request and its reply
    are three frames each), and each lets go of the GIL, which a busy
    process's other threads then take. So while the consuming thread waits
    for messages, its socket keeps the timeout of those waits. Around what
    waits for the broker's answer (declaring queues, opening and closing
    channels: ``_apply_changes``) it blocks again, as py-amqp expects: a
    broker busy with hundreds of services starting may take longer than a
    drain's timeout to answer a declaration. kombu's memory:// has no
    socket.
    """
    sock = getattr(getattr(conn.connection, "transport", None), "sock", None)
    if sock is not None:
        sock.settimeout(seconds)


class _ConsumerThread(threading.Thread):
    """The process's consuming connection: every subscription of a transport
    (each RPC server of the process and its reply queue) on one connection,
    consumed by one thread, forever, reconnecting when the broker goes away.

    A process that runs many services (mininova-all, a bench with hundreds
    of fake computes) so holds one consuming connection, not one per
    service. Subscriptions come and go (a service stops, another starts)
    through a queue of changes that the thread applies between two waits
    for messages: a kombu connection is used by one thread only.
    """

    _ids = itertools.count(1)

    def __init__(self, transport):
        super().__init__(name=f"rpc-consumer-{next(self._ids)}", daemon=True)
        self.transport = transport
        self._subscriptions = []
        self._changes = queue.SimpleQueue()
        self._changed = threading.Event()
        self._stopping = threading.Event()

    def subscribe(self, subscription):
        self._changes.put((subscription, True))
        self._changed.set()

    def unsubscribe(self, subscription, timeout=5):
        self._changes.put((subscription, False))
        self._changed.set()
        subscription.cancelled.wait(timeout)

    def run(self):
        failures = 0
        while not self._stopping.is_set():
            try:
                with self.transport.connection() as conn:
                    conn.ensure_connection(max_retries=0)
                    if failures:
                        LOG.info("Reconnected to AMQP server on %s", self.transport.describe())
                    failures = 0
                    self._consume(conn)
            except Exception as exc:  # connection refused, reset, channel closed...
                for subscription in self._subscriptions:
                    subscription.ready.clear()
                    subscription.stop()
                failures += 1
                interval = min(failures, RECONNECT_INTERVAL_MAX)
                LOG.error(
                    "AMQP server on %s is unreachable: %s. Trying again in %d seconds.",
                    self.transport.describe(),
                    exc,
                    interval,
                )
                self._wait_offline(interval)

    def _wait_offline(self, interval):
        """Wait before connecting again; a subscription cancelled meanwhile
        is let go at once (a service stopping during an outage)."""
        deadline = time.monotonic() + interval
        while not self._stopping.is_set() and time.monotonic() < deadline:
            if self._changed.wait(max(0.0, deadline - time.monotonic())):
                self._apply_changes(None)

    def _consume(self, conn):
        for subscription in self._subscriptions:
            subscription.start(conn)
        _set_socket_timeout(conn, self.transport.drain_timeout)
        while not self._stopping.is_set():
            if self._changed.is_set():
                _set_socket_timeout(conn, None)
                self._apply_changes(conn)
                _set_socket_timeout(conn, self.transport.drain_timeout)
            try:
                conn.drain_events(timeout=self.transport.drain_timeout)
            except TimeoutError:
                conn.heartbeat_check()

    def _apply_changes(self, conn):
        """Subscribe and cancel what was asked since the last time; offline
        (``conn`` None), a new subscription waits for the next connection."""
        self._changed.clear()
        while True:
            try:
                subscription, wanted = self._changes.get_nowait()
            except queue.Empty:
                return
            if wanted:
                self._subscriptions.append(subscription)
                if conn is not None:
                    subscription.start(conn)
            else:
                if subscription in self._subscriptions:
                    self._subscriptions.remove(subscription)
                subscription.stop()
                subscription.cancelled.set()

    def stop(self):
        self._stopping.set()
        self.join(timeout=5)


class ReplyWaiter:
    """The process's ``reply_<uuid>`` queue and the callers waiting on it.

    Each waiting call has a queue of its own here: its reply, and before it
    any heartbeats of the server working on it.
    """

    def __init__(self, transport):
        self.queue_name = f"reply_{uuid.uuid4().hex}"
        self._waiting = {}
        self._lock = threading.Lock()
        self._transport = transport
        # No acknowledgements: the queue is this process's and goes with its
        # consumer (auto_delete), so a reply that is not processed is lost
        # either way, and an ack would be one more frame per call.
        self._subscription = Subscription(self.queue_name, self._queues, self._on_reply,
                                          no_ack=True)

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
        self._transport.consumer().subscribe(self._subscription)
        self._subscription.ready.wait(timeout=REPLY_QUEUE_READY_WAIT)

    def stop(self):
        self._transport.unsubscribe(self._subscription)

    def expect(self, msg_id):
        slot = queue.SimpleQueue()
        with self._lock:
            self._waiting[msg_id] = slot
        return slot

    def forget(self, msg_id):
        with self._lock:
            self._waiting.pop(msg_id, None)

    def _on_reply(self, body, message):
        with self._lock:
            slot = self._waiting.get(body.get("msg_id"))
        if slot is None:
            if not body.get("heartbeat"):
                # The caller timed out already; Nova logs the same situation.
                LOG.warning("No calling threads waiting for msg_id : %s", body.get("msg_id"))
            return
        slot.put(body)


# --- the client side -------------------------------------------------------

class RPCClient:
    """Sends casts and calls to a topic (and optionally one server of it).

    ``prepare()`` returns a copy aimed elsewhere, as oslo.messaging's does:
    ``client.prepare(server='host1').cast(ctxt, 'build_and_run_instance', ...)``.

    ``timeout``: how long a call waits for its reply (``rpc_response_timeout``
    by default). ``call_monitor_timeout``: with it, a call also gives up when
    no heartbeat came from the server for that long (see the module doc).
    ``publish_timeout``: how long a message may take to reach the broker
    (``rpc_publish_timeout`` by default); a number, or a function that gives
    it (read when sending: the API builds its clients at import, before the
    configuration is read).
    """

    def __init__(self, topic, server=None, fanout=False, timeout=None,
                 call_monitor_timeout=None, publish_timeout=None, transport=None):
        self.topic = topic
        self.server = server
        self.fanout = fanout
        self.timeout = timeout
        self.call_monitor_timeout = call_monitor_timeout
        self.publish_timeout = publish_timeout
        self._transport = transport

    @property
    def transport(self):
        # Looked up when used, so a client made at import time follows the
        # transport_url the service was configured with.
        return self._transport or get_transport()

    def prepare(self, server=None, fanout=None, timeout=None, call_monitor_timeout=None):
        def either(value, default):
            return default if value is None else value
        return RPCClient(
            self.topic,
            server=either(server, self.server),
            fanout=either(fanout, self.fanout),
            timeout=either(timeout, self.timeout),
            call_monitor_timeout=either(call_monitor_timeout, self.call_monitor_timeout),
            publish_timeout=self.publish_timeout,
            transport=self._transport,
        )

    def _routing(self):
        if self.fanout:
            return kombu.Exchange(f"{self.topic}_fanout", type="fanout", durable=False), ""
        if self.server:
            return None, f"{self.topic}.{self.server}"
        return None, self.topic

    def _publish_timeout(self):
        value = self.publish_timeout
        if callable(value):
            value = value()
        return CONF.rpc_publish_timeout if value is None else value

    def cast(self, ctxt, method, **kwargs):
        exchange, routing_key = self._routing()
        # A fanout's queues are transient: nothing to persist it for.
        self.transport.publish(
            encode_request(ctxt, method, kwargs), routing_key, exchange, method=method,
            timeout=self._publish_timeout(), persistent=not self.fanout)

    def call(self, ctxt, method, **kwargs):
        if self.fanout:
            raise ValueError("A fanout message cannot be a call")
        timeout = self.timeout or CONF.rpc_response_timeout
        monitor = self.call_monitor_timeout
        deadline = time.monotonic() + timeout
        waiter = self.transport.reply_waiter()
        msg_id = uuid.uuid4().hex
        slot = waiter.expect(msg_id)
        body = encode_request(ctxt, method, kwargs, msg_id, waiter.queue_name, monitor)
        try:
            # Reaching the broker counts against the call's timeout too. The
            # request expires when its caller would give up on it unheard.
            self.transport.publish(body, self._routing()[1], method=method,
                                   timeout=min(self._publish_timeout(), timeout),
                                   expiration=monitor or timeout)
            reply = self._wait_for_reply(slot, msg_id, method, timeout, deadline)
        finally:
            waiter.forget(msg_id)
        if reply.get("failure"):
            raise decode_failure(reply["failure"])
        return reply.get("result")

    def _wait_for_reply(self, slot, msg_id, method, timeout, deadline):
        """The reply, or MessagingTimeout. Under call monitoring, each
        heartbeat gives the call another ``call_monitor_timeout`` seconds,
        up to its own ``timeout``."""
        monitor = self.call_monitor_timeout
        heard_at = time.monotonic()
        while True:
            give_up_at = min(deadline, heard_at + monitor) if monitor else deadline
            try:
                message = slot.get(timeout=max(0.0, give_up_at - time.monotonic()))
            except queue.Empty:
                raise MessagingTimeout(msg_id=msg_id, reason=self._silence(
                    method, timeout, unheard=monitor and give_up_at < deadline)) from None
            if not message.get("heartbeat"):
                return message
            LOG.debug("Call monitor heartbeat received for %s; renewing timeout timer",
                      method)
            heard_at = time.monotonic()

    def _silence(self, method, timeout, unheard):
        """Why a call timed out, in words: who did not answer what."""
        target = self._routing()[1]
        if unheard:
            return (f"{target} did not answer {method}: no reply and no heartbeat for "
                    f"{self.call_monitor_timeout} s (is any mininova-{self.topic} running?)")
        return f"{target} did not answer {method} within {timeout} s"


# --- the server side -------------------------------------------------------

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
        self._executor.shutdown(wait=True, cancel_futures=True)

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
