"""GuestConfig.to_xml(): the domain XML libvirt gets, parsed back with ElementTree."""

import xml.etree.ElementTree as ET

from mininova.virt.libvirt import config

UUID = "6f1c4b9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
NS = {"mn": config.MININOVA_NS}


def guest(**overrides):
    values = dict(
        virt_type="qemu", uuid=UUID, name="instance-00000001", memory_mb=64, vcpus=2,
        disk_path=f"/var/lib/mininova/instances/{UUID}/disk",
        console_log_path=f"/var/lib/mininova/instances/{UUID}/console.log",
        display_name="web-1", creation_time="2024-01-02 03:04:05",
        flavor={"name": "m1.tiny", "memory_mb": 64, "root_gb": 1, "swap": 0,
                "ephemeral_gb": 0, "vcpus": 2},
        user_id="alice", project_id="proj1", image_id="img-1", host="compute1",
    )
    values.update(overrides)
    return config.GuestConfig(**values)


def domain(**overrides):
    return ET.fromstring(guest(**overrides).to_xml())


def test_domain_type_is_the_virt_type():
    assert domain().get("type") == "qemu"
    assert domain(virt_type="kvm").get("type") == "kvm"


def test_name_and_uuid():
    root = domain()
    assert root.findtext("name") == "instance-00000001"
    assert root.findtext("uuid") == UUID


def test_memory_is_given_in_kib():
    memory = domain().find("memory")
    assert memory.text == "65536"
    assert memory.get("unit") == "KiB"


def test_vcpu_is_the_flavors_vcpus():
    assert domain().findtext("vcpu") == "2"


def test_root_disk_is_a_qcow2_overlay_on_virtio_vda_without_host_cache():
    disk = domain().find("devices/disk")
    assert (disk.get("type"), disk.get("device")) == ("file", "disk")
    driver = disk.find("driver")
    assert (driver.get("name"), driver.get("type"), driver.get("cache")) == (
        "qemu", "qcow2", "none")
    assert disk.find("source").get("file") == f"/var/lib/mininova/instances/{UUID}/disk"
    target = disk.find("target")
    assert (target.get("dev"), target.get("bus")) == ("vda", "virtio")


def test_serial_console_is_a_pty_logged_to_console_log():
    serial = domain().find("devices/serial")
    assert serial.get("type") == "pty"
    assert serial.find("log").get("file") == (
        f"/var/lib/mininova/instances/{UUID}/console.log")


def test_console_is_the_serial_port():
    console = domain().find("devices/console")
    assert console.get("type") == "pty"
    assert console.find("target").get("type") == "serial"


def test_sysinfo_tells_the_guest_it_is_a_virtual_machine_with_our_uuid():
    sysinfo = domain().find("sysinfo")
    assert sysinfo.get("type") == "smbios"
    entries = {e.get("name"): e.text for e in sysinfo.findall("system/entry")}
    assert entries["family"] == "Virtual Machine"
    assert entries["uuid"] == UUID
    assert entries["manufacturer"] == "mininova"
    assert entries["product"] == "OpenStack Nova"
    assert domain().find("os/smbios").get("mode") == "sysinfo"


def test_kvm_guests_get_the_host_cpu_model():
    assert domain(virt_type="kvm").find("cpu").get("mode") == "host-model"


def test_qemu_guests_have_no_cpu_element():
    assert domain(virt_type="qemu").find("cpu") is None


def test_metadata_records_name_flavor_owner_and_host_in_our_namespace():
    instance = domain().find("metadata/mn:instance", NS)
    assert instance is not None
    assert instance.findtext("mn:name", namespaces=NS) == "web-1"
    assert instance.findtext("mn:creationTime", namespaces=NS) == "2024-01-02 03:04:05"
    flavor = instance.find("mn:flavor", NS)
    assert flavor.get("name") == "m1.tiny"
    assert flavor.findtext("mn:memory", namespaces=NS) == "64"
    assert flavor.findtext("mn:disk", namespaces=NS) == "1"
    assert flavor.findtext("mn:vcpus", namespaces=NS) == "2"
    owner = instance.find("mn:owner", NS)
    assert owner.find("mn:user", NS).get("uuid") == "alice"
    assert owner.find("mn:project", NS).get("uuid") == "proj1"
    assert instance.findtext("mn:host", namespaces=NS) == "compute1"


def test_a_hostile_display_name_is_escaped_and_stays_text():
    text = guest(display_name='<script>&"').to_xml()
    assert "<script>" not in text
    root = ET.fromstring(text)   # still well-formed
    assert root.findtext("metadata/mn:instance/mn:name", namespaces=NS) == '<script>&"'
    # The display name never becomes the domain name.
    assert root.findtext("name") == "instance-00000001"


def test_a_config_drive_is_a_readonly_ide_cdrom():
    path = f"/var/lib/mininova/instances/{UUID}/disk.config"
    [cdrom] = domain(config_drive_path=path).findall("devices/disk[@device='cdrom']")
    assert cdrom.find("source").get("file") == path
    assert cdrom.find("driver").get("type") == "raw"
    assert (cdrom.find("target").get("dev"), cdrom.find("target").get("bus")) == ("hdd", "ide")
    assert cdrom.find("readonly") is not None
    assert domain().findall("devices/disk[@device='cdrom']") == []


def test_a_vif_is_a_bridge_interface_with_the_ports_tap_name():
    interface = {"mac": "fa:16:3e:12:34:56", "bridge": "brq0123456789a",
                 "target": "tapabcdef01234", "mtu": 1450}
    [element] = domain(interfaces=[interface]).findall("devices/interface")
    assert element.get("type") == "bridge"
    assert element.find("mac").get("address") == "fa:16:3e:12:34:56"
    assert element.find("source").get("bridge") == "brq0123456789a"
    assert element.find("target").get("dev") == "tapabcdef01234"
    assert element.find("model").get("type") == "virtio"
    assert element.find("mtu").get("size") == "1450"
