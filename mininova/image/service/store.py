"""The file store and the check of uploaded disk images (mirrors
``glance_store/_drivers/filesystem.py`` and Glance's format inspection,
``glance/common/format_inspector.py``).

An image's data is one file, ``$store_path/<image id>``. An upload is
written to ``<image id>.part`` and renamed into place only once it has been
checked, so a file without ``.part`` is always complete: a downloader never
sees half an image, and a crash mid-upload leaves only a ``.part`` to remove.

The check runs ``qemu-img info`` naming the declared format with ``-f``
(qemu-img must never guess a format: a guest-written raw disk can look like
anything) under CPU and memory limits (a crafted image must not eat the
host: OSSA-2016-012), and refuses what Nova's image advisories refuse:

- data that is not in the declared ``disk_format`` (OSSA-2024-002), including
  a "raw" image whose first bytes are a qcow2, VMDK, VDI or QED header;
- a qcow2 with a backing file or an external data file: booting it would
  read a file of the compute host (OSSA-2015-014, OSSA-2024-001);
- a VMDK other than the self-contained ``monolithicSparse`` and
  ``streamOptimized`` kinds: a descriptor's extents can name host paths
  (OSSA-2023-002).

Left out: other stores (Swift, Ceph, HTTP), multiple locations per image,
Glance's pure-Python inspector (we ask qemu-img, which Nova also runs), and a
check that an ``iso`` really is ISO 9660 (qemu reads it as raw either way).
"""

import hashlib
import json
import os
import uuid

from oslo_concurrency import processutils
from oslo_log import log as logging

from mininova import exception, utils

LOG = logging.getLogger(__name__)

# Uploads and downloads move through memory one chunk at a time, whatever
# the image's size.
CHUNK_SIZE = 1024 * 1024

DISK_FORMATS = ("raw", "qcow2", "vmdk", "vdi", "iso")
CONTAINER_FORMATS = ("bare",)

# qemu has no "iso" driver: an ISO image is raw bytes to it.
QEMU_FORMAT_OF = {"raw": "raw", "iso": "raw", "qcow2": "qcow2", "vmdk": "vmdk", "vdi": "vdi"}

# Nova's limits for ``qemu-img info`` (nova/virt/images.py): 30 s of CPU and
# 2 GiB of address space; past them qemu-img is killed and the image refused.
QEMU_IMG_LIMITS = processutils.ProcessLimits(cpu_time=30, address_space=2 * 1024**3)

VMDK_ALLOWED_TYPES = ("monolithicSparse", "streamOptimized")

# The first bytes of the formats a "raw" image must not secretly be:
# (offset, magic, format).
_HEADER_MAGICS = (
    (0, b"QFI\xfb", "qcow2"),
    (0, b"KDMV", "vmdk"),
    (0, b"# Disk DescriptorFile", "vmdk"),
    (0, b"QED\x00", "qed"),
    (0x40, b"\x7f\x10\xda\xbe", "vdi"),
)


class InvalidImageData(Exception):
    """The uploaded data is not an acceptable image of its declared format."""

    def __init__(self, reason):
        self.reason = reason
        super().__init__(reason)


class UploadedData:
    """What writing an upload measured: its size and its two digests."""

    def __init__(self, size, checksum, os_hash_value):
        self.size = size
        self.checksum = checksum
        self.os_hash_value = os_hash_value


class FileStore:
    """Image files in one directory, named after the images' ids."""

    def __init__(self, path):
        self.path = path
        os.makedirs(path, exist_ok=True)

    def path_for(self, image_id):
        # Ids reach us from URLs: only a UUID may become part of a path, so
        # ``../../etc/passwd`` can never be one.
        uuid.UUID(image_id)
        return os.path.join(self.path, image_id)

    def partial_path_for(self, image_id):
        return self.path_for(image_id) + ".part"

    def write_partial(self, image_id, stream):
        """Copy ``stream`` (anything with ``read``) to ``<id>.part``, hashing it.

        Errors (such as a client that went away) propagate: the caller
        decides what becomes of the image and calls :meth:`discard_partial`.
        """
        md5 = hashlib.md5(usedforsecurity=False)
        sha512 = hashlib.sha512()
        size = 0
        with open(self.partial_path_for(image_id), "wb") as partial:
            while chunk := stream.read(CHUNK_SIZE):
                partial.write(chunk)
                md5.update(chunk)
                sha512.update(chunk)
                size += len(chunk)
            partial.flush()
            # The rename that follows must never publish a file whose bytes
            # are not on disk yet.
            os.fsync(partial.fileno())
        return UploadedData(size, md5.hexdigest(), sha512.hexdigest())

    def commit(self, image_id):
        """Publish a checked upload under the image's final name."""
        os.replace(self.partial_path_for(image_id), self.path_for(image_id))

    def discard_partial(self, image_id):
        _remove_if_present(self.partial_path_for(image_id))

    def delete(self, image_id):
        _remove_if_present(self.path_for(image_id))

    def open(self, image_id):
        """The image's file opened for reading; FileNotFoundError if absent."""
        return open(self.path_for(image_id), "rb")


def read_chunks(fileobj, chunk_size=CHUNK_SIZE):
    """Yield a file's bytes chunk by chunk, then close it."""
    with fileobj:
        while chunk := fileobj.read(chunk_size):
            yield chunk


def _remove_if_present(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# --- checking an upload ---------------------------------------------------------

def inspect_disk(path, disk_format, size):
    """Check the uploaded file at ``path``; return its virtual size in bytes.

    Raises InvalidImageData with a reason meant for the uploader.
    """
    qemu_format = QEMU_FORMAT_OF[disk_format]
    info = _qemu_img_info(path, qemu_format)
    if info.get("format") != qemu_format:
        raise InvalidImageData(
            f"qemu-img reports format {info.get('format')!r}, but the image's "
            f"disk_format is {disk_format!r}")
    if qemu_format == "raw":
        _reject_disguised_raw(path, disk_format)
        # For raw bytes the disk is the file.
        return size
    _reject_references_to_other_files(info, disk_format)
    return info["virtual-size"]


def _qemu_img_info(path, qemu_format):
    try:
        out, _err = utils.execute(
            "qemu-img", "info", "--output=json", "--force-share", "-f", qemu_format, path,
            prlimit=QEMU_IMG_LIMITS,
        )
    except exception.ProcessExecutionFailed as exc:
        # qemu-img names the file; the uploader needs the why, not our paths.
        reason = exc.kwargs.get("reason", str(exc)).replace(path, os.path.basename(path))
        raise InvalidImageData(f"it is not a valid {qemu_format} image: {reason}") from exc
    try:
        return json.loads(out)
    except ValueError as exc:
        raise InvalidImageData(f"qemu-img info gave unreadable output: {exc}") from exc


def _reject_disguised_raw(path, disk_format):
    with open(path, "rb") as image_file:
        header = image_file.read(512)
    for offset, magic, real_format in _HEADER_MAGICS:
        if header[offset:offset + len(magic)] == magic:
            raise InvalidImageData(
                f"the data is a {real_format} image, but the image's disk_format is "
                f"{disk_format!r}; create the image with disk_format {real_format!r}")


def _reject_references_to_other_files(info, disk_format):
    if info.get("backing-filename"):
        raise InvalidImageData(
            f"{disk_format} images with a backing file are not allowed "
            f"(backing file {info['backing-filename']!r}); flatten it with "
            f"'qemu-img convert' first")
    specific = info.get("format-specific", {}).get("data", {})
    if specific.get("data-file"):
        raise InvalidImageData(
            f"{disk_format} images with an external data file are not allowed")
    if disk_format == "vmdk" and specific.get("create-type") not in VMDK_ALLOWED_TYPES:
        raise InvalidImageData(
            f"VMDK create-type {specific.get('create-type')!r} is not allowed; "
            f"only {', '.join(VMDK_ALLOWED_TYPES)}")
