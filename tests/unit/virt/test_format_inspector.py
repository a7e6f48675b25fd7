"""The format inspector against images crafted here, one per case.

The images are made in ``tmp_path`` with ``qemu-img create`` and a few byte
edits: the unit tier allows this I/O for this module only, because the
point is to read real headers as qemu writes them, not headers we typed in
(which would only prove the inspector agrees with itself). Nothing here
reaches the network.
"""

import io
import shutil
import struct
import subprocess

import pytest

from mininova import exception
from mininova.virt import format_inspector

MiB = 1024 * 1024


# --- making images -------------------------------------------------------------------

def qemu_img(*args, cwd=None):
    subprocess.run(["qemu-img", *map(str, args)], check=True, capture_output=True, cwd=cwd)


def create(tmp_path, name, fmt, *options, size="1M"):
    """Made in tmp_path; relative names in the options (data_file=x.data) too."""
    path = tmp_path / name
    qemu_img("create", "-f", fmt, *options, path, size, cwd=tmp_path)
    return path


def patch_bytes(path, offset, data):
    with open(path, "r+b") as image:
        image.seek(offset)
        image.write(data)


def set_qcow2_incompatible_bits(path, bits):
    """OR ``bits`` into the v3 header's incompatible_features (offset 72)."""
    with open(path, "r+b") as image:
        image.seek(72)
        (features,) = struct.unpack(">Q", image.read(8))
        image.seek(72)
        image.write(struct.pack(">Q", features | bits))


def rewrite_vmdk_descriptor(path, edit):
    """Apply ``edit`` (str -> str) to a sparse VMDK's embedded descriptor."""
    with open(path, "r+b") as image:
        header = image.read(512)
        offset, size = struct.unpack_from("<QQ", header, 28)
        image.seek(offset * 512)
        text = image.read(size * 512).split(b"\0", 1)[0].decode()
        new_text = edit(text).encode()
        assert new_text != text.encode() and len(new_text) <= size * 512
        image.seek(offset * 512)
        image.write(new_text.ljust(size * 512, b"\0"))


@pytest.fixture
def sparse_vmdk(tmp_path):
    return create(tmp_path, "disk.vmdk", "vmdk")


def refusal(path, declared):
    """The reason ``check`` gives, asserting that it refuses."""
    with pytest.raises(exception.ImageUnacceptable) as caught:
        format_inspector.check(path, declared, "image-1")
    assert caught.value.kwargs["image_id"] == "image-1"
    return caught.value.kwargs["reason"]


def accepted(path, declared):
    inspection = format_inspector.check(path, declared, "image-1")
    assert inspection.safety_problems() == []
    return inspection


# --- raw and ISO -------------------------------------------------------------------------

def test_plain_raw(tmp_path):
    path = tmp_path / "disk.raw"
    path.write_bytes(b"\x55" * 3 * 512)

    inspection = accepted(path, "raw")

    assert (inspection.format, inspection.virtual_size) == ("raw", 3 * 512)


def test_empty_file_is_raw(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert accepted(path, "raw").virtual_size == 0


@pytest.mark.skipif(not shutil.which("genisoimage"), reason="genisoimage is not installed")
def test_iso_made_by_genisoimage(tmp_path):
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "hello.txt").write_text("hello")
    iso = tmp_path / "disk.iso"
    subprocess.run(["genisoimage", "-quiet", "-r", "-V", "config-2", "-o", str(iso),
                    str(tmp_path / "content")], check=True)

    inspection = accepted(iso, "iso")

    assert (inspection.format, inspection.virtual_size) == ("iso", iso.stat().st_size)
    # An ISO is raw bytes to qemu: a "raw" image may be one.
    accepted(iso, "raw")


def test_iso_signature_alone_is_an_iso(tmp_path):
    path = tmp_path / "disk.iso"
    path.write_bytes(b"\0" * 0x8001 + b"CD001" + b"\0" * 2042)
    assert format_inspector.detect(path).format == "iso"


def test_raw_declared_iso_is_a_mismatch(tmp_path):
    path = tmp_path / "disk.raw"
    path.write_bytes(b"\0" * 64 * 1024)
    assert refusal(path, "iso") == "format is raw, not the declared iso"


# --- qcow2 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("compat, version", [("0.10", 2), ("1.1", 3)])
def test_qcow2_versions_2_and_3(tmp_path, compat, version):
    path = create(tmp_path, "disk.qcow2", "qcow2", "-o", f"compat={compat}", size="16M")

    inspection = accepted(path, "qcow2")

    assert inspection.format == "qcow2"
    assert inspection.version == version
    assert inspection.virtual_size == 16 * MiB


def test_qcow2_with_a_backing_file_is_refused(tmp_path):
    (tmp_path / "base.raw").write_bytes(b"\0" * MiB)
    path = create(tmp_path, "x.qcow2", "qcow2", "-b", "base.raw", "-F", "raw")

    assert refusal(path, "qcow2") == (
        "qcow2 image has a backing file ('base.raw'); flatten it with 'qemu-img convert' "
        "first")


def test_qcow2_with_an_external_data_file_is_refused(tmp_path):
    path = create(tmp_path, "x.qcow2", "qcow2", "-o", "data_file=x.data")

    assert refusal(path, "qcow2") == "qcow2 image has an external data file ('x.data')"


def test_qcow2_data_file_found_by_its_header_extension_alone(tmp_path):
    """Even with the feature bit cleared, the "DATA" extension gives it away."""
    path = create(tmp_path, "x.qcow2", "qcow2", "-o", "data_file=x.data")
    with open(path, "r+b") as image:
        image.seek(72)
        (features,) = struct.unpack(">Q", image.read(8))
        image.seek(72)
        image.write(struct.pack(">Q", features & ~format_inspector.QCOW2_INCOMPAT_DATA_FILE))

    assert refusal(path, "qcow2") == "qcow2 image has an external data file ('x.data')"


def test_qcow2_data_file_bit_alone_is_refused(tmp_path):
    path = create(tmp_path, "x.qcow2", "qcow2", "-o", "compat=1.1")
    set_qcow2_incompatible_bits(path, format_inspector.QCOW2_INCOMPAT_DATA_FILE)

    assert refusal(path, "qcow2") == "qcow2 image has an external data file (unnamed)"


def test_qcow2_with_an_unknown_incompatible_feature_is_refused(tmp_path):
    path = create(tmp_path, "x.qcow2", "qcow2", "-o", "compat=1.1")
    set_qcow2_incompatible_bits(path, 1 << 7)

    assert refusal(path, "qcow2") == "qcow2 image uses unknown incompatible feature bits 7"


def test_qcow2_known_incompatible_features_are_accepted(tmp_path):
    path = create(tmp_path, "x.qcow2", "qcow2", "-o", "compat=1.1,extended_l2=on")
    set_qcow2_incompatible_bits(path, format_inspector.QCOW2_INCOMPAT_DIRTY
                                | format_inspector.QCOW2_INCOMPAT_CORRUPT
                                | format_inspector.QCOW2_INCOMPAT_COMPRESSION)

    inspection = accepted(path, "qcow2")

    assert inspection.incompatible_features & format_inspector.QCOW2_INCOMPAT_EXTENDED_L2


@pytest.mark.parametrize("version", [1, 4, 0xFFFFFFFF])
def test_qcow2_unknown_version_is_refused(tmp_path, version):
    path = create(tmp_path, "x.qcow2", "qcow2")
    patch_bytes(path, 4, struct.pack(">I", version))

    assert refusal(path, "qcow2") == (
        f"qcow2 version {version} is not accepted (only versions 2 and 3)")


def test_truncated_qcow2_header_is_refused(tmp_path):
    path = tmp_path / "x.qcow2"
    path.write_bytes(b"QFI\xfb\0\0\0\x03")
    assert refusal(path, "qcow2") == "qcow2 header is truncated"


def test_qcow2_with_absurd_cluster_bits_is_refused(tmp_path):
    path = create(tmp_path, "x.qcow2", "qcow2")
    patch_bytes(path, 20, struct.pack(">I", 40))
    assert refusal(path, "qcow2") == (
        "qcow2 header is malformed: cluster_bits 40 is outside 9..21")


def test_qcow2_backing_file_offset_past_any_file_is_still_a_backing_file(tmp_path):
    path = create(tmp_path, "x.qcow2", "qcow2")
    patch_bytes(path, 8, struct.pack(">QI", 2 ** 64 - 1, 100))

    assert refusal(path, "qcow2") == (
        "qcow2 image has a backing file (''); flatten it with 'qemu-img convert' first")


# --- QED -------------------------------------------------------------------------------------

def test_qed_is_always_refused(tmp_path):
    path = create(tmp_path, "x.qed", "qed")

    inspection = format_inspector.detect(path)

    assert (inspection.format, inspection.virtual_size) == ("qed", MiB)
    assert refusal(path, "qed") == "QED images are not accepted (convert them to qcow2 or raw)"
    assert refusal(path, "raw") == "format is qed, not the declared raw"


# --- VMDK --------------------------------------------------------------------------------------

def test_vmdk_monolithic_sparse_is_accepted(sparse_vmdk):
    inspection = accepted(sparse_vmdk, "vmdk")

    assert (inspection.format, inspection.virtual_size) == ("vmdk", MiB)
    assert inspection.create_type == "monolithicSparse"
    assert [e.line for e in inspection.extents] == ['RW 2048 SPARSE "disk.vmdk"']


def test_vmdk_stream_optimized_is_accepted(tmp_path):
    path = create(tmp_path, "disk.vmdk", "vmdk", "-o", "subformat=streamOptimized", size="4M")

    inspection = accepted(path, "vmdk")

    assert (inspection.create_type, inspection.virtual_size) == ("streamOptimized", 4 * MiB)


@pytest.mark.parametrize("subformat", ["monolithicFlat", "twoGbMaxExtentSparse",
                                       "twoGbMaxExtentFlat"])
def test_vmdk_descriptor_files_are_refused(tmp_path, subformat):
    """The file uploaded is a text descriptor; its extents are other files."""
    path = create(tmp_path, "disk.vmdk", "vmdk", "-o", f"subformat={subformat}")
    assert path.read_bytes().startswith(b"# Disk DescriptorFile")

    assert refusal(path, "vmdk") == (
        f"VMDK is a descriptor file (createType '{subformat}') whose extents are other "
        f"files; only monolithicSparse and streamOptimized images, in one file, are accepted")


def test_hand_written_flat_descriptor_naming_a_host_file_is_refused(tmp_path):
    path = tmp_path / "evil.vmdk"
    path.write_text('# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\n'
                    'RW 2048 FLAT "/etc/shadow" 0\n')
    assert "is a descriptor file" in refusal(path, "vmdk")
    # ... and whatever it claims to be.
    assert refusal(path, "raw") == "format is vmdk, not the declared raw"


def test_sparse_vmdk_with_an_extra_extent_naming_a_host_file_is_refused(sparse_vmdk):
    rewrite_vmdk_descriptor(sparse_vmdk, lambda text: text.replace(
        'RW 2048 SPARSE "disk.vmdk"\n',
        'RW 2048 SPARSE "disk.vmdk"\nRW 2048 FLAT "/etc/shadow" 0\n'))

    assert refusal(sparse_vmdk, "vmdk") == (
        "VMDK descriptor lists 2 extents; only one, the image file itself, is accepted")


def test_sparse_vmdk_whose_extent_was_replaced_by_another_file_is_refused(sparse_vmdk):
    rewrite_vmdk_descriptor(sparse_vmdk, lambda text: text.replace(
        'RW 2048 SPARSE "disk.vmdk"', 'RW 2048 FLAT "other-disk.raw" 0'))

    assert refusal(sparse_vmdk, "vmdk") == (
        "VMDK extent 'RW 2048 FLAT \"other-disk.raw\" 0' is not the image file itself "
        "(a SPARSE extent named without a path)")


def test_sparse_vmdk_whose_extent_names_a_path_is_refused(sparse_vmdk):
    rewrite_vmdk_descriptor(sparse_vmdk, lambda text: text.replace(
        '"disk.vmdk"', '"/var/lib/mininova/instances/_base/abc"'))

    assert "is not the image file itself" in refusal(sparse_vmdk, "vmdk")


def test_sparse_vmdk_with_another_create_type_is_refused(sparse_vmdk):
    rewrite_vmdk_descriptor(sparse_vmdk, lambda text: text.replace(
        '"monolithicSparse"', '"vmfsSparse"'))

    assert refusal(sparse_vmdk, "vmdk") == (
        "VMDK create type 'vmfsSparse' is not accepted; only monolithicSparse and "
        "streamOptimized")


def test_sparse_vmdk_naming_a_parent_is_refused(sparse_vmdk):
    rewrite_vmdk_descriptor(sparse_vmdk, lambda text: text.replace(
        "parentCID=ffffffff\n", 'parentCID=12345678\nparentFileNameHint="/etc/shadow"\n'))

    assert refusal(sparse_vmdk, "vmdk") == (
        "VMDK names a parent disk (parentFileNameHint), which qemu would open as its "
        "backing file")


def test_sparse_vmdk_with_zero_capacity_is_refused(sparse_vmdk):
    """qemu would then build the disk from the descriptor's extents."""
    patch_bytes(sparse_vmdk, 12, struct.pack("<Q", 0))

    assert refusal(sparse_vmdk, "vmdk") == (
        "VMDK sparse header has capacity 0, so qemu would open the files its descriptor "
        "names")


def test_sparse_vmdk_without_a_descriptor_is_refused(sparse_vmdk):
    patch_bytes(sparse_vmdk, 28, struct.pack("<QQ", 0, 0))

    assert refusal(sparse_vmdk, "vmdk") == (
        "VMDK has no embedded descriptor, so its create type is unknown")


def test_sparse_vmdk_whose_descriptor_lies_past_the_end_is_refused(sparse_vmdk):
    patch_bytes(sparse_vmdk, 28, struct.pack("<QQ", 2 ** 64 - 1, 20))

    assert refusal(sparse_vmdk, "vmdk") == (
        "VMDK create type None is not accepted; only monolithicSparse and streamOptimized")


def test_cowd_vmdk_is_refused(tmp_path):
    path = tmp_path / "esx.vmdk"
    path.write_bytes(b"COWD" + b"\0" * 2044)
    assert refusal(path, "vmdk") == (
        "VMDK3 (COWD) images are not accepted; only monolithicSparse and streamOptimized")


# --- VDI -----------------------------------------------------------------------------------------

def test_vdi_is_accepted(tmp_path):
    path = create(tmp_path, "disk.vdi", "vdi", size="8M")

    inspection = accepted(path, "vdi")

    assert (inspection.format, inspection.virtual_size) == ("vdi", 8 * MiB)


# --- declared format against detected format ----------------------------------------------------

@pytest.mark.parametrize("fmt", ["qcow2", "vmdk", "vdi", "qed"])
def test_an_image_declared_raw_must_not_have_a_header(tmp_path, fmt):
    path = create(tmp_path, f"disk.{fmt}", fmt)
    assert refusal(path, "raw") == f"format is {fmt}, not the declared raw"


@pytest.mark.parametrize("fmt", ["qcow2", "vmdk", "vdi"])
def test_an_image_declared_iso_must_not_have_a_header(tmp_path, fmt):
    path = create(tmp_path, f"disk.{fmt}", fmt)
    assert refusal(path, "iso") == f"format is {fmt}, not the declared iso"


@pytest.mark.parametrize("declared", ["qcow2", "vmdk", "vdi"])
def test_raw_declared_as_a_format_with_a_header_is_a_mismatch(tmp_path, declared):
    path = tmp_path / "disk.raw"
    path.write_bytes(b"\0" * MiB)
    assert refusal(path, declared) == f"format is raw, not the declared {declared}"


def test_mismatch_is_reported_before_the_safety_problems(tmp_path):
    (tmp_path / "base.raw").write_bytes(b"\0" * MiB)
    path = create(tmp_path, "x.qcow2", "qcow2", "-b", "base.raw", "-F", "raw")
    assert refusal(path, "raw") == "format is qcow2, not the declared raw"


def test_a_qcow2_header_on_an_iso_counts_as_qcow2(tmp_path):
    path = create(tmp_path, "x.qcow2", "qcow2")
    patch_bytes(path, 0x8001, b"CD001")
    assert refusal(path, "iso") == "format is qcow2, not the declared iso"


# --- reading as little as possible -------------------------------------------------------------

class CountingFile(io.FileIO):
    """A file that counts the bytes read from it."""

    bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


@pytest.mark.parametrize("fmt", ["raw", "qcow2", "vmdk", "vdi"])
def test_only_the_headers_are_read(tmp_path, fmt):
    if fmt == "raw":
        path = tmp_path / "disk.raw"
        with open(path, "wb") as big:
            big.truncate(4 * 1024 ** 3)  # sparse: 4 GiB that take no room
    else:
        path = create(tmp_path, f"disk.{fmt}", fmt, size="4G")

    with CountingFile(path, "r") as image_file:
        inspection = format_inspector.detect(image_file)
        assert not image_file.closed  # the caller's file stays open

    assert (inspection.format, inspection.virtual_size) == (fmt, 4 * 1024 ** 3)
    assert image_file.bytes_read <= 64 * 1024


def test_a_file_object_and_a_path_give_the_same_answer(sparse_vmdk):
    with open(sparse_vmdk, "rb") as image_file:
        from_file = format_inspector.detect(image_file)
    from_path = format_inspector.detect(str(sparse_vmdk))
    assert (from_file.format, from_file.virtual_size) == (from_path.format,
                                                            from_path.virtual_size)


def test_a_long_name_from_an_image_is_cut_short_in_the_reason(tmp_path):
    # -u: qemu-img need not open the (missing) backing file.
    path = create(tmp_path, "x.qcow2", "qcow2", "-u", "-b", "b" * 900, "-F", "raw")

    reason = refusal(path, "qcow2")

    assert len(reason) < 300 and "bbb..." in reason
