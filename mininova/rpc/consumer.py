"""Consuming, with reconnection: the process's one consuming connection,
the subscriptions on it (each RPC server's queues, and the reply queue),
and the callers waiting for replies (stands for the consuming side of
``oslo_messaging/_drivers/impl_rabbit.py``: ``Consumer``, its declaration,
``Connection.consume`` and its reconnection; and for the listener thread and
``ReplyWaiter`` of ``oslo_messaging/_drivers/amqpdriver.py``).

:class:`_ConsumerThread` is made by ``Transport.consumer()`` and
:class:`ReplyWaiter` by ``Transport.reply_waiter()`` (``transport.py``); an
RPC server subscribes to the first, an RPC client waits on the second.

Left out: AMQP connection heartbeats (a dead connection is noticed when it
is next used), and oslo.messaging's connection and poll-style listener per
server (here one connection and one thread consume every subscription of
the process).
"""

import itertools
import queue
import socket
import struct
import threading
import time
import uuid

import amqp.exceptions
import amqp.transport
import kombu
from oslo_log import log as logging

from mininova.rpc.messages import loads

LOG = logging.getLogger(__name__)

# How long to wait between two attempts to reach a broker that is down (to
# consume, here; to publish, in Transport.publish).
RECONNECT_INTERVAL_MAX = 5
# How long the first call of a process waits for its reply queue to be
# consumed. Not longer: a reply that comes before is returned by the broker
# and sent again, and the call's own timeout still applies.
REPLY_QUEUE_READY_WAIT = 5


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


def set_receive_timeout(conn, seconds):
    """Make the socket of a py-amqp connection wait at most ``seconds`` for
    data (None: block); True if it now does so in the kernel, False if not
    (kombu's memory:// has no socket, and then drain_events must be given
    the timeout).

    Two ways to bound a wait, and what each costs per frame read:

    * a timeout on the Python socket (``settimeout``, what py-amqp's
      ``drain_events(timeout=...)`` does): py-amqp sets it before each frame
      and back after unless it is already the same (two system calls), and
      with a timeout CPython polls before each ``recv`` (py-amqp reads a
      frame in three: header, payload, end byte). Each of those system calls
      lets go of the GIL, which a busy process's other threads then take;
    * a blocking socket with the kernel's receive timeout (``SO_RCVTIMEO``):
      a ``recv`` is one system call, and one that waited too long fails
      with EAGAIN, which ``_recv_or_timeout`` turns into the
      ``socket.timeout`` that py-amqp expects of a timed-out read (it keeps
      a frame's bytes read so far for the next read, as before).

    The consuming thread reads six frames per call (a request and a reply),
    so the second way saves it eighteen polls per call, and the publishers
    (``_Publisher`` in ``transport.py``, which wait for a confirm of one
    frame per message) two settimeouts and three polls per message. Around
    what waits for the broker's answer (declaring queues, opening and
    closing channels: ``_apply_changes``) the consuming socket blocks
    again, as py-amqp expects: a broker busy with hundreds of services
    starting may take longer than a drain's timeout to answer a
    declaration. An SSL transport (which reads through its own
    ``_quick_recv``) gets the Python timeout instead.
    """
    transport = getattr(conn.connection, "transport", None)
    sock = getattr(transport, "sock", None)
    if sock is None:
        return False
    if not isinstance(transport, amqp.transport.TCPTransport):
        sock.settimeout(seconds)
        return True
    sock.settimeout(None)
    whole = int(seconds or 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                    struct.pack("ll", whole, int(((seconds or 0) - whole) * 1_000_000)))
    transport._quick_recv = _recv_or_timeout(sock.recv)
    return True


def _recv_or_timeout(recv):
    """``recv`` of a blocking socket whose kernel timeout turns into
    ``TimeoutError`` (EAGAIN is how the kernel says it ran out; py-amqp
    expects ``socket.timeout``, the same class)."""
    def receive(size):
        try:
            return recv(size)
        except BlockingIOError:
            raise TimeoutError("timed out") from None
    return receive


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
        timeout = self.transport.drain_timeout
        # None when the socket's own timeout ends each wait.
        drain_timeout = None if set_receive_timeout(conn, timeout) else timeout
        while not self._stopping.is_set():
            if self._changed.is_set():
                set_receive_timeout(conn, None)
                self._apply_changes(conn)
                set_receive_timeout(conn, timeout)
            try:
                conn.drain_events(timeout=drain_timeout)
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
