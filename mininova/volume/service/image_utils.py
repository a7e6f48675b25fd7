"""Writing an image into a volume (mirrors ``cinder/image/image_utils.py``:
``fetch_to_volume_format``, ``fetch``, ``check_virtual_size`` and
``convert_image``).

The steps, as Cinder takes them for a file-backed volume:

1. download the image from the image service into
   ``[volume] image_conversion_dir`` (qemu-img cannot read from a pipe: it
   seeks). The client is Nova's, :class:`mininova.image.glance.API`, which
   streams it, checks its hash (sha512, or md5), speaks with the user's
   token (or the service user's) and logs Cinder's line ``Image download
   283.00 MB at 74.68 MB/s``. Steps 2 to 5 start as soon as the last byte
   is written, while the hash catches up beside them
   (:meth:`~mininova.image.glance.API.download_then_check`); data that
   turns out wrong fails the volume (``error``) all the same;
2. refuse what is unsafe before qemu-img opens the file: the bytes are
   checked against the declared ``disk_format`` by
   :mod:`mininova.virt.format_inspector`, then ``qemu-img info -f <format>``
   runs under CPU/memory limits and must report no backing file and no
   data file (:func:`mininova.virt.images.check_image_safe`, the rules the
   compute applies to its base images);
3. refuse an image whose virtual size does not fit the volume (Cinder's
   ``Image virtual size is %dGB and doesn't fit in a volume of size %dGB.``);
4. ``qemu-img convert -f <format> -O raw`` into the volume file (qemu-img's
   default cache mode, as Cinder's for a file: see :func:`convert_image`),
   whatever the format, raw too (Cinder does the same: the copy is sparse,
   and the input format is never guessed), logging ``Converted 2252.00 MB
   image at 466.98 MB/s`` with the image's virtual size;
5. grow the file to the volume's size (the image may be smaller).

**The direct URL.** With ``[volume] allowed_direct_url_schemes = file``
and an image service that shows where an image's file is
(``direct_url: file:///...``, mininova-image's ``[image_service]
show_image_direct_url``; both off by default, as in Cinder and Glance),
step 1 is skipped: the checks and the convert read that file in place,
where the volume host shares the image store's disk. Cinder copies the file
into ``image_conversion_dir`` first, because its image client does not
know the path (its own comment says a ``cp`` would be faster); mininova
knows it, and the copy would only cost a second write of the data. Cinder
checks no checksum on this path, and neither does this one; a file that
cannot be read is an error (``Failed to download image <id>, reason:
IOError: 2 No such file or directory``), not a fall-back to HTTP, as in
Cinder.

The downloaded file is removed whatever happens; what is left at start-up
by a killed service is removed by :func:`cleanup_temporary_files`.

Left out: Cinder's image-volume cache, cloning from a Glance image stored
in the same backend, compressed containers, and the conversion of a volume
back into an image (``os-volume_upload_image``).
"""

import math
import os
import time
import urllib.parse
import uuid

from oslo_log import log as logging
from oslo_utils import units

from mininova import utils
from mininova.conf import CONF
from mininova.image import glance
from mininova.virt import format_inspector, images
from mininova.volume.service import exception

LOG = logging.getLogger(__name__)

TEMPORARY_PREFIX = "image_download_"


def fetch_to_volume(context, image_meta, volume_path, size_gb):
    """Make ``volume_path`` a raw volume of ``size_gb`` GiB holding the image:
    from the image's file itself when its direct URL may be read (see
    :func:`direct_file_path`), else from a download."""
    image_id = image_meta["id"]
    source = direct_file_path(image_meta)
    if source is not None:
        _check_readable(image_id, source)
        _write_image(image_meta, source, volume_path, size_gb)
        return
    tmp = _temporary_path(image_id)
    try:
        # The checks and the convert overlap the end of the download's hash
        # check (see mininova.virt.images.fetch_to_raw); should it fail, the
        # volume is put in error by the manager, never made available.
        with glance.API().download_then_check(context, image_id, tmp, sync=False,
                                              image_meta=image_meta):
            _write_image(image_meta, tmp, volume_path, size_gb)
    finally:
        _remove(tmp)


def direct_file_path(image_meta):
    """The path of the image's file, when ``[volume]
    allowed_direct_url_schemes`` has ``file`` and the image service shows
    a ``file://`` location for it (its ``direct_url``, then its
    ``locations``), else None: Cinder's ``GlanceImageService.download``.

    No checksum is checked on this path, as in Cinder (which copies the
    file with ``shutil.copyfileobj`` and checks nothing; the hash check is
    glanceclient's, on the HTTP download only): the image service hashed
    the data at upload, and a store file is never rewritten afterwards.
    The format checks that follow are made all the same.
    """
    if "file" not in CONF.volume.allowed_direct_url_schemes:
        return None
    urls = [image_meta.get("direct_url")]
    urls += [location.get("url") for location in image_meta.get("locations") or []]
    for url in urls:
        if url and urllib.parse.urlparse(url).scheme == "file":
            return urllib.parse.urlparse(url).path
    return None


def _check_readable(image_id, path):
    """Fail as Cinder fails when the direct URL's file cannot be read (no
    fall-back to the HTTP download: a wrong location is the operator's to
    fix, and Cinder's open() raises IOError, its fetch ImageDownloadFailed)."""
    try:
        with open(path, "rb") as image_file:
            size = os.fstat(image_file.fileno()).st_size
    except OSError as exc:
        raise exception.ImageDownloadFailed(
            image_href=image_id, reason=f"IOError: {exc.errno} {exc.strerror}") from exc
    # Not Cinder's "Image download" line: nothing is downloaded or copied.
    LOG.info("Image %(id)s read in place from its direct URL file://%(path)s "
             "(%(size).2f MB): no download", {"id": image_id, "path": path,
                                              "size": size / units.Mi})


def _write_image(image_meta, source, volume_path, size_gb):
    """The checks, then the convert and the resize (steps 2 to 5 above)."""
    image_id = image_meta["id"]
    disk_format = image_meta.get("disk_format") or "raw"
    declared = images.qemu_format_of(disk_format)
    format_inspector.check(source, disk_format, image_id)
    info = images.qemu_img_info(source, declared)
    images.check_image_safe(image_id, info, declared)
    check_virtual_size(info.get("virtual-size"), size_gb, image_id)
    convert_image(source, volume_path, declared, info.get("virtual-size") or 0)
    grow_to(volume_path, size_gb)


def grow_to(path, size_gb):
    """Give a raw volume file that is smaller than its volume the rest, as a
    hole at the end (``qemu-img resize``, as Cinder's file drivers). Only
    when it is smaller: qemu-img flushes the file when it closes it, so a
    resize to the size the file already has would write every dirty page of
    the convert out for nothing (0.23 s of a 0.5 s volume, measured here)."""
    if os.path.getsize(path) < size_gb * units.Gi:
        utils.execute("qemu-img", "resize", "-f", "raw", path, f"{size_gb}G")


def check_virtual_size(virtual_size, volume_size_gb, image_id):
    """Refuse an image whose disk does not fit the volume; the virtual size
    counts, in whole GiB rounded up, not the (maybe compressed) file size."""
    if not virtual_size:
        return
    image_gb = int(math.ceil(float(virtual_size) / units.Gi))
    if image_gb > volume_size_gb:
        raise exception.ImageUnacceptable(
            image_id=image_id,
            reason=f"Image virtual size is {image_gb}GB and doesn't fit in a volume of "
                   f"size {volume_size_gb}GB.")


def convert_image(source, dest, source_format, virtual_size):
    """qemu-img convert into the raw volume file, with Cinder's speed line.

    No ``-t``: qemu-img's default cache mode for its output, ``unsafe``,
    which flushes nothing. That is Cinder's choice for a volume that is a
    file (``convert_image`` adds ``-t none`` only when the destination is a
    block device that takes O_DIRECT; its comment: "In the case of file
    devices qemu does the flush properly and more efficiently than would be
    done setting O_DIRECT"). The data reaches the disk with the page cache's
    own writeback, a few seconds later; a host that crashes in between can
    lose a volume just made, as with Cinder's file backends. Measured here
    (bench/volume.py), ``-t none`` or ``writeback`` take about twice as long
    for a 512 MiB image.
    """
    started = time.monotonic()
    images.convert_image(source, dest, source_format, "raw", cache_mode=None)
    elapsed = max(time.monotonic() - started, 1e-6)
    size_mb = virtual_size / units.Mi
    LOG.info("Converted %(sz).2f MB image at %(mbps).2f MB/s",
             {"sz": size_mb, "mbps": size_mb / elapsed})


def cleanup_temporary_files():
    """Remove downloads a killed service left behind (Cinder's
    ``cleanup_temporary_file`` at start)."""
    directory = CONF.volume.image_conversion_dir
    for name in utils.listdir(directory):
        if name.startswith(TEMPORARY_PREFIX):
            LOG.info("Removing the left-over image download %s", name)
            _remove(os.path.join(directory, name))


def _temporary_path(image_id):
    directory = CONF.volume.image_conversion_dir
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, f"{TEMPORARY_PREFIX}{image_id}_{uuid.uuid4().hex[:8]}")


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
