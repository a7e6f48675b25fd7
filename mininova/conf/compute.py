"""Options of mininova-compute (mirrors ``nova/conf/compute.py``)."""

from oslo_config import cfg

compute_opts = [
    cfg.StrOpt(
        "compute_driver",
        default="libvirt.LibvirtDriver",
        help="The virt driver, as a path under ``mininova.virt``: "
        "``libvirt.LibvirtDriver`` boots real guests through libvirt; "
        "``fake.FakeDriver`` keeps pretend guests in memory (tests and demos).",
    ),
    cfg.IntOpt(
        "max_local_block_devices",
        default=3,
        help="Most disks on the compute host (destination_type local: the root "
        "disk made from the image, ephemeral and swap disks) one server may ask "
        "for; a request for more is a 400. Negative: no limit (Nova's option, "
        "checked by the API).",
    ),
    cfg.StrOpt(
        "instances_path",
        default="$state_path/instances",
        help="Where instance directories live: ``<uuid>/disk``, ``libvirt.xml``, "
        "``console.log``, and the image cache in ``_base``.",
    ),
    cfg.StrOpt(
        "instance_name_template",
        default="instance-%08x",
        help="Template for the hypervisor's name of an instance, filled with the "
        "instance's database id.",
    ),
    cfg.IntOpt(
        "reserved_host_memory_mb",
        default=512,
        min=0,
        help="Memory (MB) kept for the host: counted as used from the start.",
    ),
    cfg.IntOpt(
        "reserved_host_disk_mb",
        default=0,
        min=0,
        help="Disk (MB) kept for the host: counted as used from the start.",
    ),
    cfg.IntOpt(
        "reserved_host_cpus",
        default=0,
        min=0,
        help="Host CPUs kept for the host: counted as used from the start.",
    ),
    cfg.FloatOpt(
        "ram_allocation_ratio",
        default=1.5,
        min=0.0,
        help="Virtual RAM to physical RAM ratio the RamFilter and the claims "
        "allow.",
    ),
    cfg.FloatOpt(
        "disk_allocation_ratio",
        default=1.0,
        min=0.0,
        help="Virtual disk to physical disk ratio the DiskFilter and the claims "
        "allow.",
    ),
    cfg.FloatOpt(
        "cpu_allocation_ratio",
        default=16.0,
        min=0.0,
        help="Virtual CPU to physical CPU ratio the CoreFilter and the claims "
        "allow.",
    ),
    cfg.IntOpt(
        "max_concurrent_builds",
        default=10,
        min=1,
        help="Most builds one compute service runs at the same time.",
    ),
    cfg.IntOpt(
        "update_resources_interval",
        default=60,
        min=1,
        help="Seconds between two runs of the resource tracker's periodic "
        "update_available_resource (the 'Final resource view' line).",
    ),
    cfg.StrOpt(
        "default_availability_zone",
        default="nova",
        help="Availability zone of compute hosts that no aggregate places in "
        "another zone.",
    ),
    cfg.StrOpt(
        "internal_service_availability_zone",
        default="internal",
        help="Availability zone shown for the controller services (conductor, "
        "scheduler).",
    ),
    cfg.IntOpt(
        "shutdown_timeout",
        default=60,
        min=0,
        help="Seconds a stop (or a resize, a snapshot...) waits for the guest to "
        "shut down cleanly after the ACPI power button, before pulling the plug. "
        "0 pulls it at once.",
    ),
    cfg.IntOpt(
        "sync_power_state_interval",
        default=600,
        help="Seconds between two periodic comparisons of every instance's "
        "power state in the database with the hypervisor's; <= 0 turns them "
        "off (lifecycle events still arrive).",
    ),
    cfg.BoolOpt(
        "allow_resize_to_same_host",
        default=False,
        help="Let a resize (not a cold migration) pick the instance's current "
        "host. Needed when there is only one compute host.",
    ),
    cfg.BoolOpt(
        "force_config_drive",
        default=False,
        help="Give every instance a config drive (disk.config), not only "
        "those whose request asks for one.",
    ),
    cfg.IntOpt(
        "vif_plugging_timeout",
        default=300,
        min=0,
        help="Seconds a boot waits for the network service's "
        "network-vif-plugged event of each port before it gives up (0: do "
        "not wait).",
    ),
    cfg.BoolOpt(
        "vif_plugging_is_fatal",
        default=True,
        help="Whether a boot whose network-vif-plugged events did not come "
        "fails (and is rescheduled) or goes on without them.",
    ),
    cfg.IntOpt(
        "command_timeout",
        default=60,
        min=1,
        help="Wall-clock seconds an external command whose work does not grow "
        "with the disk may run (qemu-img info, create, rebase, resize) before "
        "it is killed and the operation fails with '<command> timed out after "
        "N s'. A command stuck on I/O (a wedged NFS mount, a dying disk) uses "
        "no CPU, so its CPU limit never stops it: this does.",
    ),
    cfg.IntOpt(
        "image_copy_timeout",
        default=1800,
        min=1,
        help="The same wall-clock limit for the commands whose work grows with "
        "the disk: qemu-img convert (an image into its raw base file, a "
        "snapshot) and copying a disk for a resize.",
    ),
    cfg.IntOpt(
        "console_log_max_bytes",
        default=100 * 1024,
        min=1,
        help="Most bytes of console.log returned by os-getConsoleOutput (the "
        "tail of the file).",
    ),
]

compute_group = cfg.OptGroup("compute", title="Options of the compute service")

compute_group_opts = [
    cfg.IntOpt(
        "shutdown_retry_interval",
        default=10,
        min=1,
        help="Seconds between two presses of the ACPI power button while "
        "waiting up to shutdown_timeout for a guest to shut down.",
    ),
]

fake_driver_group = cfg.OptGroup(
    "fake_driver", title="The in-memory driver used by tests and demos"
)

fake_driver_opts = [
    cfg.IntOpt("memory_mb", default=8192, help="Memory the fake hypervisor reports."),
    cfg.IntOpt("vcpus", default=4, help="vCPUs the fake hypervisor reports."),
    cfg.IntOpt("local_gb", default=100, help="Disk (GB) the fake hypervisor reports."),
    cfg.FloatOpt(
        "spawn_seconds",
        default=0.0,
        min=0.0,
        help="Seconds a fake spawn takes, to watch the BUILD states go by.",
    ),
]


def register_opts(conf):
    conf.register_opts(compute_opts)
    conf.register_group(compute_group)
    conf.register_opts(compute_group_opts, group=compute_group)
    conf.register_group(fake_driver_group)
    conf.register_opts(fake_driver_opts, group=fake_driver_group)


def list_opts():
    return {"DEFAULT": compute_opts, compute_group.name: compute_group_opts,
            fake_driver_group.name: fake_driver_opts}
