"""Quota options (mirrors ``nova/conf/quota.py``).

Only the limit the API enforces so far: the number of metadata items of a
server. Left out: per-project overrides and Nova's unified limits driver.
"""

from oslo_config import cfg

quota_group = cfg.OptGroup("quota", title="Quota options")

quota_opts = [
    cfg.IntOpt(
        "metadata_items",
        default=128,
        min=-1,
        help="How many metadata key/value pairs one server may have. A "
        "request over it is refused with 403, as Nova does, since it is a "
        "quota rather than a malformed request. -1 means no limit.",
    ),
]


def register_opts(conf):
    conf.register_group(quota_group)
    conf.register_opts(quota_opts, group=quota_group)


def list_opts():
    return {quota_group.name: quota_opts}
