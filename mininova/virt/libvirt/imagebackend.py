"""The instance's root disk (mirrors ``nova/virt/libvirt/imagebackend.py``,
its ``Qcow2`` backend only).

``create_root_disk`` makes ``<instance dir>/disk``: a qcow2 overlay whose
backing file is the cached raw base of the image, sized to the flavor's
root disk (or to the image itself for a 0 GB root disk, as m1.nano has), and
records its format in ``disk.info``. Before each overlay the base's bytes are
inspected again (:mod:`mininova.virt.format_inspector`): it must be raw.

A resize's destination uses :func:`adopt_migrated_disk`: the source's
overlay is copied here and re-pointed (``qemu-img rebase -u``) at this
host's own base of the same image, then :func:`grow_root_disk` extends it to
the new flavor. The copy is a file the guest wrote: before and after the
rebase its header must show a qcow2 whose only outside file is that base
(Nova's ``_create_images_and_backing`` and ``disk.extend``).

The ephemeral and swap disks (``disk.local``, ``disk.eph<N>``,
``disk.swap``) are plain raw sparse files of their own, made and formatted
on the host (Nova's ``_create_ephemeral`` and ``_create_swap``: ``mkfs``
with the label ``ephemeral<N>``, ``mkswap``). Nova makes them once in
``_base`` and gives each instance a qcow2 overlay; a formatted empty disk
is cheap to make again, so mininova skips the cache. A server booted from a
volume has no ``disk``: its root is the volume.

Left out: the Raw, Flat, LVM, RBD and Ploop backends (the root disk is
always a qcow2 overlay), the ephemeral cache in ``_base``, vfat and ntfs
(no such mkfs on the hosts this runs on).
"""

import os

from oslo_log import log as logging
from oslo_utils import units

from mininova import exception, utils
from mininova.virt import format_inspector
from mininova.virt.libvirt import imagecache
from mininova.virt.libvirt import utils as libvirt_utils

LOG = logging.getLogger(__name__)


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


# The guest_formats an ephemeral disk may have: each one's mkfs exists on
# the host (e2fsprogs); an unknown one is refused rather than left raw.
EPHEMERAL_FORMATS = ("ext2", "ext3", "ext4")


def create_ephemeral(path, size_gb, fs_format, label):
    """A raw sparse file of ``size_gb`` GB, formatted with ``fs_format``
    (labelled ``label``) or left empty when there is none."""
    _create_sparse(path, size_gb * units.Gi)
    if fs_format:
        if fs_format not in EPHEMERAL_FORMATS:
            raise exception.InvalidInput(
                reason=f"guest_format {fs_format!r} is not one of "
                       f"{', '.join(EPHEMERAL_FORMATS)} (or swap)")
        utils.execute("mkfs", "-t", fs_format, "-F", "-q", "-L", label, path)
    return path


def create_swap(path, size_mb):
    """A raw sparse file of ``size_mb`` MB with a swap signature."""
    _create_sparse(path, size_mb * units.Mi)
    utils.execute("mkswap", path)
    return path


def _create_sparse(path, size_bytes):
    with open(path, "wb") as f:
        f.truncate(size_bytes)


def adopt_migrated_disk(context, image, source_disk, instance_dir, cache_mode,
                        source_base=None):
    """``<instance dir>/disk``: a copy of ``source_disk`` (another host's
    overlay of ``image``) backed by this host's base of the image, fetched
    if needed (or copied from ``source_base`` when the image is gone)."""
    base = imagecache.fetch_base_image(context, image, cache_mode, fallback_path=source_base)
    format_inspector.check(base, "raw", image["id"])
    disk_path = os.path.join(instance_dir, "disk")
    libvirt_utils.copy_disk(source_disk, disk_path)
    expected_name = imagecache.get_cache_fname(image["id"])
    _check_overlay(disk_path, image["id"],
                   lambda backing: os.path.basename(backing) == expected_name)
    libvirt_utils.rebase_unsafe(disk_path, base)
    _check_overlay(disk_path, image["id"], lambda backing: backing == base)
    libvirt_utils.write_disk_info(instance_dir, disk_path)
    return disk_path


def _check_overlay(disk_path, image_id, backing_allowed):
    """Refuse a copied disk that is not a plain qcow2 overlay whose backing
    file ``backing_allowed`` accepts: anything else in its header (a data
    file, unknown features, another backing file) would make qemu open a
    file of the guest's choosing."""
    inspection = format_inspector.detect(disk_path)
    if inspection.format != "qcow2":
        raise exception.ImageUnacceptable(
            image_id=image_id, reason=f"the migrated disk is {inspection.format}, not qcow2")
    backing = inspection.backing_file
    if backing is not None:
        backing = backing.decode("utf-8", errors="replace")
        if not backing_allowed(backing):
            raise exception.ImageUnacceptable(
                image_id=image_id, reason=f"the migrated disk is backed by {backing!r}, "
                                          f"not by a base file of this image")
        # The backing file is expected: the other problems still count.
        inspection.backing_file = None
    reason = inspection.refusal_reason("qcow2")
    if reason is not None:
        raise exception.ImageUnacceptable(image_id=image_id, reason=reason)


def root_disk_size(disk_path):
    """The virtual size of a disk we made (read from its qcow2 header)."""
    return format_inspector.detect(disk_path).virtual_size


def check_can_resize_to(instance, disk_path, flavor):
    """Raise ResizeError when ``flavor`` would need a smaller root disk than
    the instance has: a disk is never shrunk (the guest's filesystem fills
    it). Nova compares the flavors' root_gb; a 0 GB root disk is as big as
    the image, so the disk's real size is compared too."""
    new_gb, old_gb = flavor["root_gb"], instance["flavor"]["root_gb"]
    too_small = new_gb < old_gb
    if new_gb and not too_small:
        too_small = new_gb * units.Gi < (root_disk_size(disk_path) or 0)
    if too_small:
        raise exception.CannotResizeDisk(reason="Unable to resize disk down.")


def grow_root_disk(instance, disk_path):
    """Extend the disk to the instance's flavor's root_gb, if that is bigger
    (0 GB means "as big as the image": nothing to do)."""
    wanted = instance["flavor"]["root_gb"] * units.Gi
    current = root_disk_size(disk_path) or 0
    if wanted > current:
        LOG.debug("Growing %s from %d to %d bytes", disk_path, current, wanted)
        libvirt_utils.resize_disk(disk_path, wanted)


def _root_disk_bytes(instance, image, image_bytes):
    root_gb = instance["flavor"]["root_gb"]
    if root_gb == 0:
        # "As big as the image": the overlay takes the base's size.
        return None
    root_bytes = root_gb * units.Gi
    if image_bytes > root_bytes:
        raise exception.FlavorDiskSmallerThanImage(flavor_size=root_bytes,
                                                   image_size=image_bytes)
    return root_bytes
