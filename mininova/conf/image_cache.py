"""Options of the ``_base`` image cache (mirrors ``nova/conf/imagecache.py``)."""

from oslo_config import cfg

image_cache_group = cfg.OptGroup("image_cache", title="Image cache options")

image_cache_opts = [
    cfg.StrOpt(
        "subdirectory_name",
        default="_base",
        help="Directory under instances_path where base images are cached.",
    ),
]


def register_opts(conf):
    conf.register_group(image_cache_group)
    conf.register_opts(image_cache_opts, group=image_cache_group)


def list_opts():
    return {image_cache_group.name: image_cache_opts}
