"""What a guest reads from its config drive or the metadata service."""

import base64
import json

import pytest

from mininova.api.metadata import base

pytestmark = pytest.mark.usefixtures("conf")

INSTANCE = {
    "uuid": "6b9f2b5e-3c1e-4d7a-9a77-1f0e2d3c4b5a", "display_name": "vm 1",
    "hostname": "vm-1", "launch_index": 0, "availability_zone": "az1",
    "project_id": "demo", "metadata": {"role": "web"}, "key_name": "mykey",
    "key_data": "ssh-ed25519 AAAAC3Nza... me@host",
    "user_data": base64.b64encode(b"#!/bin/sh\necho hello\n").decode(),
}


def test_meta_data_has_what_cirros_reads():
    meta = json.loads(base.InstanceMetadata(INSTANCE).files()[
        "openstack/latest/meta_data.json"])
    assert meta["uuid"] == INSTANCE["uuid"]
    assert meta["name"] == "vm 1"
    assert meta["hostname"] == "vm-1.novalocal"
    assert meta["availability_zone"] == "az1"
    assert meta["meta"] == {"role": "web"}
    assert meta["public_keys"] == {"mykey": INSTANCE["key_data"]}
    assert len(base64.b64decode(meta["random_seed"])) == 512


def test_user_data_is_given_back_decoded():
    files = base.InstanceMetadata(INSTANCE).files()
    assert files["openstack/latest/user_data"] == b"#!/bin/sh\necho hello\n"
    assert "openstack/latest/user_data" not in base.InstanceMetadata(
        dict(INSTANCE, user_data=None)).files()


def test_no_key_pair_no_public_keys():
    meta = base.InstanceMetadata(dict(INSTANCE, key_name=None)).meta_data()
    assert "public_keys" not in meta


def test_network_data_links_networks_and_dns():
    vif = {"id": "0123456789abcdef", "address": "fa:16:3e:00:00:01", "type": "bridge",
           "devname": "tap0123456789a",
           "network": {"id": "net-1", "label": "private", "bridge": "brqnet-1", "mtu": 1450,
                       "subnets": [{"cidr": "10.0.0.0/24", "gateway": "10.0.0.1",
                                    "dns": ["10.0.0.1"], "enable_dhcp": True,
                                    "ips": [{"address": "10.0.0.5", "type": "fixed"}]}]}}
    data = base.network_data([vif])
    assert data["links"] == [{"id": "tap0123456789a", "vif_id": vif["id"], "type": "bridge",
                              "ethernet_mac_address": vif["address"], "mtu": 1450}]
    [network] = data["networks"]
    assert (network["ip_address"], network["netmask"], network["type"]) == (
        "10.0.0.5", "255.255.255.0", "ipv4_dhcp")
    assert network["routes"][0]["gateway"] == "10.0.0.1"
    assert data["services"] == [{"type": "dns", "address": "10.0.0.1"}]


# --- devices: the tagged devices, in the guest's shape (Nova's _get_device_metadata) ------

NIC = {"type": "nic", "mac": "fa:16:3e:00:00:01", "vf_trusted": False,
       "bus": {"type": "pci", "address": "0000:00:03.0"}, "tags": ["nic1"]}
VOLUME = {"type": "disk", "serial": "8f1a4c2e-0000-4000-8000-000000000001",
          "bus": {"type": "pci", "address": "0000:00:05.0"}, "tags": ["db"]}


def test_no_recorded_devices_is_an_empty_list():
    meta = base.InstanceMetadata(INSTANCE).meta_data()
    assert meta["devices"] == []
    assert base.InstanceMetadata(dict(INSTANCE, device_metadata=None)).meta_data()[
        "devices"] == []


def test_tagged_devices_in_meta_data_json():
    files = base.InstanceMetadata(dict(INSTANCE, device_metadata=[NIC, VOLUME])).files()
    meta = json.loads(files["openstack/latest/meta_data.json"])
    assert meta["devices"] == [
        {"type": "nic", "bus": "pci", "address": "0000:00:03.0",
         "mac": "fa:16:3e:00:00:01", "vf_trusted": False, "tags": ["nic1"]},
        {"type": "disk", "bus": "pci", "address": "0000:00:05.0",
         "serial": "8f1a4c2e-0000-4000-8000-000000000001", "tags": ["db"]},
    ]


def test_a_device_without_a_bus_or_address_says_none():
    scsi = {"type": "disk", "serial": None, "bus": {"type": "scsi"}, "tags": ["logs"]}
    no_bus = {"type": "disk", "serial": None, "tags": ["swap"]}
    assert base.devices([scsi, no_bus]) == [
        {"type": "disk", "bus": "scsi", "address": "none", "serial": None, "tags": ["logs"]},
        {"type": "disk", "bus": "none", "address": "none", "serial": None, "tags": ["swap"]},
    ]


def test_devices_of_unknown_kinds_or_buses_are_not_shown():
    share = {"type": "share", "share_id": "s1", "tags": ["x"]}
    odd_bus = dict(NIC, bus={"type": "virtio-mmio", "address": "0x1000"})
    assert base.devices([share, odd_bus]) == []
