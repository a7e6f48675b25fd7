"""Builds that fail on a real host: the server goes to ERROR with a fault a
student can act on, and nothing is left behind: no .part or .converted file,
no overlay or instance directory, no libvirt domain, no claimed memory."""

import struct
import subprocess

from tests.integration import deployment as dep


def assert_nothing_left(cloud, admin):
    assert cloud.domain_names() == []
    instance_dirs = [p.name for p in cloud.instances_path.iterdir()
                     if p.name not in ("_base", "locks")]
    assert instance_dirs == []
    base = cloud.instances_path / "_base"
    partial = [p.name for p in base.iterdir() if p.suffix in (".part", ".converted")] \
        if base.exists() else []
    assert partial == []
    dep.wait_for_usage(admin, memory_mb_used=512, running_vms=0)  # only the reserved


def boot_and_expect_error(admin, image_id, flavor="42"):
    server = admin.create_server("doomed", image_id, flavor)
    return dep.wait_for_status(admin, server["id"], "ERROR")


def test_download_with_a_wrong_checksum_fails_cleanly_and_a_retry_works(cloud, admin):
    image = dep.upload_tiny_image(admin, "tampered")
    stored = cloud.state_path / "images" / image["id"]
    original = stored.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0xFF  # one flipped byte after the checksum was taken
    stored.write_bytes(bytes(damaged))

    server = boot_and_expect_error(admin, image["id"])
    assert server["fault"]["message"].startswith(f"Build of instance {server['id']} aborted: "
                                                 f"Failed to download image {image['id']}")
    assert "checksum" in server["fault"]["message"].lower()
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])
    assert_nothing_left(cloud, admin)

    stored.write_bytes(original)
    retry = admin.create_server("retry", image["id"], "42")
    dep.wait_for_status(admin, retry["id"], "ACTIVE")
    admin.delete_server(retry["id"])
    dep.wait_for_gone(admin, retry["id"])


def corrupt_l1_table(path):
    """Point the first L1 entry at an unaligned offset: `qemu-img info` reads only
    the header and is happy, `qemu-img convert` reads the data and fails."""
    with open(path, "r+b") as f:
        header = f.read(48)
        l1_offset = struct.unpack(">Q", header[40:48])[0]
        f.seek(l1_offset)
        f.write(struct.pack(">Q", 0x8000000000000201))


def test_image_that_fails_to_convert(cloud, admin, tmp_path):
    path = tmp_path / "broken.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(path), "16M"], check=True,
                   capture_output=True)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 1M", str(path)],
                   check=True, capture_output=True)
    corrupt_l1_table(path)
    image = admin.create_image("broken", str(path), "qcow2")

    # qemu-img failing is rescheduled (a full disk on one host looks the
    # same); with one host, the retry finds none and says what failed.
    server = boot_and_expect_error(admin, image["id"])
    message = server["fault"]["message"]
    assert message.startswith(
        "No valid host was found. There are not enough hosts available. "
        f"RetryFilter: (start: 1, end: 0): {cloud.host}: already tried for this build; "
        "it failed with: qemu-img convert failed: "), message
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])
    assert_nothing_left(cloud, admin)


def test_libvirt_refusing_to_start_the_guest(cloud, admin):
    # More vCPUs than QEMU's pc machine allows: the scheduler and the claim
    # let it through (CoreFilter is off, no vcpu limit), libvirt refuses it.
    # Nova reschedules such a failure; with one host, the retry finds none.
    cloud.manage("flavor", "create", "too-many-cpus", "--ram", "64", "--disk", "0",
                 "--vcpus", "300", "--id", "300")
    image = dep.upload_tiny_image(admin, "tiny-for-cpus")
    admin.update_quotas("admin", {"cores": -1})  # the API's quota would refuse 300 first
    try:
        server = boot_and_expect_error(admin, image["id"], flavor="300")
    finally:
        admin.delete_quotas("admin")
    message = server["fault"]["message"]
    assert message.startswith(
        "No valid host was found. There are not enough hosts available. "
        f"RetryFilter: (start: 1, end: 0): {cloud.host}: already tried for this build; "
        "it failed with: libvirtError: ")
    assert "Maximum CPUs greater than specified machine type limit" in (
        server["fault"]["details"])
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])
    assert_nothing_left(cloud, admin)
