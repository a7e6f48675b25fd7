"""Which disk gets which device name (mirrors ``nova/virt/libvirt/blockinfo.py``).

libvirt cannot honour the device names a user asks for: the guest's kernel
names its virtio disks in the order it finds them on the PCI bus, whatever
``<target dev>`` says. So, as Nova's libvirt driver, mininova ignores
supplied names (``Ignoring supplied device name: /dev/vdb. Libvirt can't
honour user-supplied dev names``) and names the disks itself, in Nova's
order (``get_disk_mapping``)::

    vda   the root disk: the image's (``disk``) or the boot volume (boot_index 0)
    vdb   the flavor's ephemeral disk (``disk.local``), when no mapping asks for one
    ...   the ephemeral disks of the mappings (``disk.eph0``, ``disk.eph1``...)
    ...   the swap disk (``disk.swap``): the mapping's, or the flavor's swap
    ...   the other volumes, by boot_index then in the order they were asked for
    hdd   the config drive (an IDE cdrom, see config.py)

A volume attached later takes the first ``vdX`` no disk of the instance
holds (:func:`get_device_name_for_instance`).

Left out: other buses (ide, scsi, sata, usb: every disk is virtio here),
cdrom device types for volumes, rescue disks.
"""

import dataclasses
import string

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

PREFIX = "vd"
# vda ... vdz: 26 disks are more than a tiny guest's PCI bus takes anyway.
LETTERS = string.ascii_lowercase


@dataclasses.dataclass
class Disk:
    """One disk of the guest: what it is, its name (``vdb``), and its row."""

    kind: str            # root, local, ephemeral, swap, volume
    dev: str
    bdm: dict | None = None   # the block device mapping row (None: from the flavor)
    index: int = 0        # the N of disk.ephN


def _dev(name):
    """``/dev/vdb`` → ``vdb``."""
    return name.rsplit("/", 1)[-1] if name else None


def _is_volume(bdm):
    return bdm.get("destination_type") == "volume"


def _is_swap(bdm):
    return (bdm.get("source_type") == "blank" and bdm.get("destination_type") == "local"
            and bdm.get("guest_format") == "swap")


def _is_ephemeral(bdm):
    return (bdm.get("source_type") == "blank" and bdm.get("destination_type") == "local"
            and bdm.get("guest_format") != "swap")


def _ordered(instance, bdms):
    """The disks of the instance, in Nova's naming order, without names:
    ``[(kind, row or None, index)]``."""
    root = next((b for b in bdms if _is_volume(b) and b.get("boot_index") == 0), None)
    image_root = next((b for b in bdms if b.get("source_type") == "image"
                       and b.get("destination_type") == "local"), None)
    ephemerals = [b for b in bdms if _is_ephemeral(b)]
    swaps = [b for b in bdms if _is_swap(b)]
    flavor = instance.get("flavor") or {}
    disks = [("root", root or image_root, 0)]
    if not ephemerals and flavor.get("ephemeral_gb"):
        disks.append(("local", None, 0))
    disks += [("ephemeral", bdm, n) for n, bdm in enumerate(ephemerals)]
    if swaps:
        disks.append(("swap", swaps[-1], 0))
    elif flavor.get("swap"):
        disks.append(("swap", None, 0))
    disks += [("volume", b, 0) for b in bdms if _is_volume(b) and b is not root]
    return disks


def default_device_names(instance, bdms):
    """At a boot: ``{row id: "/dev/vdX"}`` for every row, named in order,
    whatever was asked (with Nova's warning for each name asked for)."""
    names = {}
    for position, (_kind, bdm, _index) in enumerate(_ordered(instance, bdms)):
        if bdm is None:
            continue
        if bdm.get("device_name"):
            LOG.warning("Ignoring supplied device name: %(device_name)s. Libvirt can't "
                        "honour user-supplied dev names",
                        {"device_name": bdm["device_name"]}, instance=instance)
        names[bdm["id"]] = "/dev/" + PREFIX + LETTERS[position]
    return names


def get_disk_mapping(instance, bdms):
    """The guest's disks with their names, for the domain XML. Rows keep the
    names they were given (at the boot, or by an attach); the flavor's
    disks take the first names no row holds, in order."""
    ordered = _ordered(instance, bdms)
    taken = {_dev(bdm.get("device_name")) for _kind, bdm, _i in ordered if bdm}
    if ordered[0][1] is None:
        taken.add(PREFIX + "a")   # an image root with no row of its own is vda
    free = (PREFIX + letter for letter in LETTERS if PREFIX + letter not in taken)
    disks = []
    for kind, bdm, index in ordered:
        if kind == "root" and bdm is None:
            dev = PREFIX + "a"
        else:
            dev = _dev(bdm.get("device_name")) if bdm else None
            dev = dev or next(free)
        disks.append(Disk(kind, dev, bdm, index))
    return disks


def get_device_name_for_instance(instance, bdms, requested=None):
    """The name of a volume attached now: the first ``/dev/vdX`` that none
    of the instance's disks has (a requested name is not honoured either)."""
    if requested:
        LOG.warning("Ignoring supplied device name: %(device_name)s. Libvirt can't "
                    "honour user-supplied dev names", {"device_name": requested},
                    instance=instance)
    taken = {disk.dev for disk in get_disk_mapping(instance, bdms)}
    for letter in LETTERS:
        if PREFIX + letter not in taken:
            return "/dev/" + PREFIX + letter
    raise ValueError("no free virtio disk name left")
