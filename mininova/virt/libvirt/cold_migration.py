"""Resize and cold migration in the libvirt driver (mirrors
``migrate_disk_and_power_off``, ``finish_migration``, ``confirm_migration``
and ``finish_revert_migration`` of ``nova/virt/libvirt/driver.py``; Nova's
``nova/virt/libvirt/migration.py`` is about live migration, left out here).

A resize or cold migration runs on both hosts, in this order::

    source  migrate_disk_and_power_off  shared storage with dest? power off,
                                        mv <uuid> <uuid>_resize; not shared:
                                        ssh dest mkdir -p <uuid>_resize, scp
                                        the disk there; return disk_info
    dest    finish_migration            cp the disk, qemu-img rebase -u onto
                                        this host's _base, qemu-img resize,
                                        disk.info, libvirt.xml, define, start;
                                        rm the copy the source pushed here
    source  confirm_migration           rm -r <uuid>_resize, undefine
    source  finish_revert_migration     mv <uuid>_resize <uuid>, define with
                                        the old flavor, start

**Shared storage or not** (Nova's ``_is_path_shared_with``): a destination
whose address (``my_ip``, sent by its prep_resize) is our own shares our
filesystem; otherwise the source makes a test file in its
``instances_path`` *on the destination*, over ssh, and looks whether it
appears here. Shared (the same machine, or one NFS export): the
destination reads ``<uuid>_resize/disk`` where the source left it, as on
one host. Not shared: the source pushes the disk over ssh (scp, or rsync:
``[libvirt] remote_filesystem_transport``, :mod:`.remotefs`) to the same
path on the destination, whose ``instances_path`` must be the same (Nova
assumes it too); the destination adopts it as above and removes the
pushed copy. The source's own set-aside copy stays until the confirm, for
a revert. A resize to the same host (``allow_resize_to_same_host``) is
the shared case within one ``instances_path``.

Nova keeps these methods in its driver; here they are a mixin of
:class:`mininova.virt.libvirt.driver.LibvirtDriver`, in a file of their
own so that the move reads in one place. They use the driver's ``host``,
``_host``, ``_instance_dir``, ``_define_domain``, ``_owner``, ``power_off``
and ``_destroy_and_undefine``.
"""

import os
import shutil
import uuid

from oslo_log import log as logging
from oslo_utils import excutils

from mininova import exception
from mininova.conf import CONF
from mininova.virt.libvirt import imagebackend, imagecache, remotefs
from mininova.virt.libvirt import utils as libvirt_utils

LOG = logging.getLogger(__name__)


class ColdMigrationMixin:
    """The driver's half of a resize or cold migration."""

    def migrate_disk_and_power_off(self, context, instance, dest_host, flavor,
                                   timeout=0, retry_interval=0):
        """Source host. ``dest_host``: the destination's address. Returns
        ``disk_info``::

            {"source_host", "disk_path" (<uuid>_resize/disk, absolute),
             "disk_format" ("qcow2"), "image_id", "base_path" (our base of
             the image, for a destination that cannot download it),
             "shared_storage" (False: the disk was pushed to the same path
             on the destination), "source_ip" (where base_path is)}
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
        shared = self._is_storage_shared_with(dest_host, os.path.dirname(instance_dir))
        self.power_off(instance, timeout, retry_interval)
        os.rename(instance_dir, resize_dir)
        LOG.info("Instance files set aside in %s for the migration to %s", resize_dir,
                 dest_host, instance=instance)
        disk_path = os.path.join(resize_dir, "disk")
        if not shared:
            self._push_disk(instance, dest_host, disk_path, instance_dir)
        image_id = instance["image_ref"]
        return {
            "source_host": self.host,
            "disk_path": disk_path,
            "disk_format": "qcow2",
            "image_id": image_id,
            "base_path": os.path.join(imagecache.base_dir(), imagecache.get_cache_fname(image_id)),
            "shared_storage": shared,
            "source_ip": self.get_host_ip_addr(),
        }

    def _is_storage_shared_with(self, dest_host, path):
        """Does ``dest_host`` see our ``path``? (Nova's
        ``_is_path_shared_with``.) Our own address: yes. Else a test file
        made there over ssh must appear here. An ssh that fails says
        nothing either way: the move then fails at its copy, with ssh's
        own error, before anything is lost."""
        if dest_host == self.get_host_ip_addr():
            return True
        test_file = os.path.join(path, uuid.uuid4().hex + ".tmp")
        fs = remotefs.get_driver()
        try:
            fs.create_file(dest_host, test_file)
        except Exception as exc:
            LOG.warning("Could not create a test file on %s (%s): taking its storage as "
                        "not shared", dest_host, exc)
            return False
        if os.path.exists(test_file):
            os.unlink(test_file)
            LOG.debug("%s shares %s with this host", dest_host, path)
            return True
        fs.remove_file(dest_host, test_file)
        return False

    def _push_disk(self, instance, dest_host, disk_path, instance_dir):
        """Copy the set-aside disk to the same path on ``dest_host``. On
        failure the files go back where they were (the guest stays off, as
        in Nova, and the instance in ERROR with ssh's message as fault)."""
        resize_dir = os.path.dirname(disk_path)
        fs = remotefs.get_driver()
        LOG.info("Copying %s to %s over %s", disk_path, dest_host,
                 CONF.libvirt.remote_filesystem_transport, instance=instance)
        try:
            fs.create_dir(dest_host, resize_dir)
            fs.copy_file(disk_path, remotefs.remote_path(dest_host, disk_path))
        except Exception:
            with excutils.save_and_reraise_exception():
                try:
                    fs.remove_dir(dest_host, resize_dir)
                except Exception as exc:
                    LOG.warning("Could not remove %s on %s: %s", resize_dir, dest_host, exc)
                os.rename(resize_dir, instance_dir)

    def finish_migration(self, context, migration, instance, disk_info, image_meta,
                         resize_instance, power_on=True):
        """Destination host (the source itself for a same-host resize)."""
        source_disk = _checked_source_disk(instance, disk_info)
        image = image_meta if image_meta and image_meta.get("id") else {
            "id": disk_info["image_id"]}
        pushed = not disk_info.get("shared_storage", True)
        try:
            self._finish_migration(context, instance, image, source_disk, disk_info,
                                   resize_instance, power_on)
        finally:
            if pushed:
                # The copy the source pushed here is adopted (or useless):
                # the source keeps its own for a revert.
                shutil.rmtree(os.path.dirname(source_disk), ignore_errors=True)
        if power_on:
            LOG.info("Instance running successfully.", instance=instance)

    def _finish_migration(self, context, instance, image, source_disk, disk_info,
                          resize_instance, power_on):
        instance_dir = self._instance_dir(instance)
        os.makedirs(instance_dir)
        source_base = disk_info.get("base_path")
        if source_base and not disk_info.get("shared_storage", True):
            source_base = remotefs.remote_path(disk_info["source_ip"], source_base)
        try:
            disk_path = imagebackend.adopt_migrated_disk(
                context, image, source_disk, instance_dir, self._disk_cache_mode,
                source_base=source_base)
            if resize_instance:
                imagebackend.grow_root_disk(instance, disk_path)
            # The network's bridge may not exist on this host yet.
            self._plug_vifs(instance, instance.get("network_info") or [])
            domain = self._define_domain(instance, instance_dir)
            if power_on:
                domain.createWithFlags(0)
        except Exception:
            with excutils.save_and_reraise_exception():
                self._undo_finish_migration(instance, instance_dir)

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
        # The source's agent may have removed the bridge once the guest left.
        self._plug_vifs(instance, instance.get("network_info") or [])
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
