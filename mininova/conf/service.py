"""Options every service shares: its host name and its heartbeat
(mirrors ``nova/conf/netconf.py``'s ``host`` and ``nova/conf/service.py``)."""

import socket

from oslo_config import cfg
from oslo_utils import netutils

service_opts = [
    cfg.StrOpt(
        "host",
        default=socket.gethostname(),
        sample_default="<current_hostname>",
        help="Name of this node. Compute services are addressed by it: the "
        "conductor casts builds to the queue ``compute.<host>``. Two compute "
        "services on one machine need two different values.",
    ),
    cfg.StrOpt(
        "my_ip",
        default=netutils.get_my_ipv4(),
        sample_default="<host_ipv4>",
        help="This host's address on the network between the hosts (Nova's "
        "my_ip). A compute tells a resize's source host its my_ip, and the "
        "source copies the disk to it over ssh unless it is its own my_ip or "
        "the two hosts share instances_path.",
    ),
    cfg.IntOpt(
        "report_interval",
        default=10,
        min=1,
        help="Seconds between the heartbeats a service writes to the database "
        "(through the conductor for mininova-compute).",
    ),
    cfg.IntOpt(
        "service_down_time",
        default=60,
        min=1,
        help="A service whose last heartbeat is older than this many seconds is "
        "reported 'down' and the ComputeFilter stops scheduling to it.",
    ),
    cfg.IntOpt(
        "periodic_interval",
        default=1,
        min=1,
        help="Seconds between two runs of the periodic task loop; each task "
        "also has its own spacing.",
    ),
    cfg.IntOpt(
        "executor_thread_pool_size",
        default=64,
        min=1,
        help="Threads that run incoming RPC messages of one service.",
    ),
]


def register_opts(conf):
    conf.register_opts(service_opts)


def list_opts():
    return {"DEFAULT": service_opts}
