"""Small libvirt-driver helpers (mirrors ``nova/virt/libvirt/utils.py``):
choosing the domain type, overlays, disk.info, how much a disk may still
grow, direct I/O, and the qemu-img and cp calls of a resize (copy, rebase,
grow)."""

import json
import os
import re

from oslo_log import log as logging

from mininova import exception, utils
from mininova.conf import CONF
from mininova.virt import format_inspector

LOG = logging.getLogger(__name__)

# Under instances_path: the temporary directories of snapshots being made
# (Nova's [libvirt] snapshots_directory, $instances_path/snapshots).
SNAPSHOTS_DIR_NAME = "snapshots"
# The suffix of an instance directory set aside by a resize (on the source
# host, until the resize is confirmed or reverted).
RESIZE_SUFFIX = "_resize"

SYS_MODULES = "/sys/module"
CPUINFO = "/proc/cpuinfo"
KVM_DEVICE = "/dev/kvm"


def detect_virt_type(sys_modules=SYS_MODULES, cpuinfo=CPUINFO, kvm_device=KVM_DEVICE):
    """``("kvm" | "qemu", why)``.

    kvm only when all three hold: the kvm_intel or kvm_amd module is loaded,
    the CPU advertises vmx (Intel) or svm (AMD), and /dev/kvm exists. A
    /dev/kvm alone is not enough: some nested or paravirtual KVMs (kvm_pvm)
    expose it without hardware virtualisation and hang ordinary guests.
    """
    loaded = sorted(m for m in utils.listdir(sys_modules) if m.startswith("kvm"))
    hw_module = [m for m in loaded if m in ("kvm_intel", "kvm_amd")]
    flags = _cpu_flags(cpuinfo)
    hw_flag = sorted(flags & {"vmx", "svm"})
    if hw_module and hw_flag and os.path.exists(kvm_device):
        return "kvm", f"{hw_module[0]} loaded, CPU flag {hw_flag[0]}, {kvm_device} present"
    reasons = []
    if not hw_module:
        found = ", ".join(loaded) if loaded else "none"
        reasons.append(f"kvm_intel/kvm_amd not loaded (kvm modules found: {found})")
    if not hw_flag:
        reasons.append("no vmx/svm flag in /proc/cpuinfo")
    if not os.path.exists(kvm_device):
        reasons.append(f"no {kvm_device}")
    return "qemu", "; ".join(reasons)


def _cpu_flags(cpuinfo):
    try:
        with open(cpuinfo) as f:
            text = f.read()
    except OSError:
        return set()
    match = re.search(r"^flags\s*:\s*(.*)$", text, re.MULTILINE)
    return set(match.group(1).split()) if match else set()


def create_cow_image(backing_file, path, size_bytes=None):
    """The instance's disk: a qcow2 overlay on the raw base file.

    Writes go to the overlay, reads of untouched blocks to the base, so
    every instance of an image shares one base file. backing_fmt=raw is
    stated so qemu never probes the base's format.
    """
    cmd = ["qemu-img", "create", "-f", "qcow2",
           "-o", f"backing_file={backing_file},backing_fmt=raw", path]
    if size_bytes:
        cmd.append(str(size_bytes))
    utils.execute(*cmd)


def write_disk_info(instance_dir, disk_path, disk_format="qcow2"):
    """``disk.info``: the format we gave each disk, trusted from now on.

    A guest can write anything into its disk, including a qcow2 header;
    probing the disk's format later would let it choose how the host reads
    it. So the format is written down once, here.
    """
    with open(os.path.join(instance_dir, "disk.info"), "w") as f:
        f.write(json.dumps({disk_path: disk_format}))


def add_disk_info(instance_dir, disk_path, disk_format):
    """Add one more disk (an ephemeral or swap file) to ``disk.info``."""
    disks = read_disk_info(instance_dir)
    disks[disk_path] = disk_format
    with open(os.path.join(instance_dir, "disk.info"), "w") as f:
        f.write(json.dumps(disks))


def read_disk_info(instance_dir):
    """``{disk path: format}`` from ``disk.info``; {} when there is none.
    An unreadable one raises InvalidDiskInfo: its formats cannot be trusted."""
    path = os.path.join(instance_dir, "disk.info")
    try:
        with open(path) as f:
            disks = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise exception.InvalidDiskInfo(reason=f"{path}: {exc}") from exc
    if not isinstance(disks, dict):
        raise exception.InvalidDiskInfo(reason=f"{path}: not a JSON object")
    return disks


def disk_growth_room(path, disk_format):
    """How many more bytes ``path`` may take on the host's disk: its
    virtual size minus what it holds now (a sparse or qcow2 file fills as
    the guest writes). The virtual size of a qcow2 comes from its header."""
    allocated = os.stat(path).st_blocks * 512
    if disk_format == "qcow2":
        virtual = format_inspector.detect(path).virtual_size or 0
    else:
        virtual = os.path.getsize(path)
    return max(0, virtual - allocated)


def copy_disk(source, dest):
    """Copy a disk file, keeping its holes (a qcow2 grows by clusters, and a
    copy should not be bigger than the original). mininova's "local"
    transport: Nova copies between hosts with ssh and rsync or scp."""
    utils.execute("cp", "--sparse=always", source, dest, timeout=CONF.image_copy_timeout)


def rebase_unsafe(path, backing_file):
    """Point the qcow2 ``path`` at ``backing_file`` (raw) without reading
    either: ``-u`` only rewrites the name in the header, which is right when
    the new backing file holds the same bytes as the old one (the same
    image's base on another host)."""
    utils.execute("qemu-img", "rebase", "-u", "-f", "qcow2", "-F", "raw",
                  "-b", backing_file, path)


def resize_disk(path, size_bytes):
    """Grow the qcow2 ``path`` to ``size_bytes`` (never called to shrink it)."""
    utils.execute("qemu-img", "resize", "-f", "qcow2", path, str(size_bytes))


def supports_direct_io(dirpath):
    """Can files in ``dirpath`` be opened with O_DIRECT (cache=none)?"""
    probe = os.path.join(dirpath, ".directio.test")
    try:
        fd = os.open(probe, os.O_CREAT | os.O_WRONLY | os.O_DIRECT)
        os.close(fd)
        return True
    except OSError:
        LOG.debug("Path '%s' does not support direct I/O", dirpath)
        return False
    finally:
        if os.path.exists(probe):
            os.unlink(probe)


def unreachable_parent(path):
    """The first directory above ``path`` that other users cannot enter.

    libvirt starts QEMU as its own user (libvirt-qemu on Debian), which must
    walk down to the disks; a 0700 directory on the way (a home directory,
    pytest's tmp) makes every guest fail with "Permission denied".
    """
    current = os.path.abspath(path)
    while True:
        try:
            if not os.stat(current).st_mode & 0o001:
                return current
        except FileNotFoundError:
            pass
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def version_string(number):
    """libvirt's version numbers (1000000 * major + 1000 * minor + micro)
    as ``10.0.0``."""
    major, rest = divmod(number, 1000000)
    minor, micro = divmod(rest, 1000)
    return f"{major}.{minor}.{micro}"
