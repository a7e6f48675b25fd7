"""Boot the tiny image for real: five processes over RabbitMQ, libvirtd, QEMU
(TCG here), and check what is left on disk and in libvirt at each step, as a
student would with ls, qemu-img and virsh."""

import hashlib
import json
import subprocess
import xml.etree.ElementTree as ET

import libvirt
import pytest

from tests.integration import deployment as dep


def qemu_img_info(path, fmt):
    out = subprocess.run(["qemu-img", "info", "--force-share", "--output=json", "-f", fmt,
                          str(path)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


@pytest.fixture(scope="module")
def vm1(cloud, admin, tiny):
    """The first boot of the image: it downloads and converts it."""
    response = admin.session.post(f"{admin.compute_url}/servers", json={
        "server": {"name": "vm1", "imageRef": tiny["id"], "flavorRef": "42"}})
    assert response.status_code == 202, response.text
    server = dep.wait_for_status(admin, response.json()["server"]["id"], "ACTIVE")
    server["request_id"] = response.headers["x-compute-request-id"]
    return server


def test_virt_type_is_auto_detected_and_logged(cloud, vm1):
    compute_log = cloud.log("mininova-compute")
    assert "virt_type auto-detected: " in compute_log
    # This machine has no hardware virtualisation (kvm_pvm): TCG it is.
    expected = "qemu" if "virt_type auto-detected: qemu" in compute_log else "kvm"
    xml = ET.parse(cloud.instances_path / vm1["id"] / "libvirt.xml").getroot()
    assert xml.get("type") == expected


def test_base_file_is_the_raw_image_named_by_sha1_of_its_id(cloud, tiny, vm1):
    base = cloud.instances_path / "_base" / hashlib.sha1(tiny["id"].encode()).hexdigest()
    assert base.is_file()
    # Raw really: no qcow2 magic, and the size is the image's virtual size.
    assert base.read_bytes()[:4] != b"QFI\xfb"
    assert base.stat().st_size == tiny["virtual_size"]
    assert sorted(p.name for p in base.parent.iterdir()) == [base.name]  # no .part/.converted


def test_overlay_is_backed_by_the_base_file(cloud, tiny, vm1):
    base = cloud.instances_path / "_base" / hashlib.sha1(tiny["id"].encode()).hexdigest()
    disk = cloud.instances_path / vm1["id"] / "disk"
    info = qemu_img_info(disk, "qcow2")
    assert info["format"] == "qcow2"
    assert info["backing-filename"] == str(base)
    assert info["backing-filename-format"] == "raw"
    assert info["virtual-size"] == tiny["virtual_size"]  # m1.nano: 0 GB root → image size
    disk_info = json.loads((cloud.instances_path / vm1["id"] / "disk.info").read_text())
    assert disk_info == {str(disk): "qcow2"}


def test_libvirt_xml_and_the_running_domain(cloud, vm1):
    instance_dir = cloud.instances_path / vm1["id"]
    xml = ET.parse(instance_dir / "libvirt.xml").getroot()
    name = vm1["OS-EXT-SRV-ATTR:instance_name"]
    assert name.startswith(cloud.name_prefix) and name.endswith("%08x" % 1)
    assert xml.findtext("name") == name
    assert xml.findtext("uuid") == vm1["id"]
    assert xml.findtext("memory") == str(64 * 1024)
    assert xml.find("devices/disk/source").get("file") == str(instance_dir / "disk")
    assert xml.find("devices/serial/log").get("file") == str(instance_dir / "console.log")
    conn = libvirt.open("qemu:///system")
    try:
        domain = conn.lookupByUUIDString(vm1["id"])
        assert domain.name() == name
        assert domain.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    finally:
        conn.close()


def test_console_reaches_the_login_prompt(cloud, admin, vm1):
    output = dep.wait_for_console(admin, vm1["id"])
    assert "virtio_blk" in output and "virtio_net" in output
    assert (cloud.instances_path / vm1["id"] / "console.log").read_text().count("login:") >= 1


def test_request_id_is_in_every_services_log(cloud, vm1):
    for service in ("mininova-api", "mininova-conductor", "mininova-scheduler",
                    "mininova-compute"):
        assert vm1["request_id"] in cloud.log(service), service


def test_compute_has_no_database_configuration(cloud, vm1):
    assert "[database]" not in cloud.compute_conf.read_text()
    assert "[database]" in cloud.controller_conf.read_text()
    assert "DBNotAllowed" not in cloud.log("mininova-compute")


def test_second_boot_downloads_nothing(cloud, admin, tiny, vm1):
    server = admin.create_server("vm2", tiny["id"], "42")
    dep.wait_for_status(admin, server["id"], "ACTIVE")
    downloads = cloud.log("mininova-image").count(f'"GET /v2/images/{tiny["id"]}/file"')
    assert downloads == 1
    assert cloud.log("mininova-compute").count("Image download ") == 1
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])


def test_delete_leaves_nothing_but_the_base(cloud, admin, tiny, vm1):
    admin.delete_server(vm1["id"])
    dep.wait_for_gone(admin, vm1["id"])
    assert cloud.domain_names() == []
    leftovers = sorted(p.name for p in cloud.instances_path.iterdir())
    assert leftovers == ["_base", "locks"]
    dep.wait_for_usage(admin, memory_mb_used=512, running_vms=0)
    compute_log = cloud.log("mininova-compute")
    for line in ("Terminating instance", "Instance destroyed successfully.",
                 "Deleting instance files", "Deletion of",
                 "seconds to destroy the instance on the hypervisor."):
        assert line in compute_log
