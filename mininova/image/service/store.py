"""The file store and the check of uploaded disk images (mirrors
``glance_store/_drivers/filesystem.py`` and Glance's use of its format
inspector, ``glance/common/format_inspector.py``).

An image's data is one file, ``$store_path/<image id>``. An upload is
written to ``<image id>.part`` and renamed into place only once it has been
checked, so a file without ``.part`` is always complete: a downloader never
sees half an image, and a crash mid-upload leaves only a ``.part`` to remove.

The check, :func:`inspect_disk`, has two stages:

1. :mod:`mininova.virt.format_inspector` reads the file's headers, without
   running anything, and refuses what Nova's image advisories refuse: data
   that is not in the declared ``disk_format`` (OSSA-2024-002), such as a
   "raw" image whose first bytes are a qcow2, VMDK, VDI or QED header; a
   qcow2 with a backing file or an external data file (OSSA-2015-014,
   OSSA-2024-001), an unknown version or unknown incompatible features;
   QED; a VMDK other than the self-contained ``monolithicSparse`` and
   ``streamOptimized`` kinds, whose extents could name host paths
   (OSSA-2023-002).
2. Only then, for the formats that have a header, ``qemu-img info
   --force-share --output=json -f <format>``: it gives the virtual size and
   a second opinion from qemu's own parser. It runs through the compute's
   :func:`mininova.virt.images.qemu_img_info`, so under the same CPU and
   memory limits (a crafted image must not eat the host: OSSA-2016-012).
   For raw bytes and ISOs the virtual size is the file's size.

mininova-image shares these two with mininova-compute, which checks again
before it converts: Glance and Nova each carry a copy instead.

Uploads are streamed to the ``.part`` file 1 MiB at a time, hashed on the
way (md5 and ``[image_service] hashing_algorithm``, sha512 unless
configured otherwise, as Glance), so memory use does not grow with the image. A known
limit of the WSGI server, not of this code: waitress receives the whole
request body, into a temporary file past 512 KiB, before it calls the
application; a large upload thus briefly takes twice its size on disk, and
the image stays ``queued`` until the body has fully arrived.

Left out: other stores (Swift, Ceph, HTTP) and multiple locations per
image; inspecting the data while it arrives (Glance feeds its inspector
chunk by chunk, and can stop a bad upload early).
"""

import hashlib
import os
import uuid

from oslo_log import log as logging

from mininova import exception
from mininova.virt import format_inspector, images

LOG = logging.getLogger(__name__)

# Uploads and downloads move through memory one chunk at a time, whatever
# the image's size.
CHUNK_SIZE = 1024 * 1024

DISK_FORMATS = ("raw", "qcow2", "vmdk", "vdi", "iso")
CONTAINER_FORMATS = ("bare",)


class InvalidImageData(Exception):
    """The uploaded data is not an acceptable image of its declared format."""

    def __init__(self, reason):
        self.reason = reason
        super().__init__(reason)


class UploadedData:
    """What writing an upload measured: its size and its two digests (md5,
    and the multihash with its algorithm's name)."""

    def __init__(self, size, checksum, os_hash_algo, os_hash_value):
        self.size = size
        self.checksum = checksum
        self.os_hash_algo = os_hash_algo
        self.os_hash_value = os_hash_value


class FileStore:
    """Image files in one directory, named after the images' ids; uploads
    hashed with ``hashing_algorithm`` (``[image_service]``'s, Glance's
    option) besides md5."""

    def __init__(self, path, hashing_algorithm):
        self.path = path
        self.hashing_algorithm = hashing_algorithm
        os.makedirs(path, exist_ok=True)

    def path_for(self, image_id):
        # Ids reach us from URLs: only a UUID may become part of a path, so
        # ``../../etc/passwd`` can never be one.
        uuid.UUID(image_id)
        return os.path.join(self.path, image_id)

    def location_url(self, image_id):
        """Where the image's data is, as Glance's filesystem store names it:
        ``file:///<absolute store path>/<id>``."""
        return "file://" + os.path.abspath(self.path_for(image_id))

    def partial_path_for(self, image_id):
        return self.path_for(image_id) + ".part"

    def write_partial(self, image_id, stream):
        """Copy ``stream`` (anything with ``read``) to ``<id>.part``, hashing it.

        Errors (such as a client that went away) propagate: the caller
        decides what becomes of the image and calls :meth:`discard_partial`.
        """
        md5 = hashlib.md5(usedforsecurity=False)
        multihash = hashlib.new(self.hashing_algorithm)
        size = 0
        with open(self.partial_path_for(image_id), "wb") as partial:
            while chunk := stream.read(CHUNK_SIZE):
                partial.write(chunk)
                md5.update(chunk)
                multihash.update(chunk)
                size += len(chunk)
            partial.flush()
            # The rename that follows must never publish a file whose bytes
            # are not on disk yet.
            os.fsync(partial.fileno())
        return UploadedData(size, md5.hexdigest(), self.hashing_algorithm,
                            multihash.hexdigest())

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


def _remove_if_present(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# --- checking an upload ---------------------------------------------------------

def inspect_disk(image_id, path, disk_format, size):
    """Check the uploaded file at ``path``; return its virtual size in bytes.

    Raises InvalidImageData with a reason meant for the uploader.
    """
    try:
        format_inspector.check(path, disk_format, image_id)
        qemu_format = images.qemu_format_of(disk_format)
        if qemu_format == "raw":
            # For raw bytes the disk is the file, and qemu-img could tell
            # nothing more: it reads them as they are.
            return size
        info = images.qemu_img_info(path, qemu_format)
        images.check_image_safe(image_id, info, qemu_format)
    except exception.ImageUnacceptable as exc:
        raise InvalidImageData(exc.kwargs["reason"]) from exc
    except exception.InvalidDiskInfo as exc:
        # qemu-img names the file; the uploader needs the why, not our paths.
        reason = exc.kwargs["reason"].replace(path, os.path.basename(path))
        raise InvalidImageData(f"qemu-img cannot read it as {qemu_format}: {reason}") from exc
    return info["virtual-size"]
