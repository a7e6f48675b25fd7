"""The client side: casts and calls to a topic (stands for
``oslo_messaging/rpc/client.py``: ``RPCClient``, ``prepare``, ``cast``,
``call`` and its ``call_monitor_timeout``).

A call waits on the process's reply queue (``ReplyWaiter`` in
``consumer.py``); its message is published by ``Transport.publish``
(``transport.py``). Left out: RPC version negotiation (``version_cap``,
``can_send_version``), serializers for versioned objects, and ``retry``
(a message is tried again until its publish timeout instead).
"""

import queue
import time

import kombu
from oslo_log import log as logging

from mininova.conf import CONF
from mininova.rpc.exceptions import MessagingTimeout
from mininova.rpc.messages import decode_failure, encode_request, new_id
from mininova.rpc.transport import get_transport

LOG = logging.getLogger(__name__)


class RPCClient:
    """Sends casts and calls to a topic (and optionally one server of it).

    ``prepare()`` returns a copy aimed elsewhere, as oslo.messaging's does:
    ``client.prepare(server='host1').cast(ctxt, 'build_and_run_instance', ...)``.

    ``timeout``: how long a call waits for its reply (``rpc_response_timeout``
    by default). ``call_monitor_timeout``: with it, a call also gives up when
    no heartbeat came from the server for that long (see the package doc).
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
        msg_id = new_id()
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
