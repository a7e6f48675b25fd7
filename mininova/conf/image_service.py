"""Options of mininova-image, the Glance-like image service."""

import hashlib

from oslo_config import cfg

HASHING_ALGORITHMS = sorted(name for name in hashlib.algorithms_guaranteed
                            if not name.startswith("shake_"))

image_service_group = cfg.OptGroup(
    "image_service", title="mininova-image (the Glance-like service) options"
)

image_service_opts = [
    cfg.StrOpt("bind_host", default="0.0.0.0", help="IP address mininova-image listens on."),
    cfg.PortOpt("bind_port", default=9292, help="Port mininova-image listens on (Glance's 9292)."),
    cfg.StrOpt(
        "connection",
        default="sqlite:///$state_path/image.sqlite",
        secret=True,
        help="SQLAlchemy URL of the image service's own database: like Glance, "
        "it does not share Nova's.",
    ),
    cfg.StrOpt(
        "store_path",
        default="$state_path/images",
        help="Directory holding the uploaded image files (Glance's file store).",
    ),
    cfg.IntOpt("workers", default=8, min=1, help="Threads of its WSGI server."),
    cfg.BoolOpt(
        "show_image_direct_url",
        default=False,
        help="Show an active image's location in the store, as direct_url "
        "(file:///<store_path>/<id>), in the image's record (Glance's option, off "
        "by default as in Glance: a location tells who reads it where the data "
        "lives). A volume service on the same disk, with [volume] "
        "allowed_direct_url_schemes = file, then converts the image from that "
        "file instead of downloading it.",
    ),
    cfg.StrOpt(
        "hashing_algorithm",
        default="sha512",
        choices=HASHING_ALGORITHMS,
        help="The hash of an image's data shown as its os_hash_value, with "
        "os_hash_algo naming it (Glance's option, sha512 by default; Glance takes "
        "any name hashlib.new() knows, here the ones every Python has, but the "
        "shake_* of variable length). Clients check a download against it "
        "(mininova-compute and mininova-volume as Nova and Cinder do, through "
        "glanceclient). Images keep the hash they were uploaded with. sha256 "
        "takes less than half the CPU of sha512 on a CPU with SHA extensions "
        "(docs/images.md).",
    ),
    cfg.IntOpt(
        "image_size_cap",
        default=1024 ** 4,
        min=1,
        help="Largest image upload accepted, in bytes (Glance's option, 1 TiB).",
    ),
]


def register_opts(conf):
    conf.register_group(image_service_group)
    conf.register_opts(image_service_opts, group=image_service_group)


def list_opts():
    return {image_service_group.name: image_service_opts}
