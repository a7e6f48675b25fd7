"""Fetching images and inspecting disk files (mirrors ``nova/virt/images.py``).

:func:`fetch_to_raw` is what turns an image id into a raw base file:

1. download from the image service to ``<path>.part`` (streamed; its hash,
   sha512 or md5, checked as glanceclient checks it, see step 5);
2. read the file's headers with :mod:`mininova.virt.format_inspector` and
   refuse what is unsafe *before* qemu-img opens it: a format other than the
   declared ``disk_format``, a qcow2 with a backing file, an external data
   file or unknown features, QED, a VMDK whose extents name other files;
3. ``qemu-img info --force-share --output=json -f <declared format>`` under
   CPU and memory limits (a crafted image must not hang or exhaust the host)
   and a wall-clock one (``[DEFAULT] command_timeout``: stuck I/O uses no
   CPU), and the same refusals on what qemu-img reports, as a second opinion;
4. qcow2, vmdk and vdi → ``qemu-img convert -t none -O raw -f <fmt>`` into
   ``<path>.converted``. Raw (and ISO, which qemu reads as raw) is kept
   as it is;
5. wait for the download's hash check, then rename into place.

Steps 2 to 4 begin as soon as the last byte is on disk, while the hash is
still catching up in a thread of its own
(:meth:`mininova.image.glance.API.download_then_check`): on a small host
the hash (sha512) is slower than the transfer, and this way it overlaps the
convert instead of coming before it. Nothing made from the data is put in
place before the hash is known good, and wrong data fails the fetch with
the checksum's message even when the convert failed first. Running the
format checks and qemu-img on bytes not yet verified exposes nothing new:
the hash says the data is the image's, not that the image is harmless,
which is what steps 2 and 3 are for.

Any failure removes the ``.part`` and ``.converted`` files: a half-made base
file must never be mistaken for a good one by the next boot.

Left out: Nova's ``[workarounds] disable_deep_image_inspection`` (the
inspector always runs) and conversion to formats other than raw (Nova's
``force_raw_images = False``).
"""

import json
import os
import time

from oslo_log import log as logging
from oslo_utils import units

from mininova import exception, processutils, utils
from mininova.conf import CONF
from mininova.image import glance
from mininova.virt import format_inspector

LOG = logging.getLogger(__name__)


# Nova's limits for qemu-img info (OSSA-2016-012): 30 s of CPU, 2 GiB of
# address space. The image service uses them too, through qemu_img_info.
QEMU_IMG_LIMITS = processutils.ProcessLimits(cpu_time=30, address_space=2 * units.Gi)


def qemu_format_of(disk_format):
    """The qemu block driver for an image's ``disk_format``: qemu has no
    "iso" driver, an ISO is raw bytes to it."""
    return "raw" if disk_format == "iso" else disk_format


def qemu_img_info(path, image_format):
    """``qemu-img info`` as a dict. ``image_format`` is what the file is
    *declared* to be; qemu-img is told, never left to guess."""
    try:
        out, _err = processutils.execute(
            "qemu-img", "info", "--force-share", "--output=json", "-f", image_format, path,
            limits=QEMU_IMG_LIMITS, timeout=CONF.command_timeout,
            env_variables={"LC_ALL": "C", "LANG": "C"})
    except (exception.ProcessTimeout, exception.ProcessKilled):
        # Not the file's doing (stuck I/O, an operator's kill): said as is.
        raise
    except exception.ProcessLimitExceeded as exc:
        # A file crafted to make qemu-img spin or swell: the file is refused.
        raise exception.InvalidDiskInfo(reason=f"{path}: {exc.format_message()}") from exc
    except exception.ProcessExecutionFailed as exc:
        raise exception.InvalidDiskInfo(reason=f"{path}: {exc.kwargs['reason']}") from exc
    try:
        return json.loads(out)
    except ValueError as exc:
        raise exception.InvalidDiskInfo(
            reason=f"{path}: qemu-img info gave unreadable output: {exc}") from exc


def check_image_safe(image_id, info, declared_format):
    """Refuse, from what ``qemu-img info`` said, images that would make qemu
    read other files of the host. The format inspector has already looked at
    the bytes; this is the second opinion, from qemu's own parser."""
    if info.get("format") != declared_format:
        raise exception.ImageUnacceptable(
            image_id=image_id,
            reason=f"format is {info.get('format')}, not the declared {declared_format}")
    if info.get("backing-filename"):
        raise exception.ImageUnacceptable(
            image_id=image_id, reason=f"fmt={declared_format} backed by: "
                                      f"{info['backing-filename']}")
    data_file = info.get("format-specific", {}).get("data", {}).get("data-file")
    if data_file:
        raise exception.ImageUnacceptable(
            image_id=image_id, reason=f"fmt={declared_format} with a data-file: {data_file}")


def convert_image(source, dest, in_format, out_format, cache_mode="none"):
    """``qemu-img convert`` with the input format always named (``-f``);
    its time grows with the image, hence its own wall-clock limit.
    ``cache_mode=None`` leaves qemu-img's own default for the output
    (``unsafe``: nothing flushed), as Cinder does for file volumes."""
    cache = ["-t", cache_mode] if cache_mode else []
    utils.execute("qemu-img", "convert", *cache, "-O", out_format,
                  "-f", in_format, source, dest, timeout=CONF.image_copy_timeout)


def fetch_to_raw(context, image, path, cache_mode="none"):
    """Make ``path`` a raw copy of ``image`` (a dict from the image service)."""
    image_id = image["id"]
    declared = image.get("disk_format") or "raw"
    part, converted = f"{path}.part", f"{path}.converted"
    try:
        # A raw image is renamed into place as downloaded, so it must reach
        # the disk first; any other is converted, and the converted file is
        # what must be durable (qemu-img writes it with -t none).
        with glance.API().download_then_check(context, image_id, part,
                                              sync=(declared == "raw"), image_meta=image):
            # The hash is still being checked meanwhile (see the docstring).
            qemu_format = _check_and_convert(image_id, part, converted, declared, cache_mode)
        # Checked: only now may the result be found by the next boot.
        if qemu_format == "raw":
            os.rename(part, path)
        else:
            os.unlink(part)
            os.rename(converted, path)
    except Exception:
        for leftover in (part, converted):
            if os.path.exists(leftover):
                os.unlink(leftover)
        raise


def _check_and_convert(image_id, part, converted, declared, cache_mode):
    """Steps 2 to 4 on the downloaded ``part``; return the qemu format."""
    # The bytes decide before qemu-img opens the file at all.
    format_inspector.check(part, declared, image_id)
    qemu_format = qemu_format_of(declared)
    info = qemu_img_info(part, qemu_format)
    check_image_safe(image_id, info, qemu_format)
    if qemu_format != "raw":
        LOG.debug("%s was %s, converting to raw", image_id, declared)
        _convert_to_raw(part, converted, qemu_format, cache_mode)
    return qemu_format


def _convert_to_raw(source, dest, in_format, cache_mode):
    """Convert, and log how fast: on a first boot the conversion can take
    longer than the download, and this line says so."""
    started = time.monotonic()
    convert_image(source, dest, in_format, "raw", cache_mode)
    elapsed = max(time.monotonic() - started, 1e-6)
    # The size of the raw result: what was written, whatever the input's.
    megabytes = os.path.getsize(dest) / units.Mi
    LOG.info("Converted %(mb).2f MB image at %(mbs).2f MB/s",
             {"mb": megabytes, "mbs": megabytes / elapsed})
