"""Which gateway addresses go on a bridge, and which never may
(mininova/network/agent/host_gateway.py)."""

from mininova.network.agent import host_gateway


def subnet(cidr, gateway, version=4):
    return {"cidr": cidr, "gateway_ip": gateway, "ip_version": version}


def test_wanted_addresses():
    network = {"subnets": [subnet("10.0.0.0/24", "10.0.0.1"), subnet("10.0.1.0/28", None)]}
    assert host_gateway.wanted_addresses(network) == ["10.0.0.1/24"]


def test_a_route_of_the_host_through_another_device_conflicts():
    routes = [{"dst": "default", "gateway": "192.0.2.1", "dev": "eth0"},
              {"dst": "10.0.0.0/16", "dev": "eth1"},
              {"dst": "10.5.0.0/24", "dev": "brq12345678-90"}]
    assert host_gateway.conflicting_route("10.0.7.1/24", routes, "brqaaaa")["dev"] == "eth1"
    # Its own bridge's route and the default route do not count.
    assert host_gateway.conflicting_route("10.5.0.1/24", routes, "brq12345678-90") is None
    assert host_gateway.conflicting_route("10.9.0.1/24", routes, "brqaaaa") is None
