"""mininova-network on the real host: namespaces, bridges, veths, taps,
dnsmasq, iptables, RabbitMQ; Nova played by a fake that records the
external events.

No packet goes anywhere but to the tests' own bridges and namespaces: a
"guest" is a namespace of the test's own joined to the network's bridge by
a veth, and asks for its address with busybox's udhcpc. The forwarding
rule is checked by reading it back, never by sending anything out.
Everything is removed afterwards, by name, also when a test fails
(network_service.NetworkDeployment.remove_leftovers)."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mininova.network import utils
from mininova.network.linux import isolation
from tests.fake_nova import FakeNova
from tests.integration.deployment import TINY_IMAGE
from tests.integration.network_service import (
    NetworkDeployment,
    bridge_ports,
    free_cidr,
    host_routes,
    run,
    wait_for,
)

SERVER = "e00902fe-14b8-49ea-97aa-cbd93c491065"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fake_nova():
    nova = FakeNova().start()
    yield nova
    nova.stop()


@pytest.fixture(scope="module")
def deployment(work_root, network_rabbit_url, fake_nova):
    path = work_root / "network"
    path.mkdir(mode=0o755)
    cloud = NetworkDeployment(path, network_rabbit_url, fake_nova.url)
    try:
        yield cloud.start()
    finally:
        cloud.tear_down()


@pytest.fixture
def net(deployment):
    """The test's networks are deleted after it, through the API, and
    whatever remains of them on the host removed by name."""
    before_networks, before_ports = set(deployment.networks), set(deployment.ports)
    yield deployment
    for port_id in deployment.ports - before_ports:
        deployment.call("DELETE", f"ports/{port_id}")
    for network_id in deployment.networks - before_networks:
        deployment.call("DELETE", f"networks/{network_id}")


def dhcp_ready(deployment, network_id):
    """The network's dnsmasq runs and the DHCP port is ACTIVE (its tap is
    in the bridge and the L2 agent said so)."""
    pid_file = deployment.dhcp_dir(network_id) / "pid"
    if not pid_file.exists() or not os.path.exists(f"/proc/{pid_file.read_text().strip()}"):
        return False
    ports = deployment.call("GET", f"ports?network_id={network_id}"
                            "&device_owner=network:dhcp").json()["ports"]
    return bool(ports) and ports[0]["status"] == "ACTIVE"


def dhcp_port(deployment, network_id):
    [port] = deployment.call("GET", f"ports?network_id={network_id}"
                             "&device_owner=network:dhcp").json()["ports"]
    return port


def plug_guest(deployment, network, port, name):
    """A "guest": a namespace whose eth0 has the port's MAC, joined to the
    bridge through a veth named as libvirt names a tap."""
    namespace = deployment.guest_namespace(name)
    tap = utils.tap_device_name(port["id"])
    run("ip", "link", "add", tap, "type", "veth", "peer", "name", "eth0", "netns", namespace)
    run("ip", "link", "set", "eth0", "address", port["mac_address"], namespace=namespace)
    run("ip", "link", "set", "eth0", "up", namespace=namespace)
    started = time.monotonic()
    run("ip", "link", "set", tap, "master", utils.bridge_name(network["id"]), "up")
    return namespace, started


def udhcpc(namespace):
    """The address dnsmasq leases to the namespace's eth0 (busybox udhcpc,
    as the tiny image runs it)."""
    out = run("busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "5", "-T", "1",
              "-s", "/bin/true", namespace=namespace)
    match = re.search(r"lease of (\S+) obtained", out.stdout + out.stderr)
    assert match, out.stdout + out.stderr
    return match.group(1)


def record_timing(what, seconds):
    """Shown with ``pytest -s`` (the report's measurements come from there)."""
    print(f"\nTIMING {what}: {seconds * 1000:.0f} ms")


def bind(deployment, port, host=None, **values):
    return deployment.call("PUT", f"ports/{port['id']}", {"port": {
        "device_id": SERVER, "device_owner": "compute:nova",
        "binding:host_id": host or deployment.host, **values}}, expect=200).json()["port"]


def test_the_network_node_side_of_a_network(net):
    network, subnet = net.network_with_subnet()
    wait_for(lambda: dhcp_ready(net, network["id"]), "dnsmasq and its port")
    namespace = utils.dhcp_namespace(network["id"])
    port = dhcp_port(net, network["id"])
    ns_device = utils.dhcp_ns_device_name(port["id"])
    # ip netns exec qdhcp-<net> ip a: the ns- end with the DHCP port's address.
    addresses = run("ip", "-4", "-o", "addr", "show", "dev", ns_device, namespace=namespace)
    prefix = subnet["cidr"].split("/")[1]
    assert f"{port['fixed_ips'][0]['ip_address']}/{prefix}" in addresses.stdout
    assert port["fixed_ips"][0]["ip_address"] == subnet["allocation_pools"][0]["start"]
    assert port["status"] == "ACTIVE" and port["binding:host_id"] == net.host
    # bridge link: the tap end in the network's bridge.
    bridge = utils.bridge_name(network["id"])
    assert bridge_ports(bridge) == [utils.tap_device_name(port["id"])]
    # The host's gateway address on the bridge.
    bridge_addresses = run("ip", "-4", "-o", "addr", "show", "dev", bridge).stdout
    assert f"{subnet['gateway_ip']}/{prefix}" in bridge_addresses
    # dnsmasq's files and command line, as Neutron writes them.
    files = net.dhcp_dir(network["id"])
    ip = port["fixed_ips"][0]["ip_address"]
    assert (files / "host").read_text() == (
        f"{port['mac_address']},host-{ip.replace('.', '-')}.openstacklocal,{ip}\n")
    assert (files / "opts").read_text() == (
        f"tag:subnet-{subnet['id']},option:router,{subnet['gateway_ip']}\n")
    cmdline = Path(f"/proc/{(files / 'pid').read_text().strip()}/cmdline").read_bytes()
    assert b"--dhcp-range=set:subnet-" + subnet["id"].encode() in cmdline
    assert b",static," in cmdline


def test_the_forwarding_drop_rules_read_back(net):
    network, _ = net.network_with_subnet()
    bridge = utils.bridge_name(network["id"])
    wait_for(lambda: all(len(isolation.installed_rules(bridge, binary)) == 2
                         for binary in ("iptables", "ip6tables")), "the isolation rules")
    for binary in ("iptables", "ip6tables"):
        rules = isolation.installed_rules(bridge, binary)
        assert sorted(rules) == sorted([
            f'-A FORWARD -i {bridge} ! -o {bridge} -m comment --comment '
            f'"mininova-network: isolate {bridge}" -j DROP',
            f'-A FORWARD ! -i {bridge} -o {bridge} -m comment --comment '
            f'"mininova-network: isolate {bridge}" -j DROP'])


def test_a_guest_gets_its_ports_address_by_dhcp(net, fake_nova):
    network, subnet = net.network_with_subnet()
    wait_for(lambda: dhcp_ready(net, network["id"]), "dnsmasq")
    port = net.create("port", network_id=network["id"], device_id=SERVER)
    port = bind(net, port, dns_name="vm1")
    ip = port["fixed_ips"][0]["ip_address"]
    hosts = net.dhcp_dir(network["id"]) / "host"
    wait_for(lambda: f"{port['mac_address']},vm1.openstacklocal,{ip}" in hosts.read_text(),
             "the port's line in the hosts file")
    namespace, plugged_at = plug_guest(net, network, port, "vm1")
    event = fake_nova.wait_for("network-vif-plugged", port["id"], timeout=15)
    assert event == {"name": "network-vif-plugged", "server_uuid": SERVER,
                     "tag": port["id"], "status": "completed"}
    record_timing("tap in bridge -> network-vif-plugged at Nova",
                  _event_time(fake_nova, "network-vif-plugged", port["id"]) - plugged_at)
    assert net.get("port", port["id"])["status"] == "ACTIVE"
    assert udhcpc(namespace) == ip
    log = (net.dhcp_dir(network["id"]) / "dnsmasq.log").read_text()
    assert "DHCPACK(" in log and f"{ip} {port['mac_address']} vm1" in log
    # The host reaches the guest, and the guest its gateway (both ours).
    prefix = subnet["cidr"].split("/")[1]
    run("ip", "addr", "add", f"{ip}/{prefix}", "dev", "eth0", namespace=namespace)
    run("busybox", "ping", "-c", "1", "-W", "2", ip)
    run("busybox", "ping", "-c", "1", "-W", "2", subnet["gateway_ip"], namespace=namespace)


def _event_time(fake_nova, name, tag):
    for request in fake_nova.requests:
        if any(e["name"] == name and e["tag"] == tag for e in request["body"]["events"]):
            return request["time"]
    raise AssertionError(f"no {name}")


def test_port_changes_reload_dnsmasq(net):
    network, subnet = net.network_with_subnet()
    wait_for(lambda: dhcp_ready(net, network["id"]), "dnsmasq")
    files = net.dhcp_dir(network["id"])
    pid = (files / "pid").read_text().strip()
    first = net.create("port", network_id=network["id"])
    line = f"{first['mac_address']},host-"
    wait_for(lambda: line in (files / "host").read_text(), "the new port's line")
    # Only added: a SIGHUP, the same process.
    assert (files / "pid").read_text().strip() == pid


def test_a_deleted_ports_lease_is_released_and_its_address_leased_again(net):
    """As Neutron's DHCP agent: an address leaving its MAC (the port
    deleted) has its lease released with dhcp_release, and the same dnsmasq
    leases the address to the next port that holds it, another MAC."""
    network, _ = net.network_with_subnet()
    wait_for(lambda: dhcp_ready(net, network["id"]), "dnsmasq")
    files = net.dhcp_dir(network["id"])
    pid = (files / "pid").read_text().strip()
    first = bind(net, net.create("port", network_id=network["id"], device_id=SERVER))
    ip = first["fixed_ips"][0]["ip_address"]
    wait_for(lambda: f"{first['mac_address']}," in (files / "host").read_text(),
             "the first port's line")
    first_guest, _ = plug_guest(net, network, first, "first")
    assert udhcpc(first_guest) == ip
    wait_for(lambda: first["mac_address"] in (files / "leases").read_text(), "its lease")

    net.call("DELETE", f"ports/{first['id']}", expect=204)

    wait_for(lambda: first["mac_address"] not in (files / "leases").read_text(),
             "the lease released")
    assert (files / "pid").read_text().strip() == pid
    assert "Releasing the DHCP lease of " + ip in net.log()
    second = bind(net, net.create("port", network_id=network["id"], device_id=SERVER,
                                  fixed_ips=[{"ip_address": ip}]))
    wait_for(lambda: f"{second['mac_address']}," in (files / "host").read_text(),
             "the second port's line")
    second_guest, _ = plug_guest(net, network, second, "second")
    assert udhcpc(second_guest) == ip
    assert (files / "pid").read_text().strip() == pid


def test_a_dead_dnsmasq_is_started_again(net):
    network, _ = net.network_with_subnet()
    wait_for(lambda: dhcp_ready(net, network["id"]), "dnsmasq")
    pid_file = net.dhcp_dir(network["id"]) / "pid"
    pid = int(pid_file.read_text())
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: int(pid_file.read_text() or 0) != pid and dhcp_ready(net, network["id"]),
             "a new dnsmasq", timeout=20)


def test_deleting_the_network_removes_everything(net):
    network, subnet = net.network_with_subnet()
    wait_for(lambda: dhcp_ready(net, network["id"]), "dnsmasq")
    pid = int((net.dhcp_dir(network["id"]) / "pid").read_text())
    bridge = utils.bridge_name(network["id"])
    tap = utils.tap_device_name(dhcp_port(net, network["id"])["id"])
    net.call("DELETE", f"networks/{network['id']}", expect=204)
    namespace = utils.dhcp_namespace(network["id"])
    wait_for(lambda: not os.path.exists(f"/run/netns/{namespace}"), "the namespace gone")
    wait_for(lambda: not os.path.exists(f"/sys/class/net/{bridge}"), "the bridge gone")
    wait_for(lambda: not isolation.installed_rules(bridge), "the rules gone")
    assert not os.path.exists(f"/sys/class/net/{tap}")
    wait_for(lambda: pid not in net.dnsmasq_pids(), "dnsmasq gone")
    assert not net.dhcp_dir(network["id"]).exists()


def test_deleting_the_last_subnet_removes_everything(net):
    network, subnet = net.network_with_subnet()
    wait_for(lambda: dhcp_ready(net, network["id"]), "dnsmasq")
    pid = int((net.dhcp_dir(network["id"]) / "pid").read_text())
    bridge = utils.bridge_name(network["id"])
    net.call("DELETE", f"subnets/{subnet['id']}", expect=204)
    namespace = utils.dhcp_namespace(network["id"])
    wait_for(lambda: not os.path.exists(f"/run/netns/{namespace}"), "the namespace gone")
    wait_for(lambda: not os.path.exists(f"/sys/class/net/{bridge}"), "the empty bridge gone")
    wait_for(lambda: not isolation.installed_rules(bridge), "the rules gone")
    wait_for(lambda: pid not in net.dnsmasq_pids(), "dnsmasq gone")
    wait_for(lambda: net.call("GET", f"ports?network_id={network['id']}").json()["ports"] == [],
             "the DHCP port released")
    assert not net.dhcp_dir(network["id"]).exists()
    assert net.get("network", network["id"])["status"] == "ACTIVE"   # the network stays


def test_turning_dhcp_off_keeps_the_gateway(net):
    network, subnet = net.network_with_subnet()
    wait_for(lambda: dhcp_ready(net, network["id"]), "dnsmasq")
    net.call("PUT", f"subnets/{subnet['id']}", {"subnet": {"enable_dhcp": False}}, expect=200)
    namespace = utils.dhcp_namespace(network["id"])
    wait_for(lambda: not os.path.exists(f"/run/netns/{namespace}"), "the namespace gone")
    bridge = utils.bridge_name(network["id"])
    assert subnet["gateway_ip"] in run("ip", "-4", "-o", "addr", "show", "dev", bridge).stdout
    wait_for(lambda: net.call("GET", f"ports?network_id={network['id']}").json()["ports"] == [],
             "the DHCP port released")


def test_a_compute_hosts_bridge_lives_as_long_as_its_ports(net, fake_nova):
    """As on a compute host: no gateway, no DHCP; os-vif makes the bridge,
    libvirt the tap (a real tap device here); the agent reports it, and
    removes the bridge once the port is deleted."""
    network, _ = net.network_with_subnet(gateway_ip=None, enable_dhcp=False)
    port = bind(net, net.create("port", network_id=network["id"], device_id=SERVER))
    bridge = port["binding:vif_details"]["bridge_name"]
    run("ip", "link", "add", bridge, "type", "bridge")          # os-vif's part
    tap = utils.tap_device_name(port["id"])
    run("ip", "tuntap", "add", "dev", tap, "mode", "tap")       # libvirt's part
    plugged_at = time.monotonic()
    run("ip", "link", "set", tap, "master", bridge, "up")
    fake_nova.wait_for("network-vif-plugged", port["id"], timeout=15)
    record_timing("tap (tuntap) in bridge -> network-vif-plugged at Nova",
                  _event_time(fake_nova, "network-vif-plugged", port["id"]) - plugged_at)
    assert len(isolation.installed_rules(bridge)) == 2
    run("ip", "link", "delete", tap)
    fake_nova.wait_for("network-vif-unplugged", port["id"], timeout=15)
    assert net.get("port", port["id"])["status"] == "DOWN"
    assert os.path.exists(f"/sys/class/net/{bridge}")     # its port is still bound here
    net.call("DELETE", f"ports/{port['id']}", expect=204)
    fake_nova.wait_for("network-vif-deleted", port["id"])
    wait_for(lambda: not os.path.exists(f"/sys/class/net/{bridge}"), "the empty bridge gone")
    # Its rules go just after it (never before: the bridge is never unguarded).
    wait_for(lambda: not isolation.installed_rules(bridge), "the rules gone")


def test_the_quickstarts_private_network(net):
    """bin/lib/private_network.py makes the network and subnet once, and
    refuses a range the host routes already."""
    name = f"private-{net.tag}"
    cidr = free_cidr()
    args = [sys.executable, str(REPO / "bin/lib/private_network.py"), "--url", net.url,
            "--name", name, "--cidr", cidr]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    assert f"created network {name}" in out and f"created subnet {name}-subnet" in out
    [network] = net.call("GET", f"networks?name={name}").json()["networks"]
    net.networks.add(network["id"])
    assert network["shared"] is True
    again = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    assert f"network {name} is there" in again and "created" not in again
    routed = [r["dst"] for r in host_routes() if r.get("dst") not in (None, "default")
              and not r.get("dev", "").startswith("brq")]
    if routed:
        args[-3:] = ["other-" + name, "--cidr", routed[0]]
        refused = subprocess.run(args, capture_output=True, text=True)
        assert refused.returncode != 0 and "overlaps the host's route" in refused.stderr
        assert net.call("GET", f"networks?name=other-{name}").json()["networks"] == []


def test_an_agent_on_another_host(net, fake_nova):
    """mininova-network-agent alone, as on a second compute host: the
    server's own agent sees the tap too but leaves it to the port's host."""
    compute2 = f"{net.host}-compute2"
    net.start("mininova-network-agent", host=compute2)
    network, _ = net.network_with_subnet(gateway_ip=None, enable_dhcp=False)
    port = bind(net, net.create("port", network_id=network["id"], device_id=SERVER),
                host=compute2)
    tap = utils.tap_device_name(port["id"])
    run("ip", "tuntap", "add", "dev", tap, "mode", "tap")
    run("ip", "link", "add", port["binding:vif_details"]["bridge_name"], "type", "bridge")
    run("ip", "link", "set", tap, "master", port["binding:vif_details"]["bridge_name"])
    fake_nova.wait_for("network-vif-plugged", port["id"], timeout=15)
    assert f"Port {port['id']} is ACTIVE (device {tap} on {compute2})" in net.log()
    assert "Port " + tap in net.log(f"mininova-network-agent-{compute2}")
    run("ip", "link", "delete", tap)
    fake_nova.wait_for("network-vif-unplugged", port["id"], timeout=15)


def test_the_tiny_image_gets_its_ports_address(net, fake_nova, tmp_path):
    """The project's tiny image, booted by QEMU (TCG, never KVM here) on a tap
    in the network's bridge, runs udhcpc on eth0 as CirrOS does and gets the
    address and the name its port holds."""
    if not TINY_IMAGE.exists():
        pytest.fail(f"{TINY_IMAGE} is missing; run tools/build-tiny-image")
    network, subnet = net.network_with_subnet()
    wait_for(lambda: dhcp_ready(net, network["id"]), "dnsmasq")
    port = bind(net, net.create("port", network_id=network["id"], device_id=SERVER),
                dns_name="tiny1")
    ip = port["fixed_ips"][0]["ip_address"]
    overlay, console = tmp_path / "disk.qcow2", tmp_path / "console.log"
    run("qemu-img", "create", "-q", "-f", "qcow2", "-b", str(TINY_IMAGE), "-F", "qcow2",
        str(overlay))
    tap = utils.tap_device_name(port["id"])
    qemu = subprocess.Popen(
        ["qemu-system-x86_64", "-accel", "tcg", "-m", "64", "-nographic", "-no-reboot",
         "-drive", f"file={overlay},if=virtio,format=qcow2",
         "-netdev", f"tap,id=n0,ifname={tap},script=no,downscript=no",
         "-device", f"virtio-net-pci,netdev=n0,mac={port['mac_address']}"],
        stdin=subprocess.DEVNULL, stdout=open(console, "wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        # QEMU made the tap; libvirt would now put it in the bridge.
        wait_for(lambda: os.path.exists(f"/sys/class/net/{tap}"), "QEMU's tap")
        run("ip", "link", "set", tap, "master", utils.bridge_name(network["id"]), "up")
        fake_nova.wait_for("network-vif-plugged", port["id"], timeout=30)
        prefix = subnet["cidr"].split("/")[1]
        bound = f"udhcpc: eth0 bound to {ip}/{prefix}, router {subnet['gateway_ip']}"
        wait_for(lambda: bound in console.read_bytes().decode(errors="replace"),
                 "the guest's DHCP lease on its console", timeout=180)
        assert "hostname set to tiny1" in console.read_bytes().decode(errors="replace")
        # The host reaches the guest at its port's address.
        run("busybox", "ping", "-c", "1", "-W", "5", ip)
        print("\nCONSOLE " + "\nCONSOLE ".join(
            line for line in console.read_bytes().decode(errors="replace").splitlines()
            if "udhcpc" in line or "network info" in line or "inet " in line))
    finally:
        qemu.kill()
        qemu.wait()
