"""Options of the ``_base`` image cache and its manager (mirrors
``nova/conf/imagecache.py``).

Left out: ``remove_unused_resized_minimum_age_seconds`` (no resized base
files here) and the old ``[DEFAULT] image_cache_*`` names Nova still reads.
"""

from oslo_config import cfg

image_cache_group = cfg.OptGroup("image_cache", title="Image cache options")

image_cache_opts = [
    cfg.StrOpt(
        "subdirectory_name",
        default="_base",
        help="Directory under instances_path where base images are cached.",
    ),
    cfg.IntOpt(
        "manager_interval",
        default=2400,
        help="Seconds between two passes of the image cache manager, the "
        "compute's periodic task that removes base files no instance of the "
        "host uses. 0 or a negative value turns it off.",
    ),
    cfg.BoolOpt(
        "remove_unused_base_images",
        default=True,
        help="Whether the image cache manager removes unused base files; when "
        "False it only logs which ones it would remove.",
    ),
    cfg.IntOpt(
        "remove_unused_original_minimum_age_seconds",
        default=86400,
        min=0,
        help="How long, in seconds, a base file must have gone unused before "
        "the image cache manager removes it. A base file in use is 'touched' on "
        "every pass, so its age counts from the last pass that saw it used.",
    ),
]


def register_opts(conf):
    conf.register_group(image_cache_group)
    conf.register_opts(image_cache_opts, group=image_cache_group)


def list_opts():
    return {image_cache_group.name: image_cache_opts}
