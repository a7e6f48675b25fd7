"""Scheduler options (mirrors ``nova/conf/scheduler.py``, Queens/Rocky era)."""

from oslo_config import cfg

scheduler_group = cfg.OptGroup("scheduler", title="Scheduler options")

scheduler_opts = [
    cfg.IntOpt(
        "max_attempts",
        default=3,
        min=1,
        help="How many hosts a build may be tried on before the instance goes "
        "to ERROR.",
    ),
]

filter_scheduler_group = cfg.OptGroup(
    "filter_scheduler", title="Filter scheduler options"
)

filter_scheduler_opts = [
    cfg.ListOpt(
        "available_filters",
        default=["mininova.scheduler.filters.all_filters"],
        help="Filter classes the scheduler may use, as import paths. The "
        "default loads every filter shipped with mininova; add your own "
        "class path here and name it in enabled_filters.",
    ),
    cfg.ListOpt(
        "enabled_filters",
        default=[
            "RetryFilter",
            "AvailabilityZoneFilter",
            "RamFilter",
            "DiskFilter",
            "ComputeFilter",
            "ComputeCapabilitiesFilter",
            "ImagePropertiesFilter",
            "ServerGroupAntiAffinityFilter",
            "ServerGroupAffinityFilter",
        ],
        help="Filters run, in order, on every scheduling request. A filter "
        "named here that is not among the available filters stops the "
        "scheduler at start, with its name.",
    ),
    cfg.ListOpt(
        "weight_classes",
        default=["mininova.scheduler.weights.all_weighers"],
        help="Weighers that rank the hosts that passed the filters.",
    ),
    cfg.FloatOpt(
        "ram_weight_multiplier",
        default=1.0,
        help="Multiplier of the RAM weigher: positive spreads instances over "
        "hosts with the most free RAM, negative stacks them.",
    ),
    cfg.FloatOpt(
        "disk_weight_multiplier",
        default=1.0,
        help="Multiplier of the disk weigher: positive spreads, negative stacks.",
    ),
    cfg.FloatOpt(
        "soft_affinity_weight_multiplier",
        default=1.0,
        min=0.0,
        help="Multiplier of the ServerGroupSoftAffinityWeigher: how much a "
        "soft-affinity group prefers the host with the most of its members.",
    ),
    cfg.FloatOpt(
        "soft_anti_affinity_weight_multiplier",
        default=1.0,
        min=0.0,
        help="Multiplier of the ServerGroupSoftAntiAffinityWeigher: how much a "
        "soft-anti-affinity group prefers the host with the fewest of its members.",
    ),
    cfg.IntOpt(
        "explained_weights",
        default=20,
        min=1,
        help="How many of the best-weighed hosts each scheduling decision keeps "
        "for 'mininova server-explain' (all filter failures are always kept).",
    ),
    cfg.IntOpt(
        "host_subset_size",
        default=1,
        min=1,
        help="The host is picked at random among this many best-weighed hosts.",
    ),
]


def register_opts(conf):
    conf.register_group(scheduler_group)
    conf.register_opts(scheduler_opts, group=scheduler_group)
    conf.register_group(filter_scheduler_group)
    conf.register_opts(filter_scheduler_opts, group=filter_scheduler_group)


def list_opts():
    return {
        scheduler_group.name: scheduler_opts,
        filter_scheduler_group.name: filter_scheduler_opts,
    }
