"""Messaging options (mirrors the options oslo.messaging registers for Nova)."""

from oslo_config import cfg

rpc_opts = [
    cfg.StrOpt(
        "transport_url",
        default="memory://",
        secret=True,
        help="Where the message broker is. ``rabbit://user:pass@host:5672/vhost`` "
        "for RabbitMQ (every service its own process, possibly on several "
        "machines); ``memory://`` keeps messages inside one process (the "
        "all-in-one mode and the functional tests).",
    ),
    cfg.StrOpt(
        "control_exchange",
        default="mininova",
        help="The topic exchange every RPC message is published to (Nova's is "
        "'nova').",
    ),
    cfg.IntOpt(
        "rpc_response_timeout",
        default=60,
        min=1,
        help="Seconds an RPC call waits for its reply before raising "
        "MessagingTimeout. It is also the call monitor timeout of the long "
        "calls: the longest a long call waits without hearing from the "
        "service that works on it.",
    ),
    cfg.IntOpt(
        "long_rpc_timeout",
        default=1800,
        min=1,
        help="Timeout for RPC calls that are known to take long, such as the "
        "conductor's call to the scheduler's select_destinations. Such a call "
        "waits that long only while the other side sends heartbeats (every "
        "rpc_response_timeout / 2 seconds): with nobody working on it, it "
        "gives up after rpc_response_timeout.",
    ),
    cfg.IntOpt(
        "rpc_publish_timeout",
        default=120,
        min=1,
        help="Seconds a service keeps trying to hand one message to the broker "
        "while the broker is unreachable (reconnecting every few seconds) before "
        "it gives up with MessageDeliveryFailure. oslo.messaging retries "
        "forever by default; a bound turns a broker that does not come back "
        "into an error someone sees instead of a thread blocked for good. The "
        "API has its own, shorter bound: [api] rpc_publish_timeout.",
    ),
]


def register_opts(conf):
    conf.register_opts(rpc_opts)


def list_opts():
    return {"DEFAULT": rpc_opts}
