"""The ``_base`` image cache and its manager (mirrors
``nova/virt/libvirt/imagecache.py``, ``nova/virt/imagecache.py`` and the
caching part of ``imagebackend.py``).

Each image is downloaded once per host into
``$instances_path/_base/<sha1(image id)>`` as a raw file, and every instance
of that image gets a small qcow2 overlay on top of it. The file name hides
the image id (sha1) exactly as Nova does.

Two builds of the same uncached image at once must not both download it:
the fetch runs under a lock file in ``$instances_path/locks`` named after
the cache file, and the second build finds the file there when it gets the
lock.

The image cache manager
-----------------------
Without it ``_base`` only grows. The compute manager's periodic task
``_run_image_cache_manager_pass`` (every ``[image_cache] manager_interval``
seconds) hands the driver this host's instances, and
:meth:`ImageCacheManager.update` makes one pass over ``_base``:

1. every file named like a sha1 is a base file; a ``.part`` or
   ``.converted`` file belongs to a fetch; anything else is an
   ``Unknown base file`` and is left alone;
2. a base file is *in use* when an instance of this host has its image
   (sha1 of ``image_ref``) **or** when an overlay on this host is backed by
   it: ``qemu-img info`` of every ``<dir>/disk`` listed in a ``disk.info``
   (asked again only of a disk whose file changed since the last pass),
   read with the format recorded there (``<uuid>_resize`` directories
   included: the disk a resize set aside on its source host still reads
   from the base until the resize is confirmed or reverted). The second
   check is what keeps a base whose instance row is gone (a half-finished delete, a compute that
   lost track of a guest, a restored database): deleting it would take the
   bottom half of a running guest's disk away, Nova's "disappearing images"
   failure. A disk whose backing file cannot be read makes the whole pass
   remove nothing: not knowing is not a reason to delete;
3. a base in use has its mtime set to now, so that a file's age always
   means "time since it was last used" (as Nova does);
4. an unused base older than ``remove_unused_original_minimum_age_seconds``
   is removed, under the same per-image lock the fetch takes, after its age
   is checked again: a fetch holding the lock finishes first, and a boot
   that picked the file meanwhile made it young again
   (:func:`fetch_base_image` touches a cached file it hands out).

:meth:`ImageCacheManager.report` is mininova's own addition, behind ``GET
/os-image-cache`` and ``mininova image-cache``: the same decisions, made
without acting on them, for a student to see what the next pass will do.

Left out: resized (``<sha1>_<size>``) and swap files, several hosts sharing
one ``instances_path`` (Nova's ``storage_users``), checksumming base files.
Lock files stay in ``locks/`` after their base is removed: deleting a lock
file another process may be waiting on would let two processes hold "the
same" lock on two different files.
"""

import dataclasses
import hashlib
import os
import re
import time

from oslo_concurrency import lockutils
from oslo_log import log as logging

from mininova import exception, utils
from mininova.conf import CONF
from mininova.image import glance
from mininova.virt import format_inspector, images
from mininova.virt.libvirt import utils as libvirt_utils

LOG = logging.getLogger(__name__)

BASE_FILE_NAME = re.compile(r"^[0-9a-f]{40}$")
FETCH_FILE_NAME = re.compile(r"^[0-9a-f]{40}\.(part|converted)$")
# What else lives in instances_path besides instance directories.
NOT_INSTANCE_DIRS = frozenset({"locks", libvirt_utils.SNAPSHOTS_DIR_NAME})


def base_dir():
    return os.path.join(CONF.instances_path, CONF.image_cache.subdirectory_name)


def lock_dir():
    return os.path.join(CONF.instances_path, "locks")


def get_cache_fname(image_id):
    return hashlib.sha1(image_id.encode()).hexdigest()


def image_lock(filename):
    """The per-image lock: held by a fetch and by a removal of that file."""
    return lockutils.lock(filename, lock_file_prefix="mininova-", external=True,
                          lock_path=lock_dir())


def fetch_base_image(context, image, cache_mode="none", fallback_path=None):
    """The path of the raw base file of ``image``, downloading it if needed.

    ``fallback_path``: another host's base file of the same image, copied
    when the download fails (a resize of a server whose image has been
    deleted since it booted: its disk still needs the base). Nova's
    ``fallback_from_host``.
    """
    filename = get_cache_fname(image["id"])
    path = os.path.join(base_dir(), filename)
    os.makedirs(base_dir(), exist_ok=True)
    os.makedirs(lock_dir(), exist_ok=True)
    with image_lock(filename):
        if os.path.exists(path):
            LOG.debug("Base image %s of image %s is cached, not downloading",
                      path, image["id"])
            # Young again: the image cache manager, which checks the age
            # under this lock before removing, will now keep it until the
            # overlay made from it shows it is in use.
            os.utime(path)
            return path
        try:
            images.fetch_to_raw(context, image, path, cache_mode)
        except exception.ImageDownloadFailed as exc:
            if not fallback_path:
                raise
            LOG.warning("Image %(id)s could not be downloaded (%(error)s); copying the "
                        "base file %(source)s instead",
                        {"id": image["id"], "error": exc.format_message(),
                         "source": fallback_path})
            _copy_base_file(fallback_path, path, image["id"])
    return path


def _copy_base_file(source, path, image_id):
    """Copy another host's base file into ours, through ``.part`` and with
    its bytes checked as any base file's: raw, or refused."""
    part = f"{path}.part"
    try:
        libvirt_utils.copy_disk(source, part)
        format_inspector.check(part, "raw", image_id)
        os.rename(part, path)
    except Exception:
        if os.path.exists(part):
            os.unlink(part)
        raise


def remove_interrupted_fetches():
    """Remove the ``.part`` and ``.converted`` files a killed compute left in
    ``_base`` (called at start, before any fetch; each under its image's
    lock all the same, should another fetch hold it)."""
    for name in utils.listdir(base_dir()):
        if not FETCH_FILE_NAME.match(name):
            continue
        with image_lock(name.partition(".")[0]):
            path = os.path.join(base_dir(), name)
            LOG.info("Removing %s, left by an interrupted image fetch", path)
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


# --- what is in _base, and who uses it -------------------------------------------

@dataclasses.dataclass
class BaseFile:
    """One file of ``_base`` and what this host knows about its use."""

    path: str
    size: int
    mtime: float
    # The image id, when an instance of this host names it.
    image_id: str | None = None
    # Instances of this host whose image it is.
    instances: list = dataclasses.field(default_factory=list)
    # Instance directories whose disk is backed by it (the uuid, as named).
    overlays: list = dataclasses.field(default_factory=list)

    @property
    def name(self):
        return os.path.basename(self.path)

    @property
    def in_use(self):
        return bool(self.instances or self.overlays)

    @property
    def untracked_overlays(self):
        """Overlays on it that no instance row accounts for. A resize's
        set-aside copy is accounted for by its migration, whose instance
        row already names the destination host."""
        return sorted(name for name in set(self.overlays) - set(self.instances)
                      if not name.endswith(libvirt_utils.RESIZE_SUFFIX))

    def age(self, now):
        return now - self.mtime

    def removable_at(self):
        return self.mtime + CONF.image_cache.remove_unused_original_minimum_age_seconds


@dataclasses.dataclass
class CacheScan:
    base_files: list
    unknown: list
    # Disks whose backing file could not be read: a pass that finds one
    # cannot tell which bases are unused, so it removes none.
    unreadable_disks: list


def scan(all_instances):
    """What ``_base`` holds, and which instances and overlays use what."""
    base_files, unknown = _list_base_dir()
    for instance in all_instances:
        if not instance.get("image_ref"):
            continue
        base = base_files.get(get_cache_fname(instance["image_ref"]))
        if base is not None:
            base.image_id = instance["image_ref"]
            base.instances.append(instance["uuid"])
    by_real_path = {os.path.realpath(base.path): base for base in base_files.values()}
    unreadable = []
    disks = list(_instance_disks())
    # Disks that are no more are forgotten.
    for gone in set(_backing_files_seen) - {disk for _dir, disk, _format in disks}:
        _backing_files_seen.pop(gone, None)
    for instance_dir, disk, disk_format in disks:
        try:
            backing = _backing_file(disk, disk_format)
        except exception.InvalidDiskInfo as exc:
            LOG.warning("Cannot read the backing file of %s: %s", disk, exc)
            unreadable.append(disk)
            continue
        base = by_real_path.get(os.path.realpath(backing)) if backing else None
        if base is not None:
            base.overlays.append(instance_dir)
    return CacheScan(sorted(base_files.values(), key=lambda b: b.name), unknown, unreadable)


def _list_base_dir():
    """({name: BaseFile}, [unknown paths]) of ``_base``."""
    base_files, unknown = {}, []
    directory = base_dir()
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return base_files, unknown
    for name in names:
        path = os.path.join(directory, name)
        if FETCH_FILE_NAME.match(name):
            # A fetch in progress, or one killed with its process; the next
            # fetch of that image overwrites it.
            continue
        if not BASE_FILE_NAME.match(name) or not os.path.isfile(path):
            unknown.append(path)
            continue
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            continue
        base_files[name] = BaseFile(path=path, size=stat.st_size, mtime=stat.st_mtime)
    return base_files, unknown


def _instance_disks():
    """(instance dir name, disk path, recorded format) of every disk that a
    ``disk.info`` on this host lists, whether or not an instance row names
    the directory. A directory being deleted counts as its instance's; one
    a resize set aside keeps its ``_resize`` name, so reports show why a
    base is still in use."""
    for name in utils.listdir(CONF.instances_path):
        if (name in NOT_INSTANCE_DIRS or name == CONF.image_cache.subdirectory_name
                or not os.path.isdir(os.path.join(CONF.instances_path, name))):
            continue
        instance_dir = os.path.join(CONF.instances_path, name)
        try:
            disks = libvirt_utils.read_disk_info(instance_dir)
        except exception.InvalidDiskInfo as exc:
            LOG.warning("%s", exc.format_message())
            disks = {os.path.join(instance_dir, "disk"): None}
        for disk, disk_format in disks.items():
            # A directory renamed to <uuid>_del (being deleted) or to
            # <uuid>_resize (set aside by a resize) keeps the old paths in
            # its disk.info.
            disk = os.path.join(CONF.instances_path, name, os.path.basename(disk))
            if os.path.exists(disk):
                yield name.removesuffix("_del"), disk, disk_format


# What qemu-img info said of each disk's backing file, and the disk's file
# as it was then: {disk: (identity, backing file)}. A pass asks again only
# of the disks that changed since; each ask is a process.
_backing_files_seen = {}


def _file_identity(path):
    """What changes when the file does: a write (size, mtime), any change of
    its inode or a utime (ctime, which nobody can set back), or another file
    put in its place (device, inode)."""
    stat = os.stat(path)
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _backing_file(disk, disk_format):
    """The file ``disk`` reads its unwritten blocks from, or None.

    The format is the one recorded in disk.info when the disk was made: a
    guest can write a header of its choosing into its disk, so the disk is
    never probed for one. qemu-img is asked only when the disk changed
    since it was last asked (a guest that runs writes, and is asked again).
    """
    if disk_format is None:
        raise exception.InvalidDiskInfo(reason=f"{disk}: no recorded format")
    try:
        identity = (disk_format, *_file_identity(disk))
    except OSError:
        identity = None  # gone meanwhile: qemu-img says so
    seen = _backing_files_seen.get(disk)
    if identity is not None and seen is not None and seen[0] == identity:
        return seen[1]
    info = images.qemu_img_info(disk, disk_format)
    backing = info.get("full-backing-filename") or info.get("backing-filename")
    if identity is not None:
        _backing_files_seen[disk] = (identity, backing)
    return backing


# --- the manager ----------------------------------------------------------------------

class ImageCacheManager:
    """Removes base files no instance of this host uses any more."""

    def update(self, context, all_instances):
        """One pass: log what is in use, remove what is unused and old."""
        found = scan(all_instances)
        for path in found.unknown:
            LOG.warning("Unknown base file: %s", path)
        active, removable = [], []
        for base in found.base_files:
            if base.image_id:
                LOG.info("image %(id)s at (%(base_file)s): checking",
                         {"id": base.image_id, "base_file": base.path})
            if base.in_use:
                self._mark_in_use(base)
                active.append(base)
            else:
                LOG.debug("%s is not in use by any instance of this host", base.path)
                removable.append(base)
        if active:
            LOG.info("Active base files: %s", " ".join(b.path for b in active))
        if removable:
            LOG.info("Removable base files: %s", " ".join(b.path for b in removable))
        if found.unreadable_disks:
            LOG.warning("Not removing any base file: the backing files of %s are unknown",
                        ", ".join(found.unreadable_disks))
            return
        if CONF.image_cache.remove_unused_base_images:
            for base in removable:
                self._remove_if_old_enough(base)

    @staticmethod
    def _mark_in_use(base):
        for instance_dir in base.untracked_overlays:
            LOG.warning("Base file %(base_file)s is in use by the disk in %(dir)s, which "
                        "no instance of this host accounts for: keeping it",
                        {"base_file": base.path,
                         "dir": os.path.join(CONF.instances_path, instance_dir)})
        try:
            os.utime(base.path)
        except FileNotFoundError:
            LOG.warning("%s vanished while in use", base.path)

    @staticmethod
    def _remove_if_old_enough(base):
        max_age = CONF.image_cache.remove_unused_original_minimum_age_seconds
        if base.age(time.time()) < max_age:
            LOG.info("Base file too young to remove: %s", base.path)
            return
        with image_lock(base.name):
            # Again under the lock: a boot may have picked the file since the
            # scan (fetch_base_image made it young), or removed and fetched
            # it anew.
            try:
                age = time.time() - os.path.getmtime(base.path)
            except FileNotFoundError:
                return
            if age < max_age:
                LOG.info("Base file too young to remove: %s", base.path)
                return
            LOG.info("Removing base or swap file: %s", base.path)
            try:
                os.remove(base.path)
            except OSError as exc:
                LOG.error("Failed to remove %(base_file)s, error was %(error)s",
                          {"base_file": base.path, "error": exc})

    # --- mininova's report ----------------------------------------------------------

    def report(self, context, all_instances, next_pass_at):
        """Every base file, who uses it and whether the pass expected at
        ``next_pass_at`` (epoch seconds; None when passes are off) removes it."""
        found = scan(all_instances)
        images_by_name = _images_by_cache_name(context)
        now = time.time()
        removal_possible = (next_pass_at is not None and not found.unreadable_disks
                            and CONF.image_cache.remove_unused_base_images)
        report = []
        for base in found.base_files:
            image = images_by_name.get(base.name, {})
            removable_at = None if base.in_use else base.removable_at()
            report.append({
                "filename": base.name,
                "image_id": image.get("id") or base.image_id,
                "image_name": image.get("name"),
                "size": base.size,
                "used_by": sorted(set(base.instances) | set(base.overlays)),
                "age_seconds": int(base.age(now)),
                "will_be_removed": bool(removal_possible and removable_at is not None
                                        and removable_at <= next_pass_at),
                "removable_at": isotime(removable_at),
            })
        return report


def _images_by_cache_name(context):
    """{sha1(image id): image} of the images the image service knows."""
    try:
        all_images = glance.API().get_all(context)
    except exception.MininovaException as exc:
        LOG.warning("Cannot name the cached images: %s", exc.format_message())
        return {}
    return {get_cache_fname(image["id"]): image for image in all_images}


def isotime(epoch_seconds):
    """``2026-11-21T12:00:00Z`` (the API's format) for epoch seconds, or None."""
    if epoch_seconds is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))
