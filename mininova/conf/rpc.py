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
        "MessagingTimeout.",
    ),
    cfg.IntOpt(
        "long_rpc_timeout",
        default=1800,
        min=1,
        help="Timeout for RPC calls that are known to take long, such as the "
        "conductor's call to the scheduler's select_destinations.",
    ),
]


def register_opts(conf):
    conf.register_opts(rpc_opts)


def list_opts():
    return {"DEFAULT": rpc_opts}
