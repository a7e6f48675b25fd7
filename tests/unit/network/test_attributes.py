"""Validators of the API's attribute tables (mininova/network/api/attributes.py):
each returns None or Neutron's reason."""

import pytest

from mininova.network.api import attributes as a


def test_cidr():
    assert a.cidr("10.0.0.0/24") is None
    assert a.cidr("10.0.0.0/33") == "'10.0.0.0/33' is not a valid IP subnet"


def test_mac_address():
    assert a.mac_address("fa:16:3e:00:00:01") is None
    assert "not a valid MAC address" in a.mac_address("fa:16:3e:00:01")
    assert "multicast" in a.mac_address("01:00:5e:00:00:01")


def test_nameservers():
    assert a.nameservers(["8.8.8.8", "1.1.1.1"]) is None
    assert a.nameservers(["8.8.8.8", "8.8.8.8"]) == "Duplicate nameserver '8.8.8.8'"
    assert a.nameservers(["dns.example"]) == "'dns.example' is not a valid nameserver"


def test_host_routes():
    assert a.host_routes([{"destination": "10.9.0.0/16", "nexthop": "10.0.0.9"}]) is None
    assert "Invalid data format for hostroute" in a.host_routes([{"destination": "x"}])
    assert "is not a valid CIDR" in a.host_routes([{"destination": "x", "nexthop": "10.0.0.9"}])


def test_fixed_ips():
    assert a.fixed_ips([{"subnet_id": "2d843616-4a3d-4369-bb2a-0065e9bcade8"}]) is None
    assert a.fixed_ips([{"ip_address": "10.0.0.5"}]) is None
    assert "Invalid data format for fixed IP" in a.fixed_ips([{"ip": "10.0.0.5"}])
    assert "is not a valid IP address" in a.fixed_ips([{"ip_address": "10.0.0.500"}])


def test_allocation_pools():
    assert a.allocation_pools([{"start": "10.0.0.2", "end": "10.0.0.9"}]) is None
    assert "Invalid data format for IP pool" in a.allocation_pools([{"start": "10.0.0.2"}])


def test_dns_name():
    assert a.dns_name("vm1") is None
    assert a.dns_name("") is None
    assert "not a valid PQDN or FQDN" in a.dns_name("-bad-")


@pytest.mark.parametrize("value, expected", [("true", True), ("False", False), (True, True),
                                             ("1", True), (0, False)])
def test_to_boolean(value, expected):
    assert a.to_boolean(value) is expected


def test_to_boolean_refuses():
    with pytest.raises(ValueError, match="cannot be converted to boolean"):
        a.to_boolean("maybe")
