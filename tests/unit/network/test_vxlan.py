"""VXLAN: the type driver's ranges (mininova/network/type_vxlan.py) and the
commands the L2 agent issues for a vxlan network's bridge and its peers
(mininova/network/agent/linuxbridge.py), with ``ip`` and ``bridge`` faked
at the command line."""

import json

import pytest

from mininova.network import type_vxlan
from mininova.network.agent import linuxbridge
from mininova.network.linux import bridge_lib, ip_lib

NETWORK = "273a63a0-2065-46fe-a74b-d44526fcc9d3"
BRIDGE = "brq273a63a0-20"
TAP = "tapa39965a0-99"


# --- the type driver --------------------------------------------------------------

def test_vni_ranges_are_parsed():
    assert type_vxlan.parse_vni_ranges(["1:1000", " 2000:2000"]) == [(1, 1000), (2000, 2000)]
    assert type_vxlan.parse_vni_ranges([]) == []


@pytest.mark.parametrize("entry", ["1-10", "a:b", "10:1", "0:5", "1:16777216", "7"])
def test_wrong_vni_ranges_name_the_entry(entry):
    with pytest.raises(ValueError, match="vni_ranges: "):
        type_vxlan.parse_vni_ranges([entry])


def test_the_lowest_free_vni_is_taken():
    ranges = [(5, 6), (10, 11)]
    assert type_vxlan.first_free_vni(set(), ranges) == 5
    assert type_vxlan.first_free_vni({5, 6}, ranges) == 10
    assert type_vxlan.first_free_vni({5, 6, 10, 11}, ranges) is None


def test_the_mtu_leaves_room_for_the_tunnel(conf):
    assert type_vxlan.network_mtu("vxlan") == 1450
    assert type_vxlan.network_mtu("local") == 1500


# --- the agent, with the host's commands recorded ---------------------------------

class FakeCommands:
    """``ip`` and ``bridge`` as far as the VXLAN code uses them: records
    every command and keeps the devices, masters and fdb entries."""

    def __init__(self, monkeypatch):
        self.commands = []
        self.devices = {BRIDGE, TAP}
        self.master = {TAP: BRIDGE}
        self.fdb = {}      # device -> set of flood destinations
        monkeypatch.setattr(ip_lib, "execute", self.execute)
        monkeypatch.setattr(ip_lib, "device_exists", lambda name, ns=None: name in self.devices)
        monkeypatch.setattr(ip_lib, "disable_ipv6", lambda name: None)
        monkeypatch.setattr(bridge_lib, "bridge_of", self.master.get)
        monkeypatch.setattr(bridge_lib, "ensure_bridge", lambda name, mtu=None: name)
        monkeypatch.setattr(bridge_lib, "interfaces", lambda bridge: sorted(
            d for d, b in self.master.items() if b == bridge))
        monkeypatch.setattr(bridge_lib, "delete_bridge", self.devices.discard)
        monkeypatch.setattr(bridge_lib, "bridge_exists", lambda name: name in self.devices)
        monkeypatch.setattr(ip_lib, "ipv4_addresses", lambda name: [])

    def execute(self, *cmd, namespace=None, check_exit_code=True):
        cmd = list(cmd)
        if cmd[:3] == ["bridge", "-j", "fdb"]:
            device = cmd[-1]
            return json.dumps([{"mac": bridge_lib.FLOOD_MAC, "dst": dst, "flags": ["self"]}
                               for dst in sorted(self.fdb.get(device, ()))]
                              + [{"mac": "fa:16:3e:00:00:01", "master": BRIDGE}])
        self.commands.append(" ".join(cmd))
        if cmd[:3] == ["ip", "link", "add"]:
            self.devices.add(cmd[3])
        elif cmd[:3] == ["ip", "link", "delete"]:
            self.devices.discard(cmd[-1])
            self.master.pop(cmd[-1], None)
        elif cmd[:3] == ["ip", "link", "set"] and "master" in cmd:
            self.master[cmd[4]] = cmd[-1]
        elif cmd[:3] == ["bridge", "fdb", "append"]:
            self.fdb.setdefault(cmd[5], set()).add(cmd[-1])
        elif cmd[:3] == ["bridge", "fdb", "del"]:
            self.fdb[cmd[5]].discard(cmd[-1])
        return ""


class FakeServer:
    def __init__(self, tunnels):
        self.tunnels = tunnels
        self.synced = []

    def tunnel_sync(self, ctxt, tunnel_ip, host, udp_port):
        self.synced.append((tunnel_ip, host, udp_port))
        return {"tunnels": self.tunnels}

    def count_ports_bound_to_host(self, ctxt, network_id, host):
        return 0


def tunnel(ip, host):
    return {"ip_address": ip, "host": host, "udp_port": 4789}


@pytest.fixture
def commands(monkeypatch):
    return FakeCommands(monkeypatch)


@pytest.fixture
def vxlan_conf(conf):
    conf.set_override("local_ip", "192.0.2.1", "vxlan")
    return conf


def synced_agent(peers):
    server = FakeServer([tunnel("192.0.2.1", "h1")] + [tunnel(ip, h) for h, ip in peers])
    agent = linuxbridge.LinuxBridgeAgent(host="h1", plugin_api=server)
    assert agent.tunnel_sync()
    assert server.synced == [("192.0.2.1", "h1", 4789)]
    return agent


def vxlan_details(vni=1001):
    return {"device": TAP, "port_id": "p", "network_id": NETWORK, "bridge_name": BRIDGE,
            "device_owner": "compute:nova", "admin_state_up": True, "mtu": 1450,
            "network_type": "vxlan", "segmentation_id": vni}


def test_a_vxlan_networks_bridge_gets_its_device_and_every_peer(vxlan_conf, commands):
    agent = synced_agent([("h2", "192.0.2.2"), ("h3", "192.0.2.3")])
    assert agent.plug_interface(vxlan_details())
    assert commands.commands == [
        "ip link add vxlan-1001 type vxlan id 1001 dstport 4789 local 192.0.2.1",
        "ip link set dev vxlan-1001 mtu 1450",
        f"ip link set dev vxlan-1001 master {BRIDGE}",
        "ip link set dev vxlan-1001 up",
        "bridge fdb append 00:00:00:00:00:00 dev vxlan-1001 dst 192.0.2.2",
        "bridge fdb append 00:00:00:00:00:00 dev vxlan-1001 dst 192.0.2.3",
    ]
    # The next port of the network: nothing to change.
    commands.commands.clear()
    agent.plug_interface(vxlan_details())
    assert commands.commands == ["ip link set dev vxlan-1001 up"]


def test_peers_added_and_moved_later(vxlan_conf, commands):
    agent = synced_agent([("h2", "192.0.2.2")])
    agent.plug_interface(vxlan_details())
    commands.commands.clear()
    agent.tunnel_update(None, "192.0.2.3", "vxlan", "h3")
    assert commands.commands == [
        "bridge fdb append 00:00:00:00:00:00 dev vxlan-1001 dst 192.0.2.3"]
    commands.commands.clear()
    # Our own announcement and a repeated one change nothing.
    agent.tunnel_update(None, "192.0.2.1", "vxlan", "h1")
    agent.tunnel_update(None, "192.0.2.3", "vxlan", "h3")
    assert commands.commands == []
    # h2 comes back with another address: the old one goes.
    agent.tunnel_update(None, "192.0.2.9", "vxlan", "h2", replaced="192.0.2.2")
    assert commands.commands == [
        "bridge fdb append 00:00:00:00:00:00 dev vxlan-1001 dst 192.0.2.9",
        "bridge fdb del 00:00:00:00:00:00 dev vxlan-1001 dst 192.0.2.2"]
    assert commands.fdb["vxlan-1001"] == {"192.0.2.3", "192.0.2.9"}


def test_a_resync_removes_peers_the_server_no_longer_knows(vxlan_conf, commands):
    agent = synced_agent([("h2", "192.0.2.2"), ("h3", "192.0.2.3")])
    agent.plug_interface(vxlan_details())
    commands.commands.clear()
    agent.plugin_api.tunnels = [tunnel("192.0.2.1", "h1"), tunnel("192.0.2.3", "h3")]
    agent.tunnel_sync()
    assert commands.commands == [
        "bridge fdb del 00:00:00:00:00:00 dev vxlan-1001 dst 192.0.2.2"]


def test_the_vxlan_device_does_not_keep_the_bridge(vxlan_conf, commands):
    agent = synced_agent([("h2", "192.0.2.2")])
    agent.plug_interface(vxlan_details())
    commands.master.pop(TAP)       # the guest went
    commands.commands.clear()
    agent._remove_bridge_if_unused(NETWORK)
    assert commands.commands == ["ip link delete dev vxlan-1001"]
    assert BRIDGE not in commands.devices


def test_without_local_ip_a_vxlan_network_stays_local(conf, commands):
    agent = linuxbridge.LinuxBridgeAgent(host="h1", plugin_api=FakeServer([]))
    assert agent.plug_interface(vxlan_details())
    assert commands.commands == []
    agent.tunnel_update(None, "192.0.2.3", "vxlan", "h3")
    assert commands.commands == []


def test_a_local_network_gets_no_vxlan_device(vxlan_conf, commands):
    agent = synced_agent([("h2", "192.0.2.2")])
    details = dict(vxlan_details(), network_type="local", segmentation_id=None)
    assert agent.plug_interface(details)
    assert commands.commands == []


def test_a_failed_sync_is_tried_again(vxlan_conf, commands):
    class Unreachable(FakeServer):
        def tunnel_sync(self, *args):
            raise TimeoutError("no reply")
    agent = linuxbridge.LinuxBridgeAgent(host="h1", plugin_api=Unreachable([]))
    assert not agent.tunnel_sync()
    assert not agent._tunnels_synced


def test_a_new_device_asks_again_for_peers_a_lost_fanout_missed(vxlan_conf, commands):
    agent = synced_agent([("h2", "192.0.2.2")])
    # h3 registered, but its tunnel_update never reached us.
    agent.plugin_api.tunnels.append(tunnel("192.0.2.3", "h3"))
    agent.plug_interface(vxlan_details())
    assert commands.fdb["vxlan-1001"] == {"192.0.2.2", "192.0.2.3"}
    assert len(agent.plugin_api.synced) == 2
