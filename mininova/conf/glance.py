"""How services reach the image service (mirrors ``nova/conf/glance.py``)."""

from oslo_config import cfg

glance_group = cfg.OptGroup("glance", title="Image service client options")

glance_opts = [
    cfg.ListOpt(
        "api_servers",
        default=["http://127.0.0.1:9292"],
        help="URLs of mininova-image; the first one that answers is used.",
    ),
    cfg.IntOpt(
        "timeout",
        default=60,
        min=1,
        help="Seconds to wait for the image service to answer one request.",
    ),
]


def register_opts(conf):
    conf.register_group(glance_group)
    conf.register_opts(glance_opts, group=glance_group)


def list_opts():
    return {glance_group.name: glance_opts}
