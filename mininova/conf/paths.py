"""Where mininova keeps its state on disk (mirrors ``nova/conf/paths.py``)."""

from oslo_config import cfg

path_opts = [
    cfg.StrOpt(
        "state_path",
        default="/var/lib/mininova",
        help="Top-level directory for maintaining mininova's state: the SQLite "
        "database, the image service's store and, by default, the instances.",
    ),
]


def register_opts(conf):
    conf.register_opts(path_opts)


def list_opts():
    return {"DEFAULT": path_opts}
