"""The instance's root disk (mirrors ``nova/virt/libvirt/imagebackend.py``,
its ``Qcow2`` backend only).

``create_root_disk`` makes ``<instance dir>/disk``: a qcow2 overlay whose
backing file is the cached raw base of the image, sized to the flavor's
root disk (or to the image itself for a 0 GB root disk, as m1.nano has), and
records its format in ``disk.info``. Before each overlay the base's bytes are
inspected again (:mod:`mininova.virt.format_inspector`): it must be raw.

Left out: the Raw, Flat, LVM, RBD and Ploop backends, ephemeral and swap
disks.
"""

import os

from oslo_log import log as logging

from mininova import exception
from mininova.virt import format_inspector
from mininova.virt.libvirt import imagecache
from mininova.virt.libvirt import utils as libvirt_utils

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3


def create_root_disk(context, instance, image, instance_dir, cache_mode):
    base = imagecache.fetch_base_image(context, image, cache_mode)
    # Checked again before every overlay: the base is what the guest will
    # read, and it must still be the plain raw file we made. The overlay
    # names it with backing_fmt=raw, so qemu will never probe it; but a base
    # file that now looks like a qcow2 or a VMDK was altered, or was cached
    # by a version that did not check, and must not be used. For raw bytes
    # the inspector's headers are all there is to check: qemu-img info would
    # add nothing but a process.
    inspection = format_inspector.check(base, "raw", image["id"])
    size = _root_disk_bytes(instance, image, inspection.virtual_size)
    disk_path = os.path.join(instance_dir, "disk")
    libvirt_utils.create_cow_image(base, disk_path, size)
    libvirt_utils.write_disk_info(instance_dir, disk_path)
    return disk_path


def _root_disk_bytes(instance, image, image_bytes):
    root_gb = instance["flavor"]["root_gb"]
    if root_gb == 0:
        # "As big as the image": the overlay takes the base's size.
        return None
    root_bytes = root_gb * GiB
    if image_bytes > root_bytes:
        raise exception.FlavorDiskSmallerThanImage(flavor_size=root_bytes,
                                                   image_size=image_bytes)
    return root_bytes
