"""Servers on a real network: mininova-network (its DHCP namespace and
dnsmasq, the bridge, its L2 agent) and real libvirt guests of the tiny
image. Each guest gets its port's address by DHCP, the host logs into it
with SSH and the key pair from its config drive, guests reach each other,
a NIC tagged at boot is listed in the config drive's meta_data.json at the
PCI address the guest's kernel sees it at,
the compute waits for network-vif-plugged before ACTIVE, interfaces come
and go on a running guest, and after the deletes no tap, port, host entry
or bridge of theirs is left.

Traffic stays on the test's own bridge: the host reaches the guests
through the subnet's gateway address, nothing is routed anywhere."""

import base64
import configparser
import json
import subprocess
import time

import pytest

from mininova.network import utils as network_utils
from tests.integration import deployment as dep
from tests.integration.conftest import run_deployment
from tests.integration.network_service import NetworkDeployment, bridge_ports, free_cidr

SSH_OPTIONS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"]
VIF_PLUGGING_TIMEOUT = 20
# The metadata proxy's requests to Nova's metadata API are signed with it.
METADATA_SECRET = "integration-metadata-secret"


@pytest.fixture(scope="module")
def clouds(work_root, rabbit_url):
    """mininova (its compute with networking on) and mininova-network, each
    told where the other is; the network service runs the L2 agent of the
    compute's host."""
    network = NetworkDeployment(work_root / "net", rabbit_url, "http://127.0.0.1:1")
    path = work_root / "networked"
    path.mkdir(mode=0o755)
    config = {"neutron": {"enabled": "True", "endpoint_override": network.url,
                          "service_metadata_proxy": "True",
                          "metadata_proxy_shared_secret": METADATA_SECRET},
              "DEFAULT": {"vif_plugging_timeout": VIF_PLUGGING_TIMEOUT}}
    nova_iter = run_deployment(path, rabbit_url, f"sqlite:///{path}/mininova.sqlite",
                               config=config)
    nova = next(nova_iter)
    try:
        network._write_config(rabbit_url, f"http://127.0.0.1:{nova.api_port}/v2.1", {
            "DEFAULT": {"host": nova.host},
            # Guests without a config drive read the metadata service.
            "dhcp": {"enable_isolated_metadata": "True"},
            "metadata_agent": {"nova_metadata_port": nova.metadata_port,
                               "metadata_proxy_shared_secret": METADATA_SECRET}})
        network.start()
        try:
            yield nova, network
        finally:
            network.tear_down()
    finally:
        next(nova_iter, None)


@pytest.fixture(scope="module")
def tiny(clouds):
    """The tiny image, in this module's own cloud."""
    return dep.upload_tiny_image(clouds[0].client())


@pytest.fixture(scope="module")
def private(clouds):
    _nova, network = clouds
    net, subnet = network.network_with_subnet(cidr=free_cidr())
    dep.wait_until(lambda: network.dnsmasq_pids(), bool, 60, what="the network's dnsmasq")
    return net, subnet


@pytest.fixture(scope="module")
def key(work_root, clouds):
    nova, _network = clouds
    path = work_root / "guest-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True)
    nova.client().compute("POST", "/os-keypairs", json={"keypair": {
        "name": "k", "public_key": (path.with_suffix(".pub")).read_text().strip()}})
    return path


def boot(nova, image, name, network_id, user_data=None, tag=None, config_drive=True):
    nic = {"uuid": network_id, "tag": tag} if tag else {"uuid": network_id}
    extra = {"networks": [nic], "key_name": "k", "config_drive": config_drive or None}
    if user_data:
        extra["user_data"] = base64.b64encode(user_data.encode()).decode()
    server = nova.client().create_server(name, image["id"], "42", **extra)
    return dep.wait_for_status(nova.client(), server["id"], "ACTIVE", timeout=180)


def address(server, network_name):
    [entry] = server["addresses"][network_name]
    return entry["addr"], entry["OS-EXT-IPS-MAC:mac_addr"]


def wait_for_sshd(nova, server):
    return dep.wait_for_console(nova.client(), server["id"],
                                "=== sshd: dropbear listening on port 22 ===", timeout=180)


def ssh(key, ip, *command):
    return subprocess.run(["ssh", "-i", str(key), *SSH_OPTIONS, f"cirros@{ip}", *command],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def guests(clouds, private, key, tiny):
    nova, _network = clouds
    net, _subnet = private
    first = boot(nova, tiny, "guest-a", net["id"])
    ip_a, _mac = address(first, net["name"])
    script = f"#!/bin/sh\nping -c 3 -W 2 {ip_a}\n"
    # The second NIC's device role tag (sent at 2.42): see
    # test_a_tagged_nic_is_in_the_guests_device_metadata.
    second = boot(nova, tiny, "guest-b", net["id"], user_data=script, tag="nic1")
    return first, second


def test_each_guest_gets_its_ports_address_by_dhcp(clouds, private, guests):
    nova, network = clouds
    net, _subnet = private
    for server in guests:
        ip, mac = address(nova.client().get_server(server["id"]), net["name"])
        # The guest prints its network info once DHCP has configured eth0.
        console = dep.wait_for_console(nova.client(), server["id"], "=== network info ===",
                                       timeout=180)
        assert f"udhcpc: eth0 bound to {ip}/" in console
        [port] = network.call("GET", f"ports?device_id={server['id']}").json()["ports"]
        assert (port["mac_address"], port["status"]) == (mac, "ACTIVE")
        assert port["binding:host_id"] == nova.host
        hosts = (network.dhcp_dir(net["id"]) / "host").read_text()
        assert f"{mac}," in hosts and f",{ip}" in hosts


def test_the_host_logs_into_each_guest_with_its_key(clouds, private, guests, key):
    nova, _network = clouds
    net, _subnet = private
    for server in guests:
        wait_for_sshd(nova, server)
        ip, _mac = address(server, net["name"])
        result = ssh(key, ip, "hostname")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == server["name"]


def test_a_tagged_nic_is_in_the_guests_device_metadata(clouds, private, guests, key):
    """guest-b's NIC was tagged "nic1": its meta_data.json (read by the
    guest from its config drive, written between define and start) names
    the PCI address libvirt gave the NIC, the one the guest's kernel finds
    it at. guest-a's untagged NIC is not listed."""
    nova, _network = clouds
    net, _subnet = private
    found = {}
    for server in guests:
        wait_for_sshd(nova, server)
        ip, mac = address(server, net["name"])
        # eth0's device is the virtio device; its parent, the PCI function.
        result = ssh(key, ip, "cat /run/cloud/data/meta_data.json; echo; "
                     "cat /sys/class/net/eth0/device/../uevent")
        assert result.returncode == 0, result.stderr
        meta_data, uevent = result.stdout.split("\n", 1)
        [slot] = [line.split("=", 1)[1] for line in uevent.splitlines()
                  if line.startswith("PCI_SLOT_NAME=")] or [uevent]
        found[server["name"]] = (json.loads(meta_data)["devices"], slot, mac)
    assert found["guest-a"][0] == []
    devices, slot, mac = found["guest-b"]
    assert devices == [{"type": "nic", "bus": "pci", "address": slot, "mac": mac,
                        "vf_trusted": False, "tags": ["nic1"]}]


def test_guests_reach_each_other(clouds, guests):
    nova, _network = clouds
    _first, second = guests
    console = dep.wait_for_console(nova.client(), second["id"],
                                   "user-data exited with status", timeout=180)
    assert "3 packets transmitted, 3 packets received" in console
    assert "=== cloud-init: user-data exited with status 0 ===" in console


def test_the_compute_waited_for_network_vif_plugged(clouds, guests):
    nova, _network = clouds
    log = nova.log("mininova-compute")
    for server in guests:
        port_id = server["addresses"] and nova.client().compute(
            "GET", f"/servers/{server['id']}/os-interface")["interfaceAttachments"][0]["port_id"]
        assert f"[instance: {server['id']}] Allocating IP information in the background." in log
        assert "Successfully plugged vif VIFBridge(active=False" in log
        assert f"Processing event network-vif-plugged-{port_id}" in log
        plugged = log.index(f"Processing event network-vif-plugged-{port_id}")
        spawned = log.index(f"[instance: {server['id']}] Instance spawned successfully.")
        assert plugged < spawned
        # The compute's own binding update is a network-changed, which
        # nobody waits for: Nova reads the port again, it is not unexpected.
        assert (f"Refreshing instance network info cache due to event "
                f"network-changed-{port_id}.") in log
        assert f"Received unexpected event network-changed-{port_id}" not in log
        # Read as the network service's user: the port's network must still
        # be found (Nova reads it with its admin client).
        assert f"external instance event network-changed-{port_id} due to" not in log


def test_an_interface_comes_and_goes_on_a_running_guest(clouds, private, guests, key):
    nova, network = clouds
    net, _subnet = private
    first, _second = guests
    wait_for_sshd(nova, first)
    ip, _mac = address(first, net["name"])
    admin = nova.client()
    attached = admin.compute("POST", f"/servers/{first['id']}/os-interface",
                             json={"interfaceAttachment": {"net_id": net["id"]}})
    port_id = attached["interfaceAttachment"]["port_id"]
    tap = network_utils.tap_device_name(port_id)
    assert tap in bridge_ports(network_utils.bridge_name(net["id"]))
    dep.wait_until(lambda: ssh(key, ip, "cat", "/sys/class/net/eth1/address").stdout.strip(),
                   lambda mac: mac == attached["interfaceAttachment"]["mac_addr"], 60,
                   interval=1, what="eth1 in the guest")
    shown = admin.get_server(first["id"])
    assert len(shown["addresses"][net["name"]]) == 2
    admin.compute("DELETE", f"/servers/{first['id']}/os-interface/{port_id}",
                  expect_json=False)
    dep.wait_until(lambda: network.call("GET", f"ports/{port_id}").status_code,
                   lambda code: code == 404, 60, what="the detached port deleted")
    dep.wait_until(lambda: ssh(key, ip, "ls", "/sys/class/net").stdout.split(),
                   lambda names: "eth1" not in names, 60, interval=1,
                   what="eth1 gone from the guest")
    assert tap not in bridge_ports(network_utils.bridge_name(net["id"]))


def test_a_host_whose_ports_never_come_up_fails_the_boot(clouds, private, tiny):
    """A second compute host with no L2 agent: nobody reports its taps, so
    network-vif-plugged never comes; after vif_plugging_timeout Nova's
    messages, the boot is rescheduled (here to nowhere) and nothing is left."""
    nova, network = clouds
    net, _subnet = private
    host_b = start_second_compute(nova)
    admin = nova.client()
    response = admin.session.post(
        f"{admin.compute_url}/servers",
        headers={"OpenStack-API-Version": "compute 2.74"},
        json={"server": {"name": "lonely", "imageRef": tiny["id"], "flavorRef": "42",
                         "networks": [{"uuid": net["id"]}], "host": host_b}})
    assert response.status_code == 202, response.text
    server_id = response.json()["server"]["id"]
    failed = dep.wait_for_status(admin, server_id, "ERROR",
                                 timeout=VIF_PLUGGING_TIMEOUT + 120)
    # The reason is at the end of the NoValidHost sentence: in the fault's
    # full text (details), its message being cut at 255 characters.
    assert failed["fault"]["message"].startswith("No valid host was found.")
    assert "it failed with: Virtual Interface creation failed" in failed["fault"]["details"]
    log_b = (nova.dir / "log-b" / "mininova-compute.log").read_text()
    assert f"Timeout waiting for vif plugging callback for instance {server_id}" in log_b
    assert network.call("GET", f"ports?device_id={server_id}").json()["ports"] == []
    admin.delete_server(server_id)
    dep.wait_for_gone(admin, server_id)


def start_second_compute(nova):
    config = configparser.ConfigParser(interpolation=None)
    config.read(nova.compute_conf)
    host = f"{nova.host}-b"
    config["DEFAULT"]["host"] = host
    config["DEFAULT"]["instances_path"] = str(nova.state_path / "instances-b")
    config["DEFAULT"]["log_dir"] = str(nova.dir / "log-b")
    path = nova.dir / "mininova-compute-b.conf"
    with open(path, "w") as f:
        config.write(f)
    (nova.dir / "log-b").mkdir(exist_ok=True)
    out = open(nova.dir / "log-b" / "mininova-compute.stdout", "ab")
    nova.processes["mininova-compute-b"] = subprocess.Popen(
        [dep.BIN / "mininova-compute", "--config-file", path],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    admin = nova.client()
    dep.wait_until(lambda: {h["hypervisor_hostname"] for h in admin.list_hypervisors()
                            if h["state"] == "up"}, lambda up: host in up, 60,
                   what="the second compute")
    return host


def test_after_the_deletes_nothing_of_the_guests_is_left(clouds, private, guests):
    nova, network = clouds
    net, _subnet = private
    admin = nova.client()
    ports = {s["id"]: [p["id"] for p in network.call(
        "GET", f"ports?device_id={s['id']}").json()["ports"]] for s in guests}
    for server in guests:
        admin.delete_server(server["id"])
    for server in guests:
        dep.wait_for_gone(admin, server["id"])
    time.sleep(1)
    for server in guests:
        for port_id in ports[server["id"]]:
            assert network.call("GET", f"ports/{port_id}").status_code == 404
            assert network_utils.tap_device_name(port_id) not in bridge_ports(
                network_utils.bridge_name(net["id"]))
    hosts = (network.dhcp_dir(net["id"]) / "host").read_text()
    assert all(s["addresses"][net["name"]][0]["OS-EXT-IPS-MAC:mac_addr"] not in hosts
               for s in guests)
    assert nova.domain_names() == []


def test_a_guest_without_a_config_drive_reads_the_metadata_service(clouds, private, key,
                                                                   tiny):
    """No config drive: the guest asks http://169.254.169.254 (routed by
    DHCP option 121 to its network's DHCP namespace), where the metadata
    proxy hands the request to the network service's metadata agent, which
    signs it for Nova's metadata API. The guest gets its name, its key and
    its user data that way."""
    nova, _network = clouds
    net, _subnet = private
    server = boot(nova, tiny, "meta-guest", net["id"], config_drive=False,
                  user_data="#!/bin/sh\necho FROM-METADATA-$(hostname)\n")
    try:
        assert not (nova.instances_path / server["id"] / "disk.config").exists()
        console = dep.wait_for_console(nova.client(), server["id"],
                                       "=== cloud-init: finished", timeout=240)
        assert "=== datasource: metadata http://169.254.169.254 ===" in console
        assert "user-data: FROM-METADATA-meta-guest" in console
        ip, _mac = address(server, net["name"])
        wait_for_sshd(nova, server)
        assert ssh(key, ip, "hostname").stdout.strip() == "meta-guest"
        # Nova's metadata API saw the guest's request, by its address.
        assert f'{ip} "GET /openstack/latest/meta_data.json" status: 200' in \
            nova.log("mininova-api")
    finally:
        nova.client().delete_server(server["id"])
        dep.wait_for_gone(nova.client(), server["id"])
