"""Telling a disk image's real format from its bytes, and whether it is safe
to give to qemu (mirrors ``nova/image/format_inspector.py``; Glance carries
the same module as ``glance/common/format_inspector.py``, and newer releases
share it through oslo.utils' ``imageutils``). Written from scratch.

Why not simply ask ``qemu-img info``? Because qemu-img *opens* an image to
describe it: it follows a qcow2's backing file and data file, a VMDK's
extents, and parses every structure with a large C parser. A crafted image
can make that read a file of the host (OSSA-2015-014, OSSA-2023-002,
OSSA-2024-001) or exhaust it (OSSA-2016-012). This module reads a few
fixed-size headers with :mod:`struct`, never the image's data, and decides
first; only an image it accepts is then given to qemu-img, always with
``-f`` naming the format.

It runs where Nova and Glance run theirs:

- in mininova-image when an upload arrives (:mod:`mininova.image.service.store`):
  a refused upload is ``killed`` and its data thrown away;
- in mininova-compute after a download, before qemu-img sees the file
  (:func:`mininova.virt.images.fetch_to_raw`), and on the cached base before
  each overlay (:mod:`mininova.virt.libvirt.imagebackend`): the image service
  may be older than the compute, or its store may have been altered.

The API::

    inspection = detect(path_or_file)        # reads headers only
    inspection.format                        # raw, qcow2, qed, vmdk, vdi or iso
    inspection.virtual_size                  # bytes the guest sees (None if unknown)
    inspection.safety_problems()             # one-line reasons to refuse it ([] if none)
    inspection.refusal_reason("qcow2")       # first reason to refuse it *as* a qcow2
    check(path_or_file, "qcow2", image_id)   # the same, raised as ImageUnacceptable

Detection goes by magic numbers in an order that matters: the formats whose
header sits at offset 0 (qcow2, QED, VMDK) and VDI's signature at 0x40 are
looked for before ISO 9660's ``CD001`` at 0x8001, and raw is whatever is
left. A file that is both (a qcow2 header on an ISO) is therefore taken for
the format that can reference other files.

Left out: inspecting while the upload streams in (Glance feeds its inspector
chunk by chunk; we inspect the finished ``.part`` file, in which we can
seek); the VHD, VHDX, LUKS, GPT/MBR and ploop inspectors (mininova accepts
none of those formats); qcow2's deeper checks (L1 and refcount tables,
snapshots, encryption), which qemu-img makes when it opens an image we
accepted, under its resource limits.
"""

import os
import re
import struct
from contextlib import contextmanager

from mininova import exception

FORMATS = ("raw", "qcow2", "qed", "vmdk", "vdi", "iso")

SECTOR = 512

# A name read from an image (a backing file, an extent) goes into error
# messages and logs: cut it short, and repr() keeps it on one line.
_MAX_NAME_IN_MESSAGE = 200


class Inspection:
    """What the bytes of one image say. Each subclass knows one format."""

    format = None

    def __init__(self, virtual_size=None):
        self.virtual_size = virtual_size

    def safety_problems(self):
        """Reasons to refuse the image whatever it was declared to be."""
        return []

    def refusal_reason(self, declared_format):
        """Why an image declared ``declared_format`` must be refused, or None.

        A wrong declaration comes first: it is what the uploader must fix,
        and it is reason enough on its own, since qemu would be told the
        declared format and read the bytes as that (OSSA-2024-002).
        """
        if not _may_hold(declared_format, self.format):
            return f"format is {self.format}, not the declared {declared_format}"
        problems = self.safety_problems()
        return problems[0] if problems else None

    def __repr__(self):
        return f"<{type(self).__name__} virtual_size={self.virtual_size}>"


# qemu reads an ISO as plain bytes, so a "raw" image that happens to hold an
# ISO 9660 filesystem (a CD copied with dd) is what it claims to be. The
# reverse does not hold: an "iso" must really be one.
_ALSO_ACCEPTED = {"raw": ("iso",)}


def _may_hold(declared_format, detected_format):
    return (detected_format == declared_format
            or detected_format in _ALSO_ACCEPTED.get(declared_format, ()))


# --- the public functions ----------------------------------------------------------

def detect(image):
    """Inspect ``image`` (a path, or a binary file object that can seek)."""
    with _opened(image) as image_file:
        head = _read_at(image_file, 0, SECTOR)
        if head.startswith(QCOW2_MAGIC):
            return _inspect_qcow2(image_file, head)
        if head.startswith(QED_MAGIC):
            return _inspect_qed(head)
        if head.startswith(VMDK_SPARSE_MAGIC):
            return _inspect_vmdk_sparse(image_file, head)
        if head.startswith(VMDK_COWD_MAGIC):
            return VmdkInspection(kind="cowd")
        if head.startswith(VMDK_DESCRIPTOR_MAGIC):
            return _inspect_vmdk_descriptor_file(image_file)
        if head[VDI_SIGNATURE_OFFSET:VDI_SIGNATURE_OFFSET + 4] == VDI_SIGNATURE:
            return _inspect_vdi(head)
        size = _file_size(image_file)
        if _read_at(image_file, ISO_MAGIC_OFFSET, len(ISO_MAGIC)) == ISO_MAGIC:
            return IsoInspection(size)
        return RawInspection(size)


def check(image, declared_format, image_id):
    """Inspect ``image``; raise ImageUnacceptable unless it may be used as
    ``declared_format``. Returns the inspection."""
    inspection = detect(image)
    reason = inspection.refusal_reason(declared_format)
    if reason is not None:
        raise exception.ImageUnacceptable(image_id=image_id, reason=reason)
    return inspection


# --- reading -----------------------------------------------------------------------

@contextmanager
def _opened(image):
    if hasattr(image, "read"):
        # The caller's file stays the caller's to close.
        yield image
    else:
        with open(image, "rb") as image_file:
            yield image_file


def _read_at(image_file, offset, size):
    """Up to ``size`` bytes at ``offset``: fewer (or none) past the end.

    Offsets come from the image itself: one past the end of the file (or
    past what a seek can take, such as 2**64 sectors) reads nothing.
    """
    if offset >= _file_size(image_file):
        return b""
    image_file.seek(offset)
    return image_file.read(size)


def _file_size(image_file):
    return image_file.seek(0, os.SEEK_END)


def _name_for_message(name):
    text = name.decode("utf-8", errors="replace") if isinstance(name, bytes) else name
    if len(text) > _MAX_NAME_IN_MESSAGE:
        text = text[:_MAX_NAME_IN_MESSAGE] + "..."
    return repr(text)


# --- raw and ISO: plain bytes, nothing to follow ----------------------------------------

ISO_MAGIC = b"CD001"
# The first volume descriptor is at sector 16 of 2048 bytes; its identifier
# follows a one-byte type.
ISO_MAGIC_OFFSET = 16 * 2048 + 1


class RawInspection(Inspection):
    format = "raw"


class IsoInspection(Inspection):
    format = "iso"


# --- qcow2 ---------------------------------------------------------------------------

QCOW2_MAGIC = b"QFI\xfb"
# magic, version, backing_file_offset, backing_file_size, cluster_bits, size:
# the start of the header, the same in versions 2 and 3 (big-endian).
_QCOW2_HEADER = struct.Struct(">4sIQIIQ")
QCOW2_V2_HEADER_LENGTH = 72
# Version 3 adds, at offset 72: incompatible_features, compatible_features,
# autoclear_features, refcount_order and header_length.
_QCOW2_V3_FIELDS = struct.Struct(">QQQII")
QCOW2_V3_MIN_HEADER_LENGTH = 104

# Incompatible feature bits: qemu must understand every one that is set, or
# refuse the image. We accept only the ones we know to be harmless.
QCOW2_INCOMPAT_DIRTY = 1 << 0          # refcounts may be stale: qemu repairs them
QCOW2_INCOMPAT_CORRUPT = 1 << 1        # qemu opens it read-only, which a convert is
QCOW2_INCOMPAT_DATA_FILE = 1 << 2      # the guest's data lives in *another file*
QCOW2_INCOMPAT_COMPRESSION = 1 << 3    # compression type other than zlib (zstd)
QCOW2_INCOMPAT_EXTENDED_L2 = 1 << 4    # subclusters
QCOW2_KNOWN_INCOMPAT = (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DATA_FILE
                        | QCOW2_INCOMPAT_COMPRESSION | QCOW2_INCOMPAT_EXTENDED_L2)

# Header extensions follow the header: (type, length, data padded to 8 bytes)
# until type 0, all within the first cluster.
QCOW2_EXT_END = 0
QCOW2_EXT_DATA_FILE = 0x44415441       # "DATA": the external data file's name
_QCOW2_EXT_HEADER = struct.Struct(">II")
_QCOW2_MAX_EXTENSIONS = 64             # qemu writes a handful
QCOW2_MIN_CLUSTER_BITS, QCOW2_MAX_CLUSTER_BITS = 9, 21
QCOW2_VERSIONS = (2, 3)
# qemu refuses longer backing file names; we only read this much for a message.
_QCOW2_MAX_NAME = 1023


class Qcow2Inspection(Inspection):
    format = "qcow2"

    def __init__(self, virtual_size=None, version=None, header_problem=None,
                 backing_file=None, incompatible_features=0, data_file=None):
        super().__init__(virtual_size)
        self.version = version
        self.header_problem = header_problem
        # Each is None when absent; else the name read from the image
        # (b"" when the image points at a name we could not read).
        self.backing_file = backing_file
        self.incompatible_features = incompatible_features
        self.data_file = data_file

    @property
    def has_data_file(self):
        return (bool(self.incompatible_features & QCOW2_INCOMPAT_DATA_FILE)
                or self.data_file is not None)

    def unknown_incompatible_bits(self):
        unknown = self.incompatible_features & ~QCOW2_KNOWN_INCOMPAT
        return [bit for bit in range(64) if unknown & (1 << bit)]

    def safety_problems(self):
        if self.header_problem:
            # Nothing else in a header we cannot read can be trusted.
            return [self.header_problem]
        problems = []
        if self.backing_file is not None:
            # Booting it would read the backing file: a host path of the
            # uploader's choosing (OSSA-2015-014).
            problems.append(f"qcow2 image has a backing file "
                            f"({_name_for_message(self.backing_file)}); "
                            f"flatten it with 'qemu-img convert' first")
        if self.has_data_file:
            # The same with the guest's data itself (OSSA-2024-001).
            name = _name_for_message(self.data_file) if self.data_file else "unnamed"
            problems.append(f"qcow2 image has an external data file ({name})")
        unknown = self.unknown_incompatible_bits()
        if unknown:
            problems.append(f"qcow2 image uses unknown incompatible feature bits "
                            f"{', '.join(map(str, unknown))}")
        return problems


def _inspect_qcow2(image_file, head):
    if len(head) < QCOW2_V2_HEADER_LENGTH:
        return Qcow2Inspection(header_problem="qcow2 header is truncated")
    _magic, version, backing_offset, backing_size, cluster_bits, size = (
        _QCOW2_HEADER.unpack_from(head))
    if version not in QCOW2_VERSIONS:
        # A version we do not know may move or add anything; qcow (version
        # 1) is another driver altogether.
        return Qcow2Inspection(version=version, header_problem=(
            f"qcow2 version {version} is not accepted (only versions 2 and 3)"))
    if not QCOW2_MIN_CLUSTER_BITS <= cluster_bits <= QCOW2_MAX_CLUSTER_BITS:
        return Qcow2Inspection(version=version, header_problem=(
            f"qcow2 header is malformed: cluster_bits {cluster_bits} is outside "
            f"{QCOW2_MIN_CLUSTER_BITS}..{QCOW2_MAX_CLUSTER_BITS}"))
    incompatible, extensions_start = 0, QCOW2_V2_HEADER_LENGTH
    if version == 3:
        if len(head) < QCOW2_V3_MIN_HEADER_LENGTH:
            return Qcow2Inspection(version=version,
                                   header_problem="qcow2 header is truncated")
        incompatible, _compat, _autoclear, _refcount_order, header_length = (
            _QCOW2_V3_FIELDS.unpack_from(head, QCOW2_V2_HEADER_LENGTH))
        if header_length < QCOW2_V3_MIN_HEADER_LENGTH:
            return Qcow2Inspection(version=version, header_problem=(
                f"qcow2 header is malformed: header_length {header_length}"))
        extensions_start = header_length
    cluster_size = 1 << cluster_bits
    return Qcow2Inspection(
        virtual_size=size,
        version=version,
        backing_file=_qcow2_backing_file(image_file, backing_offset, backing_size),
        incompatible_features=incompatible,
        data_file=_qcow2_data_file(image_file, extensions_start, cluster_size),
    )


def _qcow2_backing_file(image_file, offset, size):
    if offset == 0:
        return None
    # Any non-zero offset means "has a backing file", even when the name
    # cannot be read: qemu would try to open something.
    return _read_at(image_file, offset, min(size, _QCOW2_MAX_NAME))


def _qcow2_data_file(image_file, offset, cluster_size):
    """The name in the data-file header extension, or None without one."""
    for _ in range(_QCOW2_MAX_EXTENSIONS):
        if offset + _QCOW2_EXT_HEADER.size > cluster_size:
            break
        raw = _read_at(image_file, offset, _QCOW2_EXT_HEADER.size)
        if len(raw) < _QCOW2_EXT_HEADER.size:
            break
        kind, length = _QCOW2_EXT_HEADER.unpack(raw)
        if kind == QCOW2_EXT_END:
            break
        if kind == QCOW2_EXT_DATA_FILE:
            return _read_at(image_file, offset + _QCOW2_EXT_HEADER.size,
                            min(length, _QCOW2_MAX_NAME))
        offset += _QCOW2_EXT_HEADER.size + (length + 7) // 8 * 8
    return None


# --- QED -------------------------------------------------------------------------------

QED_MAGIC = b"QED\x00"
QED_IMAGE_SIZE_OFFSET = 48


class QedInspection(Inspection):
    format = "qed"

    def safety_problems(self):
        # QED can name a backing file, and qemu has deprecated the format:
        # nothing here looks deeper into it, so it is refused outright.
        return ["QED images are not accepted (convert them to qcow2 or raw)"]


def _inspect_qed(head):
    size = None
    if len(head) >= QED_IMAGE_SIZE_OFFSET + 8:
        (size,) = struct.unpack_from("<Q", head, QED_IMAGE_SIZE_OFFSET)
    return QedInspection(size)


# --- VMDK --------------------------------------------------------------------------------

VMDK_SPARSE_MAGIC = b"KDMV"            # a hosted sparse extent ("VMDK4")
VMDK_COWD_MAGIC = b"COWD"              # the old ESX sparse extent ("VMDK3")
VMDK_DESCRIPTOR_MAGIC = b"# Disk DescriptorFile"
# magic, version, flags, capacity, grain_size, descriptor_offset,
# descriptor_size (little-endian; sizes and offsets in sectors).
_VMDK_SPARSE_HEADER = struct.Struct("<4sIIQQQQ")
# The two kinds whose one file holds the whole disk. Every other kind
# (monolithicFlat, twoGbMaxExtent*, vmfs*, ...) is a descriptor naming other
# files, which qemu opens relative to the image: any file of the host
# (OSSA-2023-002).
VMDK_ALLOWED_CREATE_TYPES = ("monolithicSparse", "streamOptimized")
VMDK_EXTENT_ACCESS = ("RW", "RDONLY", "NOACCESS")
# A descriptor is a few lines of text (qemu-img writes 20 sectors);
# anything much larger is not a disk we know.
VMDK_MAX_DESCRIPTOR_BYTES = 64 * 1024

_EXTENT_LINE = re.compile(
    r'^(?P<access>\S+)\s+(?P<sectors>\d+)\s+(?P<type>\S+)(?:\s+"(?P<filename>[^"]*)")?')
_CREATE_TYPE_LINE = re.compile(r'^\s*createType\s*=\s*"(?P<create_type>[^"]*)"', re.MULTILINE)
_PARENT_LINE = re.compile(r"^\s*parentFileNameHint\s*=", re.MULTILINE)


class VmdkExtent:
    """One extent line of a descriptor: ``RW 2048 SPARSE "disk.vmdk"``."""

    def __init__(self, line):
        self.line = line
        match = _EXTENT_LINE.match(line)
        self.type = match.group("type") if match else None
        self.filename = match.group("filename") if match else None


class VmdkInspection(Inspection):
    format = "vmdk"

    def __init__(self, virtual_size=None, kind="sparse", header_problem=None,
                 create_type=None, extents=(), names_parent=False):
        super().__init__(virtual_size)
        # "sparse": one file, header and embedded descriptor; "descriptor":
        # a text file describing other files; "cowd": an ESX VMDK3 extent.
        self.kind = kind
        self.header_problem = header_problem
        self.create_type = create_type
        self.extents = list(extents)
        self.names_parent = names_parent

    def safety_problems(self):
        if self.kind == "descriptor":
            return [f"VMDK is a descriptor file (createType {self.create_type!r}) whose "
                    f"extents are other files; only {_allowed_vmdk_types()} images, "
                    f"in one file, are accepted"]
        if self.kind == "cowd":
            return [f"VMDK3 (COWD) images are not accepted; only {_allowed_vmdk_types()}"]
        if self.header_problem:
            return [self.header_problem]
        problems = []
        if self.create_type not in VMDK_ALLOWED_CREATE_TYPES:
            problems.append(f"VMDK create type {self.create_type!r} is not accepted; "
                            f"only {_allowed_vmdk_types()}")
        if self.names_parent:
            problems.append("VMDK names a parent disk (parentFileNameHint), which qemu "
                            "would open as its backing file")
        problems.extend(self._extent_problems())
        return problems

    def _extent_problems(self):
        # The one extent of a monolithicSparse or streamOptimized disk is the
        # file itself. qemu never opens it by name, since the sparse header
        # describes the disk (capacity > 0); an extent line more, or of
        # another kind, is a reference to some other file.
        if len(self.extents) != 1:
            return [f"VMDK descriptor lists {len(self.extents)} extents; only one, "
                    f"the image file itself, is accepted"]
        (extent,) = self.extents
        if extent.type != "SPARSE" or not extent.filename or "/" in extent.filename:
            return [f"VMDK extent {_name_for_message(extent.line)} is not "
                    f"the image file itself (a SPARSE extent named without a path)"]
        return []


def _allowed_vmdk_types():
    return " and ".join(VMDK_ALLOWED_CREATE_TYPES)


def _inspect_vmdk_sparse(image_file, head):
    if len(head) < _VMDK_SPARSE_HEADER.size:
        return VmdkInspection(header_problem="VMDK header is truncated")
    _magic, _version, _flags, capacity, _grain, desc_offset, desc_size = (
        _VMDK_SPARSE_HEADER.unpack_from(head))
    virtual_size = capacity * SECTOR
    if capacity == 0:
        # Then qemu takes the disk from the embedded descriptor's extents
        # instead of this header: the extents would name the files it reads.
        return VmdkInspection(virtual_size, header_problem=(
            "VMDK sparse header has capacity 0, so qemu would open the files its "
            "descriptor names"))
    if desc_offset == 0 or desc_size == 0:
        return VmdkInspection(virtual_size, header_problem=(
            "VMDK has no embedded descriptor, so its create type is unknown"))
    if desc_size * SECTOR > VMDK_MAX_DESCRIPTOR_BYTES:
        return VmdkInspection(virtual_size, header_problem=(
            f"VMDK embedded descriptor is {desc_size * SECTOR} bytes, more than "
            f"{VMDK_MAX_DESCRIPTOR_BYTES}"))
    text = _read_at(image_file, desc_offset * SECTOR, desc_size * SECTOR)
    return _vmdk_from_descriptor(text, virtual_size, kind="sparse")


def _inspect_vmdk_descriptor_file(image_file):
    text = _read_at(image_file, 0, VMDK_MAX_DESCRIPTOR_BYTES)
    return _vmdk_from_descriptor(text, None, kind="descriptor")


def _vmdk_from_descriptor(raw_text, virtual_size, kind):
    # The embedded descriptor is padded with NULs to whole sectors.
    text = raw_text.split(b"\0", 1)[0].decode("utf-8", errors="replace")
    create_type = _CREATE_TYPE_LINE.search(text)
    extents = [VmdkExtent(line.strip()) for line in text.splitlines()
               if _is_extent_line(line)]
    return VmdkInspection(
        virtual_size, kind=kind,
        create_type=create_type.group("create_type") if create_type else None,
        extents=extents,
        names_parent=bool(_PARENT_LINE.search(text)),
    )


def _is_extent_line(line):
    # As for qemu, every line that starts with an access mode is an extent,
    # whether or not the rest of it parses.
    words = line.split(maxsplit=1)
    return bool(words) and words[0] in VMDK_EXTENT_ACCESS


# --- VDI -----------------------------------------------------------------------------------

# VirtualBox's signature 0xbeda107f, little-endian, after a 64-byte text banner.
VDI_SIGNATURE = struct.pack("<I", 0xBEDA107F)
VDI_SIGNATURE_OFFSET = 0x40
# The disk size in the version 1.1 header, the only version qemu reads.
VDI_DISK_SIZE_OFFSET = 0x170


class VdiInspection(Inspection):
    # A VDI is one self-contained file (qemu refuses the differencing kind,
    # which would have a parent): nothing to refuse once it is detected.
    format = "vdi"


def _inspect_vdi(head):
    size = None
    if len(head) >= VDI_DISK_SIZE_OFFSET + 8:
        (size,) = struct.unpack_from("<Q", head, VDI_DISK_SIZE_OFFSET)
    return VdiInspection(size)
