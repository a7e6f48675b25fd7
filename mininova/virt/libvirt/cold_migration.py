"""Resize and cold migration in the libvirt driver (mirrors
``migrate_disk_and_power_off``, ``finish_migration``, ``confirm_migration``
and ``finish_revert_migration`` of ``nova/virt/libvirt/driver.py``; Nova's
``nova/virt/libvirt/migration.py`` is about live migration, left out here).

A resize or cold migration runs on both hosts, in this order::

    source  migrate_disk_and_power_off  power off, mv <uuid> <uuid>_resize,
                                        return disk_info (where the disk is)
    dest    finish_migration            cp the disk, qemu-img rebase -u onto
                                        this host's _base, qemu-img resize,
                                        disk.info, libvirt.xml, define, start
    source  confirm_migration           rm -r <uuid>_resize, undefine
    source  finish_revert_migration     mv <uuid>_resize <uuid>, define with
                                        the old flavor, start

Nova's source *pushes* the disk to the destination over ssh (rsync or scp).
mininova's destination *pulls* it with cp from the path in ``disk_info``:
its hosts share one machine (or one filesystem), and there is no ssh to set
up. A resize to the same host (``allow_resize_to_same_host``) takes the
same path within one ``instances_path``.

Nova keeps these methods in its driver; here they are a mixin of
:class:`mininova.virt.libvirt.driver.LibvirtDriver`, in a file of their
own so that the move reads in one place. They use the driver's ``host``,
``_host``, ``_instance_dir``, ``_define_domain``, ``_owner``, ``power_off``
and ``_destroy_and_undefine``.
"""

import os
import shutil

from oslo_log import log as logging
from oslo_utils import excutils

from mininova import exception
from mininova.virt.libvirt import imagebackend, imagecache
from mininova.virt.libvirt import utils as libvirt_utils

LOG = logging.getLogger(__name__)


class ColdMigrationMixin:
    """The driver's half of a resize or cold migration."""

    def migrate_disk_and_power_off(self, context, instance, dest_host, flavor,
                                   timeout=0, retry_interval=0):
        """Source host. Returns ``disk_info``::

            {"source_host", "disk_path" (<uuid>_resize/disk, absolute),
             "disk_format" ("qcow2"), "image_id", "base_path" (our base of
             the image, for a destination that cannot download it)}
        """
        instance_dir = self._instance_dir(instance)
        resize_dir = instance_dir + libvirt_utils.RESIZE_SUFFIX
        # Everything that can refuse the move does so before the guest is
        # touched: a refused resize leaves it running.
        if not os.path.exists(instance_dir):
            half_done = os.path.exists(resize_dir)
            raise exception.ResizeError(
                reason=f"{instance_dir} is missing" + (
                    f"; {resize_dir} holds the disk of an earlier resize left half done"
                    if half_done else ""))
        imagebackend.check_can_resize_to(instance, os.path.join(instance_dir, "disk"), flavor)
        if os.path.exists(resize_dir):
            LOG.warning("Removing %s, left by an earlier resize", resize_dir, instance=instance)
            shutil.rmtree(resize_dir)
        self.power_off(instance, timeout, retry_interval)
        os.rename(instance_dir, resize_dir)
        LOG.info("Instance files set aside in %s for the migration to %s", resize_dir,
                 dest_host, instance=instance)
        image_id = instance["image_ref"]
        return {
            "source_host": self.host,
            "disk_path": os.path.join(resize_dir, "disk"),
            "disk_format": "qcow2",
            "image_id": image_id,
            "base_path": os.path.join(imagecache.base_dir(), imagecache.get_cache_fname(image_id)),
        }

    def finish_migration(self, context, migration, instance, disk_info, image_meta,
                         resize_instance, power_on=True):
        """Destination host (the source itself for a same-host resize)."""
        source_disk = _checked_source_disk(instance, disk_info)
        image = image_meta if image_meta and image_meta.get("id") else {
            "id": disk_info["image_id"]}
        instance_dir = self._instance_dir(instance)
        os.makedirs(instance_dir)
        try:
            disk_path = imagebackend.adopt_migrated_disk(
                context, image, source_disk, instance_dir, self._disk_cache_mode,
                source_base=disk_info.get("base_path"))
            if resize_instance:
                imagebackend.grow_root_disk(instance, disk_path)
            domain = self._define_domain(instance, instance_dir)
            if power_on:
                domain.createWithFlags(0)
        except Exception:
            with excutils.save_and_reraise_exception():
                self._undo_finish_migration(instance, instance_dir)
        if power_on:
            LOG.info("Instance running successfully.", instance=instance)

    def _undo_finish_migration(self, instance, instance_dir):
        """Leave nothing of a failed finish_migration: the source's set-aside
        copy stays whole for a revert (which defines the domain again)."""
        domain = self._host.lookup(instance["uuid"])
        if domain is not None and self._owner(domain) == self.host:
            self._destroy_and_undefine(domain)
        shutil.rmtree(instance_dir, ignore_errors=True)

    def confirm_migration(self, context, migration, instance):
        """Source host: the set-aside files go; so does the old domain when
        it is still ours (on a shared libvirtd the destination redefined
        it; on a same-host resize it is the resized guest)."""
        resize_dir = self._instance_dir(instance) + libvirt_utils.RESIZE_SUFFIX
        if os.path.exists(resize_dir):
            LOG.info("Deleting instance files %s", resize_dir, instance=instance)
            shutil.rmtree(resize_dir)
        if migration["source_compute"] == migration["dest_compute"]:
            return
        domain = self._host.lookup(instance["uuid"])
        if domain is not None and self._owner(domain) == self.host:
            self._destroy_and_undefine(domain)
            LOG.info("Instance destroyed successfully.", instance=instance)

    def finish_revert_migration(self, context, instance, power_on=True):
        """Source host, after the destination destroyed its copy."""
        instance_dir = self._instance_dir(instance)
        resize_dir = instance_dir + libvirt_utils.RESIZE_SUFFIX
        if os.path.exists(resize_dir):
            if os.path.exists(instance_dir):
                # The new copy of a same-host resize, if still there.
                shutil.rmtree(instance_dir)
            os.rename(resize_dir, instance_dir)
        disk_path = os.path.join(instance_dir, "disk")
        if not os.path.exists(disk_path):
            raise exception.ResizeError(
                reason=f"nothing to revert to: neither {resize_dir} nor {disk_path} exists")
        domain = self._define_domain(instance, instance_dir)
        if power_on:
            domain.createWithFlags(0)


def _checked_source_disk(instance, disk_info):
    """The source disk's path from ``disk_info``, if it is what a source
    host's migrate_disk_and_power_off names: ``<uuid>_resize/disk``."""
    path = disk_info.get("disk_path") or ""
    expected_dir = instance["uuid"] + libvirt_utils.RESIZE_SUFFIX
    if (not os.path.isabs(path) or os.path.basename(path) != "disk"
            or os.path.basename(os.path.dirname(path)) != expected_dir):
        raise exception.ResizeError(reason=f"unexpected source disk {path!r}")
    if disk_info.get("disk_format") != "qcow2":
        raise exception.ResizeError(
            reason=f"unsupported disk format {disk_info.get('disk_format')!r}")
    return path
