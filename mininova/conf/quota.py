"""Quota options (mirrors ``nova/conf/quota.py``).

The defaults every project gets until an admin changes them: with
``os-quota-class-sets/default`` for every project (stored in the database,
and winning over these options), or with ``os-quota-sets/<project>`` for
one. ``-1`` means unlimited. ``mininova/quota.py`` counts and enforces them.

Left out: per-user quotas, Nova's ``driver`` choice (the database driver is
the only one: no unified limits in Keystone, no no-op driver), counting
usage from Placement, and the injected-file limits (no personality files
here; the API shows Nova's defaults for them).
"""

from oslo_config import cfg

quota_group = cfg.OptGroup("quota", title="Quota options")

quota_opts = [
    cfg.IntOpt(
        "instances",
        default=10,
        min=-1,
        help="How many servers one project may have (counted from the "
        "database: every server not deleted, whatever its state). -1 means "
        "no limit.",
    ),
    cfg.IntOpt(
        "cores",
        default=20,
        min=-1,
        help="How many vCPUs one project's servers may have in all (the sum "
        "of their flavors' vcpus). -1 means no limit.",
    ),
    cfg.IntOpt(
        "ram",
        default=50 * 1024,
        min=-1,
        help="How many MB of RAM one project's servers may have in all (the "
        "sum of their flavors' ram). -1 means no limit.",
    ),
    cfg.IntOpt(
        "metadata_items",
        default=128,
        min=-1,
        help="How many metadata key/value pairs one server may have. A "
        "request over it is refused with 403, as Nova does, since it is a "
        "quota rather than a malformed request. -1 means no limit.",
    ),
    cfg.IntOpt(
        "key_pairs",
        default=100,
        min=-1,
        help="How many key pairs one user may have. -1 means no limit.",
    ),
    cfg.IntOpt(
        "server_groups",
        default=10,
        min=-1,
        help="How many server groups one project may have. -1 means no limit.",
    ),
    cfg.IntOpt(
        "server_group_members",
        default=10,
        min=-1,
        help="How many servers of one user one server group may hold. -1 "
        "means no limit.",
    ),
    cfg.BoolOpt(
        "recheck_quota",
        default=True,
        help="Count the usage again after the new records are written and "
        "undo them if a concurrent request got there first and the quota is "
        "now exceeded (Nova's way since Pike, instead of reservations). "
        "Without it two racing requests may both pass the first count.",
    ),
]


def register_opts(conf):
    conf.register_group(quota_group)
    conf.register_opts(quota_opts, group=quota_group)


def list_opts():
    return {quota_group.name: quota_opts}
