"""Device role tagging in the libvirt driver (mininova/virt/libvirt/
device_metadata.py and LibvirtDriver._create_configdrive): the tagged NICs
and disks found in the defined domain's XML by MAC and target device, with
the PCI address libvirt gave them; and, as in Nova, the config drive made
after the define (so it can list those addresses) and before the start."""

import json
import xml.etree.ElementTree as ET
from concurrent import futures

import pytest

from mininova.network import model as network_model
from mininova.virt import configdrive
from mininova.virt.libvirt import device_metadata, imagebackend
from tests.unit.virt.libvirt import test_libvirt_driver as drivers

MAC_1, MAC_2 = "fa:16:3e:00:00:01", "fa:16:3e:00:00:02"
VOLUME_ID = "8f1a4c2e-0000-4000-8000-000000000001"

# A defined domain as libvirt gives it back: every device has its address.
DOMAIN_XML = f"""<domain type='qemu'><devices>
  <disk type='file' device='disk'><target dev='vda' bus='virtio'/>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></disk>
  <disk type='network' device='disk'><target dev='vdb' bus='virtio'/>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/></disk>
  <disk type='file' device='cdrom'><target dev='hdd' bus='ide'/>
    <address type='drive' controller='0' bus='1' target='0' unit='1'/></disk>
  <disk type='file' device='disk'><target dev='sdb' bus='scsi'/>
    <address type='drive' controller='0' bus='0' target='0' unit='0'/></disk>
  <interface type='bridge'><mac address='{MAC_1}'/><model type='virtio'/>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></interface>
  <interface type='bridge'><mac address='{MAC_2}'/><model type='virtio'/>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></interface>
  <memballoon model='virtio'>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></memballoon>
</devices></domain>"""


def vif(mac, tag=None):
    return {"id": f"port-{mac[-1]}", "address": mac, "tag": tag}


def test_tagged_nics_and_disks_with_their_pci_addresses():
    bdms = [{"device_name": "/dev/vda", "tag": None, "volume_id": None},
            {"device_name": "/dev/vdb", "tag": "db", "volume_id": VOLUME_ID}]
    devices = device_metadata.from_domain_xml(
        DOMAIN_XML, [vif(MAC_1), vif(MAC_2, "nic2")], bdms)
    # In the domain's order; the untagged NIC and disks are not there.
    assert devices == [
        {"type": "disk", "serial": VOLUME_ID, "tags": ["db"],
         "bus": {"type": "pci", "address": "0000:00:06.0"}},
        {"type": "nic", "mac": MAC_2, "tags": ["nic2"], "vf_trusted": False,
         "bus": {"type": "pci", "address": "0000:00:04.0"}},
    ]


def test_a_disk_off_the_pci_bus_has_its_bus_and_no_address():
    bdms = [{"device_name": "/dev/sdb", "tag": "logs", "volume_id": None}]
    assert device_metadata.from_domain_xml(DOMAIN_XML, [], bdms) == [
        {"type": "disk", "serial": None, "tags": ["logs"], "bus": {"type": "scsi"}}]


def test_nothing_tagged_is_none():
    assert device_metadata.from_domain_xml(DOMAIN_XML, [vif(MAC_1)], []) is None
    # A tag whose device the guest does not have (yet) finds nothing either.
    assert device_metadata.from_domain_xml(
        DOMAIN_XML, [vif("fa:16:3e:00:00:09", "gone")],
        [{"device_name": "/dev/vdz", "tag": "gone"}]) is None


def test_pci_address_as_lspci_writes_it():
    element = ET.fromstring("<interface><address type='pci' domain='0x0000' bus='0x01' "
                            "slot='0x1f' function='0x7'/></interface>")
    assert device_metadata.pci_address(element) == "0000:01:1f.7"
    assert device_metadata.pci_address(ET.fromstring("<disk/>")) is None


# --- the driver: define, device metadata and config drive, start ---------------------------

@pytest.fixture
def drv(conf, tmp_path, monkeypatch):
    path = tmp_path / "instances"
    path.mkdir()
    conf.set_override("instances_path", str(path))
    conf.set_override("vif_plugging_timeout", 0)
    monkeypatch.setattr(drivers.libvirt_driver, "time", drivers.FakeClock())
    the_driver = drivers.libvirt_driver.LibvirtDriver()
    the_driver._host = drivers.FakeHost(drivers.FakeClock())
    the_driver.host = "host-a"
    the_driver.virt_type = "qemu"
    monkeypatch.setattr(imagebackend, "create_root_disk", lambda *args: None)
    monkeypatch.setattr(the_driver, "_plug_vifs", lambda *args: None)
    return the_driver


def test_the_config_drive_lists_the_addresses_of_the_defined_domain(drv, monkeypatch):
    steps = []
    real_define = drv._host.conn.defineXML

    def define(xml):
        steps.append("define")
        domain = real_define(xml)
        domain.xml = DOMAIN_XML     # what libvirt answers once it is defined
        return domain

    def make_drive(path, files):
        steps.append(("config drive", list(drv._host.domain.calls)))
        steps.append(json.loads(files["openstack/latest/meta_data.json"])["devices"])

    monkeypatch.setattr(drv._host.conn, "defineXML", define)
    monkeypatch.setattr(configdrive, "make_drive", make_drive)
    server = dict(drivers.instance(), config_drive=True)
    network_info = [dict(drivers.VIF, address=MAC_1, tag="nic1")]
    drv.spawn(None, server, {"id": "img-1"},
              network_info=network_model.NetworkInfoAsyncWrapper(_done(network_info)))
    assert steps == [
        "define",
        ("config drive", []),       # not started yet
        [{"type": "nic", "bus": "pci", "address": "0000:00:03.0", "mac": MAC_1,
          "vf_trusted": False, "tags": ["nic1"]}],
    ]
    assert drv._host.domain.calls == [("create", 0)]
    # Left on the instance, for the compute manager to save.
    assert server["device_metadata"][0]["bus"] == {"type": "pci", "address": "0000:00:03.0"}


def _done(result):
    future = futures.Future()
    future.set_result(result)
    return future
