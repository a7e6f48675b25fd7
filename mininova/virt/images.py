"""Fetching images and inspecting disk files (mirrors ``nova/virt/images.py``).

:func:`fetch_to_raw` is what turns an image id into a raw base file:

1. download from the image service to ``<path>.part`` (streamed, md5 checked);
2. ``qemu-img info --force-share --output=json -f <declared format>`` under
   CPU and memory limits: a crafted image must not hang or exhaust the host;
3. refuse what is unsafe: a format other than the declared one, a qcow2
   with a backing file or an external data file;
4. qcow2 (and other formats) → ``qemu-img convert -t none -O raw -f <fmt>``
   into ``<path>.converted``, then rename into place. Raw is renamed as is.

Any failure removes the ``.part`` and ``.converted`` files: a half-made base
file must never be mistaken for a good one by the next boot.
"""

import json
import os

from oslo_concurrency import processutils
from oslo_log import log as logging

from mininova import exception, utils
from mininova.image import glance

LOG = logging.getLogger(__name__)

# Nova's limits for qemu-img info (OSSA-2016-012).
QEMU_IMG_LIMITS = processutils.ProcessLimits(cpu_time=30, address_space=2 * 1024 ** 3)


def qemu_img_info(path, image_format):
    """``qemu-img info`` as a dict. ``image_format`` is what the file is
    *declared* to be; qemu-img is told, never left to guess."""
    try:
        out, _err = processutils.execute(
            "env", "LC_ALL=C", "LANG=C", "qemu-img", "info", "--force-share",
            "--output=json", "-f", image_format, path, prlimit=QEMU_IMG_LIMITS)
    except processutils.ProcessExecutionError as exc:
        if exc.exit_code in (-9, 137):
            # Killed by the CPU or memory limit.
            reason = "qemu-img info was killed by its resource limits"
        else:
            reason = (exc.stderr or str(exc)).strip()
        raise exception.InvalidDiskInfo(reason=f"{path}: {reason}") from exc
    return json.loads(out)


def check_image_safe(image_id, info, declared_format):
    """Refuse images that would make qemu read other files of the host."""
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
    """``qemu-img convert`` with the input format always named (``-f``)."""
    utils.execute("qemu-img", "convert", "-t", cache_mode, "-O", out_format,
                  "-f", in_format, source, dest)


def fetch_to_raw(context, image, path, cache_mode="none"):
    """Make ``path`` a raw copy of ``image`` (a dict from the image service)."""
    image_id = image["id"]
    part, converted = f"{path}.part", f"{path}.converted"
    try:
        glance.API().download(context, image_id, part)
        declared = image.get("disk_format") or "raw"
        info = qemu_img_info(part, declared)
        check_image_safe(image_id, info, declared)
        if declared == "raw":
            os.rename(part, path)
            return
        LOG.debug("%s was %s, converting to raw", image_id, declared)
        convert_image(part, converted, declared, "raw", cache_mode)
        os.unlink(part)
        os.rename(converted, path)
    except Exception:
        for leftover in (part, converted):
            if os.path.exists(leftover):
                os.unlink(leftover)
        raise
