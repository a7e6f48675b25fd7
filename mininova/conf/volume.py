"""Options of mininova-volume, the Cinder-like block storage service.

Where Cinder has an option for the same thing, its name is kept
(``osapi_volume_listen_port``, ``image_conversion_dir``,
``default_volume_type``, ``storage_availability_zone``); Cinder keeps them
in ``[DEFAULT]`` of its own cinder.conf, mininova-volume in ``[volume]`` of
the mininova.conf it shares with the other services.
"""

from oslo_config import cfg, types

volume_group = cfg.OptGroup(
    "volume", title="mininova-volume (the Cinder-like block storage service) options"
)

api_opts = [
    cfg.StrOpt("osapi_volume_listen", default="0.0.0.0",
               help="IP address the Block Storage API listens on."),
    cfg.PortOpt("osapi_volume_listen_port", default=8776,
                help="Port the Block Storage API listens on (Cinder's 8776)."),
    cfg.IntOpt("osapi_volume_workers", default=8, min=1,
               help="Threads of its WSGI server."),
    cfg.StrOpt(
        "connection",
        default="sqlite:///$state_path/volume.sqlite",
        secret=True,
        help="SQLAlchemy URL of the volume service's own database: like Cinder, "
        "it does not share Nova's.",
    ),
    cfg.StrOpt("default_volume_type", default="__DEFAULT__",
               help="Volume type of a volume created without one (Cinder's name "
               "and default)."),
    cfg.StrOpt("storage_availability_zone", default="nova",
               help="Availability zone of the volumes (Cinder's option): a volume "
               "create naming another zone is refused."),
]

backend_opts = [
    cfg.StrOpt("volumes_path", default="$state_path/volumes",
               help="Directory holding the volume files (volume-<id>, raw, sparse) "
               "and the snapshot files (snapshot-<id>)."),
    cfg.StrOpt("image_conversion_dir", default="$state_path/conversion",
               help="Where an image is downloaded before it is converted into a "
               "volume (Cinder's option). Left-overs are removed at start."),
    cfg.ListOpt("allowed_direct_url_schemes", default=[],
                item_type=types.String(choices=["file"]),
                help="URL schemes of an image's direct_url (or locations) the volume "
                "service may read the image from instead of downloading it over HTTP "
                "(Cinder's option; Cinder also knows 'cinder'). With 'file', an image "
                "whose direct_url is file:///... is converted straight from that file: "
                "for an image store on a disk this host shares, with mininova-image's "
                "[image_service] show_image_direct_url on. As in Cinder, that path "
                "makes no checksum check (the HTTP download checks the image's hash); "
                "the format checks are made the same."),
    cfg.IntOpt("backend_native_threads_pool_size", default=4, min=1,
               help="Volume operations (create, delete, snapshot, extend) run at "
               "once; more wait their turn (Cinder's option; its default 20 is "
               "for storage arrays, not a laptop's disk)."),
]

export_opts = [
    cfg.HostAddressOpt("nbd_host", default="127.0.0.1",
                       help="Address the NBD exports listen on and that "
                       "connection_info gives the compute: a compute on "
                       "another machine needs an address it can reach."),
    cfg.PortOpt("nbd_port_min", default=10809,
                help="Lowest TCP port an NBD export may use (10809 is NBD's own)."),
    cfg.PortOpt("nbd_port_max", default=10999,
                help="Highest TCP port an NBD export may use: one port per "
                "attachment."),
    cfg.IntOpt("export_start_timeout", default=10, min=1,
               help="Seconds qemu-storage-daemon has to open a volume and listen "
               "before the attachment fails."),
]

quota_opts = [
    cfg.IntOpt("quota_volumes", default=10, min=-1,
               help="Volumes a project may have (-1: no limit; Cinder's option and default)."),
    cfg.IntOpt("quota_snapshots", default=10, min=-1,
               help="Snapshots a project may have."),
    cfg.IntOpt("quota_gigabytes", default=1000, min=-1,
               help="GiB of volumes and snapshots together a project may have."),
    cfg.IntOpt("quota_backups", default=10, min=-1,
               help="Backups a project may have (shown; backups are left out)."),
    cfg.IntOpt("quota_backup_gigabytes", default=1000, min=-1,
               help="GiB of backups a project may have (shown; backups are left out)."),
    cfg.IntOpt("quota_groups", default=10, min=-1,
               help="Volume groups a project may have (shown; groups are left out)."),
    cfg.IntOpt("per_volume_size_limit", default=-1, min=-1,
               help="Largest volume in GiB (-1: no limit): the per_volume_gigabytes quota."),
]

volume_opts = api_opts + backend_opts + export_opts + quota_opts


def register_opts(conf):
    conf.register_group(volume_group)
    conf.register_opts(volume_opts, group=volume_group)


def list_opts():
    return {volume_group.name: volume_opts}
