"""The broker: a transport's URL, exchange and connections, and publishing
on them with confirms and retries (stands for ``oslo_messaging/transport.py``
and its ``get_transport``; the publishing side of
``oslo_messaging/_drivers/impl_rabbit.py``, with its ``Connection.ensure``
retries; and the connection pool of ``oslo_messaging/_drivers/pool.py``).

A :class:`Transport` is one per broker URL and exchange in a process. It
owns the publishing connections (:class:`_PublisherPool`), the consuming
connection (``consumer()``) and the reply queue (``reply_waiter()``), both
of ``consumer.py``.

Left out: oslo.messaging's driver plugins (stevedore), the other drivers
(kafka, amqp1) and quorum queues.
"""

import itertools
import math
import threading
import time

import amqp.exceptions
import kombu
import kombu.exceptions
from oslo_log import log as logging

from mininova.conf import CONF
from mininova.rpc import consumer as rpc_consumer
from mininova.rpc.exceptions import MessageDeliveryFailure, MessageUndeliverable
from mininova.rpc.messages import dumps

LOG = logging.getLogger(__name__)

# kombu's in-memory transport polls its queues; this is the pause between polls.
MEMORY_POLLING_INTERVAL = 0.002
# A consumer wakes this often to notice it should stop.
DRAIN_TIMEOUT = 0.25
# In memory:// the consumer polls every 2 ms anyway, so waking it more often
# costs nothing and lets a service stop at once (tests start and stop the
# whole cloud hundreds of times).
MEMORY_DRAIN_TIMEOUT = 0.02
# How long a publishing connection's send may block (the broker not reading
# from it) before the connection is given up and the message sent again on
# a fresh one.
SEND_TIMEOUT = 10
# How long a publishing connection waits for a confirm before the message
# is sent again on a fresh connection (the kernel's SO_RCVTIMEO, which costs
# nothing per message; see _Publisher.publish). A publish with less time
# left than this waits for its confirm until its own deadline instead.
CONFIRM_TIMEOUT = 10
# How many connections a transport keeps for publishing (kombu's pool limit,
# which this replaced): a process of many services and threads holds no more,
# and a thread beyond them waits for one to be free.
PUBLISHING_CONNECTIONS = 10
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
                pause = min(attempt - 1, rpc_consumer.RECONNECT_INTERVAL_MAX, remaining)
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
                self._consumer = rpc_consumer._ConsumerThread(self)
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
                self._reply_waiter = rpc_consumer.ReplyWaiter(self)
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
        # The channel is open: from now on a read (a confirm) that waits
        # longer than CONFIRM_TIMEOUT fails in the kernel.
        self._kernel_timeout = rpc_consumer.set_receive_timeout(conn, CONFIRM_TIMEOUT)
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
        # The wait for the confirm likewise, when the publish has time
        # enough left: the socket's CONFIRM_TIMEOUT bounds it (a confirm
        # that does not come is a lost connection: the message goes again
        # on a fresh one). With less time left, the confirm is waited for
        # until the publish's own deadline, through py-amqp's timeout.
        if self._kernel_timeout and timeout >= CONFIRM_TIMEOUT:
            timeout = None
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
    up the channel kept for it. Here a loan is a list pop under a lock; only
    a thread that finds all ``limit`` lent waits, on a condition (a
    ``threading.Semaphore`` is Python code around one: two of them per
    publish were a measurable part of it). A connection that failed is
    closed, not lent again: the next message gets a fresh one.
    """

    def __init__(self, make_connection, limit=PUBLISHING_CONNECTIONS):
        self._make_connection = make_connection
        self.limit = limit
        # Last in, first out: the connection used most recently is lent
        # first, the others stay idle.
        self._idle = []
        self._lent = 0
        self._waiting = 0
        self._lock = threading.Lock()
        self._returned = threading.Condition(self._lock)

    def take(self, timeout):
        """A publisher (a new one when none is idle), waiting up to
        ``timeout`` seconds while all ``limit`` are lent."""
        with self._lock:
            if self._lent >= self.limit:
                self._wait_for_one(timeout)
            self._lent += 1
            if self._idle:
                return self._idle.pop()
        try:
            return _Publisher(self._make_connection())
        except BaseException:
            self._release()
            raise

    def _wait_for_one(self, timeout):
        """(Under the lock.) Until a publisher is given back or discarded."""
        self._waiting += 1
        try:
            if not self._returned.wait_for(lambda: self._lent < self.limit, timeout):
                raise TimeoutError(f"all {self.limit} publishing connections stayed busy "
                                   f"for {timeout:.0f} s")
        finally:
            self._waiting -= 1

    def _release(self, publisher=None):
        with self._lock:
            if publisher is not None:
                self._idle.append(publisher)
            self._lent -= 1
            if self._waiting:
                self._returned.notify()

    def give_back(self, publisher):
        self._release(publisher)

    def discard(self, publisher):
        try:
            publisher.close(broken=True)
        finally:
            self._release()

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
