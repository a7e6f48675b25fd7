"""Remote procedure calls between services, on kombu (stands for oslo.messaging).

Nova's services talk through oslo.messaging; this package keeps its concepts
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

The modules, and the oslo.messaging modules they stand for:

- ``exceptions.py``: MessagingTimeout, MessageDeliveryFailure,
  MessageUndeliverable, RemoteError (``oslo_messaging/exceptions.py``);
- ``messages.py``: a message's JSON, a request's fields, a remote exception
  in a reply (``oslo_messaging/_drivers/common.py``);
- ``transport.py``: the broker's URL and exchange, publishing with confirms
  and retries, the publishing connections; ``get_transport``, ``cleanup``
  (``oslo_messaging/transport.py``, ``oslo_messaging/_drivers/impl_rabbit.py``,
  ``oslo_messaging/_drivers/pool.py``);
- ``consumer.py``: the process's one consuming connection and its
  subscriptions, reconnecting; the reply queue and the calls waiting on it
  (``oslo_messaging/_drivers/impl_rabbit.py``,
  ``oslo_messaging/_drivers/amqpdriver.py``);
- ``client.py``: RPCClient, cast and call (``oslo_messaging/rpc/client.py``);
- ``server.py``: RPCServer, dispatch, replies, call-monitor heartbeats
  (``oslo_messaging/rpc/server.py``, ``oslo_messaging/rpc/dispatcher.py``).

The tunables (timeouts, intervals, sizes) are constants of the module they
tune: ``transport.py`` (publishing, polling), ``consumer.py`` (reconnecting,
which a publish's retries read too; the reply queue) and ``server.py``
(replies, second copies). Each is defined once and not re-exported here: a
test that changes one patches that module.
"""

from mininova.rpc.client import RPCClient
from mininova.rpc.consumer import ReplyWaiter, Subscription, declare
from mininova.rpc.exceptions import (
    MessageDeliveryFailure,
    MessageUndeliverable,
    MessagingTimeout,
    RemoteError,
)
from mininova.rpc.messages import decode_failure, dumps, encode_failure, encode_request, loads
from mininova.rpc.server import RPCServer
from mininova.rpc.transport import Transport, cleanup, get_transport, reset_memory_broker

__all__ = [
    "MessageDeliveryFailure",
    "MessageUndeliverable",
    "MessagingTimeout",
    "RPCClient",
    "RPCServer",
    "RemoteError",
    "ReplyWaiter",
    "Subscription",
    "Transport",
    "cleanup",
    "declare",
    "decode_failure",
    "dumps",
    "encode_failure",
    "encode_request",
    "get_transport",
    "loads",
    "reset_memory_broker",
]
