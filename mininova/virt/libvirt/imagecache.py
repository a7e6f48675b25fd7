"""The ``_base`` image cache (mirrors ``nova/virt/libvirt/imagecache.py`` and
the caching part of ``imagebackend.py``).

Each image is downloaded once per host into
``$instances_path/_base/<sha1(image id)>`` as a raw file, and every instance
of that image gets a small qcow2 overlay on top of it. The file name hides
the image id (sha1) exactly as Nova does.

Two builds of the same uncached image at once must not both download it:
the fetch runs under a lock file in ``$instances_path/locks`` named after
the cache file, and the second build finds the file there when it gets the
lock.

Left out (for now): the periodic manager that removes unused base files.
"""

import hashlib
import os

from oslo_concurrency import lockutils
from oslo_log import log as logging

from mininova.conf import CONF
from mininova.virt import images

LOG = logging.getLogger(__name__)


def base_dir():
    return os.path.join(CONF.instances_path, CONF.image_cache.subdirectory_name)


def lock_dir():
    return os.path.join(CONF.instances_path, "locks")


def get_cache_fname(image_id):
    return hashlib.sha1(image_id.encode()).hexdigest()


def fetch_base_image(context, image, cache_mode="none"):
    """The path of the raw base file of ``image``, downloading it if needed."""
    filename = get_cache_fname(image["id"])
    path = os.path.join(base_dir(), filename)
    os.makedirs(base_dir(), exist_ok=True)
    os.makedirs(lock_dir(), exist_ok=True)
    with lockutils.lock(filename, lock_file_prefix="mininova-", external=True,
                        lock_path=lock_dir()):
        if os.path.exists(path):
            LOG.debug("Base image %s of image %s is cached, not downloading",
                      path, image["id"])
            return path
        images.fetch_to_raw(context, image, path, cache_mode)
    return path
