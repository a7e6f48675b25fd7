"""The L2 agent's decisions, with the host and the server faked
(mininova/network/agent/linuxbridge.py)."""

import pytest

from mininova.network.agent import linuxbridge
from mininova.network.linux import bridge_lib, ip_lib

NETWORK = "273a63a0-2065-46fe-a74b-d44526fcc9d3"
BRIDGE = "brq273a63a0-20"


class FakeServer:
    def __init__(self, ports):
        self.ports = ports          # device -> details
        self.calls = []
        self.bound = 0

    def get_devices_details_list(self, ctxt, devices, agent_id, host):
        self.calls.append(("details", tuple(devices)))
        return [self.ports.get(d, {"device": d}) for d in devices]

    def update_device_up(self, ctxt, device, agent_id, host):
        self.calls.append(("up", device))
        return {"device": device, "exists": True}

    def update_device_down(self, ctxt, device, agent_id, host):
        self.calls.append(("down", device))
        return {"device": device, "exists": device in self.ports}

    def count_ports_bound_to_host(self, ctxt, network_id, host):
        return self.bound


class FakeHost:
    def __init__(self, monkeypatch):
        self.devices = {}          # name -> ifindex
        self.bridges = {}          # bridge -> set of devices
        self.addresses = {}
        self.state = {}
        monkeypatch.setattr(ip_lib, "list_devices", lambda: list(self.devices))
        monkeypatch.setattr(ip_lib, "ifindex", self.devices.get)
        monkeypatch.setattr(ip_lib, "device_exists", lambda name, ns=None: name in self.devices)
        monkeypatch.setattr(ip_lib, "set_up", lambda name: self.state.__setitem__(name, "up"))
        monkeypatch.setattr(ip_lib, "set_down",
                            lambda name: self.state.__setitem__(name, "down"))
        monkeypatch.setattr(ip_lib, "is_up", lambda name: self.state.get(name) == "up")
        self.ensured = []          # every ensure_bridge, in order
        monkeypatch.setattr(ip_lib, "ipv4_addresses", lambda b: self.addresses.get(b, []))
        monkeypatch.setattr(bridge_lib, "ensure_bridge", self.ensure_bridge)
        monkeypatch.setattr(bridge_lib, "bridge_exists", lambda name: name in self.bridges)
        monkeypatch.setattr(bridge_lib, "interfaces",
                            lambda name: sorted(self.bridges.get(name, ())))
        monkeypatch.setattr(bridge_lib, "bridge_of", lambda dev: next(
            (b for b, devs in self.bridges.items() if dev in devs), None))
        monkeypatch.setattr(bridge_lib, "add_interface",
                            lambda b, dev: self.bridges[b].add(dev))
        monkeypatch.setattr(bridge_lib, "delete_bridge", self.bridges.pop)

    def ensure_bridge(self, name, mtu=None):
        self.ensured.append(name)
        self.bridges.setdefault(name, set())
        return name


def details(device, owner="compute:nova", admin_state_up=True):
    return {"device": device, "port_id": "p-" + device, "network_id": NETWORK,
            "device_owner": owner, "admin_state_up": admin_state_up, "bridge_name": BRIDGE,
            "mtu": 1500}


@pytest.fixture
def host(monkeypatch):
    return FakeHost(monkeypatch)


def make_agent(conf, server):
    return linuxbridge.LinuxBridgeAgent(host="h1", plugin_api=server)


def loop(agent, previous, sync=False):
    info = agent.scan_devices(previous, sync)
    agent.process_devices(info)
    return info


def test_a_servers_tap_is_reported_up_and_left_to_libvirt(conf, host):
    server = FakeServer({"tapaaaa": details("tapaaaa")})
    agent = make_agent(conf, server)
    info = loop(agent, None, sync=True)
    host.devices["tapaaaa"] = 7
    host.devices["eth0"] = 2
    loop(agent, info)
    assert server.calls == [("details", ("tapaaaa",)), ("up", "tapaaaa")]
    assert host.bridges == {BRIDGE: set()}      # made, but the tap not plugged by us
    assert host.state["tapaaaa"] == "up"


def test_a_tap_libvirt_set_up_is_not_set_up_again(conf, host, monkeypatch):
    server = FakeServer({"tapaaaa": details("tapaaaa")})
    agent = make_agent(conf, server)
    info = loop(agent, None, sync=True)
    host.devices["tapaaaa"] = 7
    host.state["tapaaaa"] = "up"
    monkeypatch.setattr(ip_lib, "set_up", lambda name: pytest.fail("set up again"))
    loop(agent, info)
    assert server.calls[-1] == ("up", "tapaaaa")


def test_a_bridge_is_checked_once_for_its_taps_and_again_when_it_vanished(conf, host):
    server = FakeServer({name: details(name) for name in ("tapaaaa", "tapbbbb", "tapcccc")})
    agent = make_agent(conf, server)
    info = loop(agent, None, sync=True)
    host.devices["tapaaaa"] = 7
    info = loop(agent, info)
    host.devices["tapbbbb"] = 8
    info = loop(agent, info)
    assert host.ensured == [BRIDGE]
    del host.bridges[BRIDGE]             # deleted behind the agent's back
    host.devices["tapcccc"] = 9
    loop(agent, info)
    assert host.ensured == [BRIDGE, BRIDGE]


def test_the_dhcp_tap_is_plugged_by_the_agent(conf, host):
    server = FakeServer({"tapdddd": details("tapdddd", owner="network:dhcp")})
    host.devices["tapdddd"] = 9
    agent = make_agent(conf, server)
    loop(agent, None, sync=True)
    assert host.bridges[BRIDGE] == {"tapdddd"}
    assert ("up", "tapdddd") in server.calls


def test_unknown_taps_are_not_touched(conf, host):
    server = FakeServer({})
    host.devices["tapother"] = 3
    agent = make_agent(conf, server)
    info = loop(agent, None, sync=True)
    loop(agent, info)
    assert server.calls == [("details", ("tapother",))]   # asked once, never again
    assert host.bridges == {} and host.state == {}


def test_admin_down_port(conf, host):
    server = FakeServer({"tapaaaa": details("tapaaaa", admin_state_up=False)})
    host.devices["tapaaaa"] = 7
    loop(make_agent(conf, server), None, sync=True)
    assert server.calls[-1] == ("down", "tapaaaa")
    assert host.state["tapaaaa"] == "down"


def test_removed_tap_goes_down_and_the_empty_bridge_goes(conf, host):
    server = FakeServer({"tapaaaa": details("tapaaaa")})
    host.devices["tapaaaa"] = 7
    agent = make_agent(conf, server)
    info = loop(agent, None, sync=True)
    del host.devices["tapaaaa"]
    server.bound = 1                 # the port is still bound: keep the bridge
    info = loop(agent, info)
    assert server.calls[-1] == ("down", "tapaaaa")
    assert BRIDGE in host.bridges
    server.bound = 0                 # then the port is deleted
    agent.port_delete(None, "p-tapaaaa", NETWORK)
    loop(agent, info)
    assert BRIDGE not in host.bridges


def test_a_bridge_with_the_gateway_stays(conf, host):
    server = FakeServer({})
    host.bridges[BRIDGE] = set()
    host.addresses[BRIDGE] = ["10.0.0.1/24"]
    agent = make_agent(conf, server)
    agent.port_delete(None, "p", NETWORK)
    loop(agent, None, sync=True)
    assert BRIDGE in host.bridges


def test_a_tap_made_again_is_seen_again(conf, host):
    server = FakeServer({"tapaaaa": details("tapaaaa")})
    host.devices["tapaaaa"] = 7
    agent = make_agent(conf, server)
    info = loop(agent, None, sync=True)
    host.devices["tapaaaa"] = 8       # deleted and made again between two scans
    loop(agent, info)
    assert server.calls.count(("up", "tapaaaa")) == 2


def test_port_update_makes_the_device_seen_again(conf, host):
    server = FakeServer({"tapaaaa1111111": details("tapaaaa1111111")})
    host.devices["tapaaaa1111111"] = 7
    agent = make_agent(conf, server)
    info = loop(agent, None, sync=True)
    agent.port_update(None, {"id": "aaaa1111111-rest-of-the-id"})
    loop(agent, info)
    assert server.calls.count(("details", ("tapaaaa1111111",))) == 2
