"""The backend: volumes as raw files (mirrors the volume driver interface
of ``cinder/volume/driver.py``, implemented the way Cinder's file-based
drivers, ``cinder/volume/drivers/nfs.py`` and ``remotefs.py``, do it).

On disk, under ``[volume] volumes_path``::

    volume-<volume id>        the volume: a raw file, sparse (a new 1 GiB
                              volume takes no space until written)
    snapshot-<snapshot id>    a snapshot: a raw, sparse copy of its volume
    exports/<attachment id>.pid, .log
                              the qemu-storage-daemon exporting a volume
                              for one attachment (:mod:`.nbd`)

Cinder's names (``volume_name_template``, ``snapshot_name_template``), so
``ls`` on a student's host reads like ``lvs`` on a Cinder LVM node.

Every change of a file is a ``qemu-img`` command through
:func:`mininova.utils.execute` (logged, under ``[DEFAULT] command_timeout``,
or ``image_copy_timeout`` for copies, whose time grows with the data), and
every qemu-img call names the format (``-f raw``): a volume's bytes are the
guest's, and a guest that writes a qcow2 header into its disk must never
have qemu-img take the file for a qcow2 (and follow its backing file).

**Snapshots are copies, not qcow2 overlays.** An overlay (what Cinder's NFS
driver does, and Nova for instance snapshots) would be instant and small,
but it turns the volume into a qcow2 chain: the export would then serve a
qcow2 whose backing file is the snapshot, a snapshot could not be deleted
without merging it back (a block commit while a guest writes), and a volume
made from a snapshot would share blocks with it. A sparse copy costs the
volume's used blocks and some seconds, and keeps every file independent:
any snapshot or volume can go at any time, in any order, and each volume is
one plain raw file. (On a filesystem with reflinks, btrfs or XFS, a copy is
made instant by ``cp --reflink``; ext4 has none.)

A snapshot of an in-use volume (``force``) copies a file a guest may be
writing: it is crash-consistent at best, as Cinder warns for its drivers.

Left out: preallocation and thin-provisioning ratios, ``volume_clear``
(wiping a deleted volume: the file is unlinked, and a new sparse file reads
zeros), qcow2 volumes, capacity reports to a scheduler.
"""

import os

from oslo_log import log as logging

from mininova import utils
from mininova.conf import CONF
from mininova.volume.service import image_utils

LOG = logging.getLogger(__name__)

VOLUME_NAME_TEMPLATE = "volume-%s"
SNAPSHOT_NAME_TEMPLATE = "snapshot-%s"


def volume_name(volume_id):
    return VOLUME_NAME_TEMPLATE % volume_id


class FileDriver:
    """Raw-file volumes in one directory."""

    def __init__(self, volumes_path=None):
        self.volumes_path = volumes_path or CONF.volume.volumes_path

    def do_setup(self):
        os.makedirs(self.volumes_path, exist_ok=True)

    # --- where things are ------------------------------------------------------------

    def local_path(self, volume):
        return os.path.join(self.volumes_path, volume_name(volume["id"]))

    def snapshot_path(self, snapshot):
        return os.path.join(self.volumes_path, SNAPSHOT_NAME_TEMPLATE % snapshot["id"])

    # --- volumes ------------------------------------------------------------------------

    def create_volume(self, volume):
        """An empty volume: a sparse raw file of the volume's size."""
        path = self.local_path(volume)
        utils.execute("qemu-img", "create", "-f", "raw", path, _gib(volume["size"]))
        return {"provider_location": path}

    def create_volume_from_snapshot(self, volume, snapshot):
        path = self.local_path(volume)
        _copy(self.snapshot_path(snapshot), path)
        image_utils.grow_to(path, volume["size"])
        return {"provider_location": path}

    def create_cloned_volume(self, volume, src_volume):
        path = self.local_path(volume)
        _copy(self.local_path(src_volume), path)
        image_utils.grow_to(path, volume["size"])
        return {"provider_location": path}

    def copy_image_to_volume(self, context, volume, image_meta):
        """Write the image into the volume (download, check, convert)."""
        path = self.local_path(volume)
        image_utils.fetch_to_volume(context, image_meta, path, volume["size"])
        return {"provider_location": path}

    def extend_volume(self, volume, new_size):
        utils.execute("qemu-img", "resize", "-f", "raw", self.local_path(volume),
                      _gib(new_size))

    def delete_volume(self, volume):
        _remove(self.local_path(volume))

    # --- snapshots ----------------------------------------------------------------------

    def create_snapshot(self, snapshot, volume):
        _copy(self.local_path(volume), self.snapshot_path(snapshot))

    def delete_snapshot(self, snapshot):
        _remove(self.snapshot_path(snapshot))

    # --- helpers ------------------------------------------------------------------------

    def volume_exists(self, volume):
        return os.path.exists(self.local_path(volume))


def _gib(size_gb):
    return f"{int(size_gb)}G"


def _copy(source, dest):
    """A sparse copy: qemu-img skips the source's zero blocks (holes stay
    holes). ``-U`` (force-share) because the source may be exported to a
    guest right now; qemu's image lock would otherwise refuse."""
    utils.execute("qemu-img", "convert", "-U", "-f", "raw", "-O", "raw", source, dest,
                  timeout=CONF.image_copy_timeout)


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        LOG.warning("%s was already gone", path)
