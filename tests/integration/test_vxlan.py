"""VXLAN between two "hosts" made of network namespaces (the L2 agent's
real commands, mininova/network/agent/linuxbridge.py).

Two namespaces joined by a veth pair stand for two hosts on the network
between them (198.18.77.1 and .2, the benchmarking range, nowhere else on
this machine). In each, the agent's own code, run there with ``ip netns
exec``, makes the network's bridge and ``vxlan-<VNI>`` in it, with a flood
entry towards the other host: a tunnel endpoint sync answered by a fake
server, as the real one answers. Then the bridges' addresses reach each
other across the tunnel, and a second VNI does not. Removing the
namespaces removes everything made in them, also when the test fails.
"""

import json
import secrets
import subprocess
import sys
import textwrap

import pytest

UNDERLAY = {"a": "198.18.77.1", "b": "198.18.77.2"}
OVERLAY = {"a": "10.99.77.1", "b": "10.99.77.2"}
VNI = 4242
BRIDGE = "brq-vxlantest"

# Run inside a host's namespace: the agent with a fake server that knows
# both endpoints, making sure of the bridge and its vxlan device.
AGENT_SCRIPT = textwrap.dedent("""
    import sys
    from oslo_config import cfg
    from mininova.conf import CONF
    from mininova.network.agent import linuxbridge
    from mininova.network.linux import bridge_lib

    local_ip, bridge, vni, peers = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    CONF([], project="mininova")
    CONF.set_override("local_ip", local_ip, "vxlan")

    class Server:
        def tunnel_sync(self, ctxt, tunnel_ip, host, udp_port):
            tunnels = [{"ip_address": ip, "host": f"h-{ip}", "udp_port": udp_port}
                       for ip in [tunnel_ip, *peers]]
            return {"tunnels": tunnels}

    agent = linuxbridge.LinuxBridgeAgent(host=f"h-{local_ip}", plugin_api=Server())
    assert agent.tunnel_sync()
    bridge_lib.ensure_bridge(bridge, mtu=1450)
    print(agent.ensure_vxlan(bridge, vni, mtu=1450))
""")


def run(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=60)


def in_ns(ns, *cmd, check=True):
    return run("ip", "netns", "exec", ns, *cmd, check=check)


@pytest.fixture
def two_hosts():
    suffix = secrets.token_hex(3)
    names = {"a": f"mnvx-a-{suffix}", "b": f"mnvx-b-{suffix}"}
    try:
        for ns in names.values():
            run("ip", "netns", "add", ns)
            in_ns(ns, "ip", "link", "set", "lo", "up")
        run("ip", "link", "add", f"vxa-{suffix}", "netns", names["a"], "type", "veth",
            "peer", "name", f"vxb-{suffix}", "netns", names["b"])
        for side, device in (("a", f"vxa-{suffix}"), ("b", f"vxb-{suffix}")):
            in_ns(names[side], "ip", "addr", "add", f"{UNDERLAY[side]}/24", "dev", device)
            in_ns(names[side], "ip", "link", "set", device, "up")
        yield names
    finally:
        for ns in names.values():
            run("ip", "netns", "delete", ns, check=False)
    assert not {ns for ns in names.values()} & set(run("ip", "netns", "list").stdout.split())


def make_vxlan(ns, side, vni, bridge=BRIDGE):
    peer = UNDERLAY["b" if side == "a" else "a"]
    result = in_ns(ns, sys.executable, "-c", AGENT_SCRIPT, UNDERLAY[side], bridge, str(vni),
                   peer)
    return result.stdout.strip()


def test_two_bridges_reach_each_other_over_vxlan(two_hosts):
    for side, ns in two_hosts.items():
        assert make_vxlan(ns, side, VNI) == f"vxlan-{VNI}"
        in_ns(ns, "ip", "addr", "add", f"{OVERLAY[side]}/24", "dev", BRIDGE)

    # What the agent made, read back from the kernel.
    details = json.loads(in_ns(two_hosts["a"], "ip", "-j", "-d", "link", "show",
                               f"vxlan-{VNI}").stdout)[0]
    info = details["linkinfo"]["info_data"]
    assert (info["id"], info["local"], info["port"]) == (VNI, UNDERLAY["a"], 4789)
    assert details["master"] == BRIDGE
    assert details["mtu"] == 1450
    fdb = json.loads(in_ns(two_hosts["a"], "bridge", "-j", "fdb", "show", "dev",
                           f"vxlan-{VNI}").stdout)
    assert {e["dst"] for e in fdb if e["mac"] == "00:00:00:00:00:00"} == {UNDERLAY["b"]}

    # Host a's bridge reaches host b's across the tunnel (ARP flooded to
    # the peer, the answer learnt).
    ping = in_ns(two_hosts["a"], "busybox", "ping", "-c", "3", "-W", "5", OVERLAY["b"], check=False)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    learnt = json.loads(in_ns(two_hosts["a"], "bridge", "-j", "fdb", "show", "dev",
                              f"vxlan-{VNI}").stdout)
    assert any(e.get("dst") == UNDERLAY["b"] and e["mac"] != "00:00:00:00:00:00"
               for e in learnt), learnt

    # Running the agent again changes nothing (one flood entry, not two).
    make_vxlan(two_hosts["a"], "a", VNI)
    fdb = json.loads(in_ns(two_hosts["a"], "bridge", "-j", "fdb", "show", "dev",
                           f"vxlan-{VNI}").stdout)
    assert [e["dst"] for e in fdb if e["mac"] == "00:00:00:00:00:00"] == [UNDERLAY["b"]]


def test_another_vni_is_another_network(two_hosts):
    make_vxlan(two_hosts["a"], "a", VNI)
    make_vxlan(two_hosts["b"], "b", VNI + 1)
    for side, ns in two_hosts.items():
        in_ns(ns, "ip", "addr", "add", f"{OVERLAY[side]}/24", "dev", BRIDGE)
    ping = in_ns(two_hosts["a"], "busybox", "ping", "-c", "2", "-W", "2", OVERLAY["b"], check=False)
    assert ping.returncode != 0
