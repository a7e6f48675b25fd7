"""The config drive (mirrors ``nova/virt/configdrive.py``).

An ISO 9660 image with the volume label ``config-2``, holding the
instance's metadata files (:mod:`mininova.api.metadata.base`), attached to
the guest as a cdrom: a guest with no network yet (or none at all) still
learns its hostname, its SSH keys and its user data. It is made with
``genisoimage``, with the options Nova gives it, in the instance directory
as ``disk.config``.

Left out: the vfat format (``config_drive_format``), which needs a loop
mount, and copying the drive to another host on migration (it is made
again where the instance lands).
"""

import os
import tempfile

from mininova import utils
from mininova.conf import CONF


def required_by(instance):
    """Whether the instance gets a config drive: it asked for one (API
    ``config_drive: true``) or the operator forces them (``force_config_drive``)."""
    return bool(instance.get("config_drive")) or CONF.force_config_drive


def make_drive(path, files):
    """Write ``files`` (``{relative path: bytes}``) into an ISO at ``path``."""
    with tempfile.TemporaryDirectory(prefix="mininova-cd-") as tree:
        for relative, content in files.items():
            target = os.path.join(tree, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(content)
        utils.execute("genisoimage", "-o", path, "-ldots", "-allow-lowercase",
                      "-allow-multidot", "-l", "-publisher",
                      f"mininova {utils.package_version()}", "-quiet", "-J", "-r",
                      "-V", "config-2", tree)
