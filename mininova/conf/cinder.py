"""How Nova's services reach the volume service (mirrors ``nova/conf/cinder.py``)."""

from oslo_config import cfg

cinder_group = cfg.OptGroup("cinder", title="Volume service client options")

cinder_opts = [
    cfg.StrOpt(
        "endpoint_template",
        default="http://127.0.0.1:8776/v3/%(project_id)s",
        help="URL of the Block Storage API, with %(project_id)s for the "
        "project of the request (Nova's option; Nova reads the Keystone "
        "catalog when it is not set, mininova always uses it).",
    ),
    cfg.IntOpt(
        "timeout",
        default=60,
        min=1,
        help="Seconds to wait for the volume service to answer one request.",
    ),
]


def register_opts(conf):
    conf.register_group(cinder_group)
    conf.register_opts(cinder_opts, group=cinder_group)


def list_opts():
    return {cinder_group.name: cinder_opts}
