"""Names and MACs (mininova/network/utils.py)."""

import re

from mininova.network import utils

NETWORK = "2d843616-4a3d-4369-bb2a-0065e9bcade8"
PORT = "37f5e3f0-155a-480a-8893-3e62ccd1ed6d"


def test_random_mac_keeps_the_base_prefix():
    macs = {utils.get_random_mac("fa:16:3e:00:00:00") for _ in range(50)}
    assert all(re.fullmatch(r"fa:16:3e(:[0-9a-f]{2}){3}", mac) for mac in macs)
    assert len(macs) > 40


def test_device_names_fit_linux_limit():
    assert utils.bridge_name(NETWORK) == "brq2d843616-4a"
    assert utils.tap_device_name(PORT) == "tap37f5e3f0-15"
    assert utils.dhcp_ns_device_name(PORT) == "ns-37f5e3f0-15"
    assert utils.dhcp_namespace(NETWORK) == f"qdhcp-{NETWORK}"
    assert all(len(name) <= 15 for name in (utils.bridge_name(NETWORK),
                                            utils.tap_device_name(PORT)))


def test_port_id_prefix_from_a_device_name():
    assert utils.port_id_prefix("tap37f5e3f0-15") == "37f5e3f0-15"
    assert utils.port_id_prefix("ns-37f5e3f0-15") == "37f5e3f0-15"
    assert utils.port_id_prefix("eth0") is None


def test_dhcp_device_id_names_the_host():
    device_id = utils.dhcp_device_id(NETWORK, "node1.example.org")
    assert device_id == utils.dhcp_device_id(NETWORK, "node1")
    assert device_id.startswith("dhcp") and device_id.endswith(f"-{NETWORK}")
    assert device_id != utils.dhcp_device_id(NETWORK, "node2")


def test_dns_hostname():
    assert utils.dns_hostname("10.0.0.5") == "host-10-0-0-5"


def test_is_compute_port():
    server = "e00902fe-14b8-49ea-97aa-cbd93c491065"
    assert utils.is_compute_port({"device_owner": "compute:nova", "device_id": server})
    assert not utils.is_compute_port({"device_owner": "network:dhcp", "device_id": server})
    assert not utils.is_compute_port({"device_owner": "compute:nova", "device_id": "x"})
    assert not utils.is_compute_port({"device_owner": "", "device_id": ""})
