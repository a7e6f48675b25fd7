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
