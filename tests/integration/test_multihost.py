"""A controller and two compute hosts on one machine, nothing shared but
the network (tests/integration/simulated_hosts.py): each compute host its
own network namespace and address, its own mount namespace with its own
libvirtd, /run, /var/lib/libvirt and instances path, its own sshd.

* a guest on each compute, and they ping each other over VXLAN (the
  network's VNI, the controller's DHCP reached over it too);
* a cold migration copies the disk over SSH to the other compute (its
  instances path is not the source's), and the guest keeps its address;
* a compute host whose processes are all killed is reported down after
  service_down_time, and new servers go to the other one.

The controller is this machine's root namespace: mininova's controller
services and mininova-network (its DHCP agent and its own L2 agent, with
VXLAN) on 127.0.0.1, their ports forwarded from the controller's address
on the simulated network; the broker is a RabbitMQ node of the module's
own (tests/integration/private_rabbit.py). Each compute runs mininova-compute and
mininova-network-agent inside its namespaces, configured with the
controller's address, the broker URL and no database, as
``--role compute`` would.

* a volume of the controller's mininova-volume attaches to a guest on
  compute2: its NBD export listens on the controller's address, and
  compute2's QEMU opens it over the simulated network.
"""

import configparser
import secrets
import subprocess

import pytest

from tests.integration import deployment as dep
from tests.integration.network_service import NetworkDeployment, free_cidr
from tests.integration.private_rabbit import PrivateRabbit
from tests.integration.simulated_hosts import PortForwarder, SimulatedHost, SimulatedNetwork
from tests.integration.test_boot_from_volume import VolumeAPI
from tests.waiting import wait_for_settled

SSH_OPTIONS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"]
COMPUTES = ("compute1", "compute2")
BOOT_TIMEOUT = 300


def _replace_host(url, controller_ip):
    return url.replace("127.0.0.1", controller_ip)


def _write(config, path):
    with open(path, "w") as f:
        config.write(f)
    return path


class MultiHostCloud:
    """The controller, the simulated network and the compute hosts."""

    def __init__(self, workdir):
        self.dir = workdir
        # A RabbitMQ node of the module's own: the machine's is shared.
        self.rabbit = PrivateRabbit(workdir)
        self.rabbit_url = self.rabbit.url
        self.network = SimulatedNetwork()
        self.vni_base = 20000 + secrets.randbelow(1000) * 10
        self.hosts = {}
        self.forwarder = None
        self.nova = None
        self.neutron = None
        self.key = workdir / "ssh" / "id_ed25519"

    def start(self):
        self.rabbit.start()
        self.network.create()
        (self.dir / "ssh").mkdir(mode=0o700)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key)],
                       check=True)
        self._start_controller()
        instances_path = self.dir / "instances"
        instances_path.mkdir(mode=0o755)
        authorized = self.key.with_suffix(".pub").read_text()
        for index, name in enumerate(COMPUTES, start=2):
            self.hosts[name] = SimulatedHost(self.network, name, index, self.dir,
                                             instances_path, authorized).start()
        known_hosts = self.dir / "ssh" / "known_hosts"
        known_hosts.write_text("".join(h.known_hosts_line() for h in self.hosts.values()))
        for host in self.hosts.values():
            self._start_compute(host, known_hosts)
        admin = self.nova.client()
        dep.wait_until(lambda: {h["hypervisor_hostname"] for h in admin.list_hypervisors()
                                if h["state"] == "up"}, lambda up: set(COMPUTES) <= up, 90,
                       what="both computes up")
        return self

    def _start_controller(self):
        controller = self.network.controller_ip
        nova_dir = self.dir / "controller"
        nova_dir.mkdir(mode=0o755)
        self.neutron = NetworkDeployment(self.dir / "network", self.rabbit_url,
                                         "http://127.0.0.1:1")
        self.nova = dep.Deployment(
            nova_dir, self.rabbit_url, f"sqlite:///{nova_dir}/mininova.sqlite",
            config={"neutron": {"enabled": "True", "endpoint_override": self.neutron.url},
                    "DEFAULT": {"vif_plugging_timeout": "60"},
                    # The NBD exports listen where the computes reach them.
                    "volume": {"nbd_host": controller}})
        self.nova.manage("db", "sync")
        for service in (*dep.CONTROLLER_SERVICES, "mininova-api"):
            self.nova.start_service(service)
        self.neutron._write_config(
            self.rabbit_url, f"http://127.0.0.1:{self.nova.api_port}/v2.1",
            {"DEFAULT": {"host": "controller"},
             "vxlan": {"local_ip": controller},
             "ml2_type_vxlan": {"vni_ranges": f"{self.vni_base}:{self.vni_base + 9}"}})
        self.neutron.start()
        self.forwarder = PortForwarder(controller, [
            self.rabbit.port, self.nova.image_port, self.nova.volume_port, self.neutron.port])

    def _start_compute(self, host, known_hosts):
        controller = self.network.controller_ip
        config = configparser.ConfigParser(interpolation=None)
        config.read(self.nova.compute_conf)
        config["DEFAULT"].update({
            "host": host.name, "my_ip": host.ip, "instances_path": str(host.instances_path),
            "state_path": str(host.dir / "state"), "log_dir": str(host.dir / "log"),
            "transport_url": _replace_host(self.rabbit_url, controller)})
        config["glance"]["api_servers"] = _replace_host(config["glance"]["api_servers"],
                                                        controller)
        config["cinder"]["endpoint_template"] = _replace_host(
            config["cinder"]["endpoint_template"], controller)
        config["neutron"]["endpoint_override"] = _replace_host(self.neutron.url, controller)
        config["libvirt"].update({"ssh_identity_file": str(self.key),
                                  "ssh_known_hosts_file": str(known_hosts)})
        compute_conf = _write(config, host.dir / "mininova-compute.conf")
        host.popen("mininova-compute", dep.BIN / "mininova-compute",
                   "--config-file", compute_conf)

        agent = configparser.ConfigParser(interpolation=None)
        agent.read(self.neutron.conf_file)
        agent["DEFAULT"].update({
            "host": host.name, "state_path": str(host.dir / "state"),
            "log_dir": str(host.dir / "log"),
            "transport_url": _replace_host(self.rabbit_url, controller)})
        agent["vxlan"] = {"local_ip": host.ip}
        agent_conf = _write(agent, host.dir / "mininova-network-agent.conf")
        host.popen("mininova-network-agent", dep.BIN / "mininova-network-agent",
                   "--config-file", agent_conf)

    def log(self, host, service):
        path = self.hosts[host].dir / "log" / f"{service}.log"
        return path.read_text() if path.exists() else ""

    def stop(self):
        """Every step runs, whatever the others did; the first error is
        raised at the end."""
        steps = [host.remove for host in self.hosts.values()]
        if self.neutron is not None:
            steps += [self.neutron.delete_everything, self.neutron.stop,
                      self.neutron.remove_leftovers, self._remove_vxlan_devices]
        if self.nova is not None:
            steps += [self.nova.stop, self.nova.remove_leftover_domains]
        if self.forwarder is not None:
            steps.append(self.forwarder.stop)
        steps += [self.network.remove, self.rabbit.destroy]
        errors = []
        for step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
        if errors:
            raise errors[0]

    def _remove_vxlan_devices(self):
        """The controller's vxlan devices (a bridge's deletion leaves them)."""
        for vni in range(self.vni_base, self.vni_base + 10):
            subprocess.run(["ip", "link", "delete", f"vxlan-{vni}"], capture_output=True)


@pytest.fixture(scope="module")
def cloud(work_root):
    path = work_root / "multihost"
    path.mkdir(mode=0o755)
    running = MultiHostCloud(path)
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture(scope="module")
def admin(cloud):
    return cloud.nova.client()


@pytest.fixture(scope="module")
def tiny(admin):
    return dep.upload_tiny_image(admin)


@pytest.fixture(scope="module")
def private(cloud):
    net, subnet = cloud.neutron.network_with_subnet(cidr=free_cidr())
    dep.wait_until(lambda: cloud.neutron.dnsmasq_pids(), bool, 60, what="dnsmasq")
    return net, subnet


@pytest.fixture(scope="module")
def keypair(cloud, admin):
    path = cloud.dir / "guest-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True)
    admin.compute("POST", "/os-keypairs", json={"keypair": {
        "name": "k", "public_key": path.with_suffix(".pub").read_text().strip()}})
    return path


def boot(admin, image, name, network_id, **extra):
    server = admin.create_server(name, image["id"], "42", key_name="k", config_drive=True,
                                 networks=[{"uuid": network_id}], **extra)
    return dep.wait_for_status(admin, server["id"], "ACTIVE", timeout=BOOT_TIMEOUT)


def address(server, network_name):
    return server["addresses"][network_name][0]["addr"]


def guest_ssh(key, ip, *command):
    return subprocess.run(["ssh", "-i", str(key), *SSH_OPTIONS, f"cirros@{ip}", *command],
                          capture_output=True, text=True, timeout=90)


def wait_for_sshd(admin, server):
    dep.wait_for_console(admin, server["id"], "=== sshd: dropbear listening on port 22 ===",
                         timeout=BOOT_TIMEOUT)


@pytest.fixture(scope="module")
def pair(cloud, admin, tiny, private, keypair):
    """One guest on each compute (an anti-affinity group)."""
    net, _subnet = private
    group = admin.create_server_group("spread", "anti-affinity")
    servers = [boot(admin, tiny, f"mh-{i}", net["id"],
                    scheduler_hints={"group": group["id"]}) for i in (1, 2)]
    return servers


def test_guests_on_two_hosts_ping_each_other_over_vxlan(cloud, admin, private, keypair, pair):
    net, _subnet = private
    assert {s["OS-EXT-SRV-ATTR:host"] for s in pair} == set(COMPUTES)
    vni = cloud.neutron.get("network", net["id"])["provider:segmentation_id"]
    assert cloud.vni_base <= vni < cloud.vni_base + 10
    for server in pair:
        wait_for_sshd(admin, server)
        # The address came from the controller's dnsmasq, over the tunnel.
        console = admin.console_output(server["id"])
        assert f"udhcpc: eth0 bound to {address(server, net['name'])}/" in console
        host = cloud.hosts[server["OS-EXT-SRV-ATTR:host"]]
        link = host.run("ip", "-d", "link", "show", f"vxlan-{vni}").stdout
        assert f"vxlan id {vni} local {host.ip}" in link
        fdb = host.run("bridge", "fdb", "show", "dev", f"vxlan-{vni}").stdout
        peers = {h.ip for h in cloud.hosts.values() if h is not host}
        peers.add(cloud.network.controller_ip)
        for peer in peers:
            assert f"00:00:00:00:00:00 dst {peer}" in fdb
    first, second = pair
    result = guest_ssh(keypair, address(first, net["name"]),
                       "ping", "-c", "3", "-W", "5", address(second, net["name"]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 packets transmitted, 3 packets received" in result.stdout


def test_cold_migration_copies_the_disk_over_ssh_and_keeps_the_address(
        cloud, admin, tiny, private, keypair):
    net, _subnet = private
    server = boot(admin, tiny, "mh-moving", net["id"])
    source = server["OS-EXT-SRV-ATTR:host"]
    [dest] = set(COMPUTES) - {source}
    ip = address(server, net["name"])
    wait_for_sshd(admin, server)

    admin.server_action(server["id"], "migrate")
    moved = wait_for_settled(admin, server["id"], "VERIFY_RESIZE", timeout=BOOT_TIMEOUT)
    assert moved["OS-EXT-SRV-ATTR:host"] == dest
    source_log = cloud.log(source, "mininova-compute")
    assert f"Copying {cloud.hosts[source].instances_path}/{server['id']}_resize/disk " \
           f"to {cloud.hosts[dest].ip} over ssh" in source_log
    sshd_log = (cloud.hosts[dest].dir / "log" / "sshd.stdout").read_text()
    assert "Accepted publickey for root" in sshd_log
    # The destination's instances path is its own: the disk is there now,
    # the source keeps its set-aside copy until the confirm.
    assert (cloud.hosts[dest].dir / "instances" / server["id"] / "disk").exists()
    assert not (cloud.hosts[dest].dir / "instances" / f"{server['id']}_resize").exists()
    assert (cloud.hosts[source].dir / "instances" / f"{server['id']}_resize").exists()

    admin.server_action(server["id"], "confirmResize")
    confirmed = wait_for_settled(admin, server["id"], "ACTIVE", timeout=120)
    assert address(confirmed, net["name"]) == ip
    [port] = cloud.neutron.call("GET", f"ports?device_id={server['id']}").json()["ports"]
    assert port["binding:host_id"] == dest
    dep.wait_until(lambda: cloud.neutron.get("port", port["id"])["status"],
                   lambda status: status == "ACTIVE", 60, what="the port ACTIVE on dest")
    # The same guest, same address, reached on its new host.
    dep.wait_until(lambda: guest_ssh(keypair, ip, "hostname"),
                   lambda result: result.returncode == 0, BOOT_TIMEOUT, interval=2,
                   what="ssh into the migrated guest")
    assert not (cloud.hosts[source].dir / "instances" / f"{server['id']}_resize").exists()
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])


def test_a_volume_from_the_controller_attaches_to_a_guest_on_compute2(cloud, admin, pair):
    [guest] = [s for s in pair if s["OS-EXT-SRV-ATTR:host"] == "compute2"]
    volumes = VolumeAPI(cloud.nova)
    volume = volumes.create(size=1, name="mh-data")
    try:
        attached = admin.attach_volume(guest["id"], {"volumeId": volume["id"]})
        assert attached["device"] == "/dev/vdb"
        volumes.wait(volume["id"], "in-use")
        # A live attach: compute2's QEMU opened the export at the
        # controller's address (a hot-plug fails when it cannot connect).
        xml = cloud.hosts["compute2"].run(
            "virsh", "-c", "qemu:///system", "dumpxml",
            guest["OS-EXT-SRV-ATTR:instance_name"]).stdout
        assert f"<host name='{cloud.network.controller_ip}'" in xml
        assert f"<serial>{volume['id']}</serial>" in xml
        admin.detach_volume(guest["id"], volume["id"])
        volumes.wait(volume["id"], "available")
    finally:
        volumes.delete_quietly(f"/volumes/{volume['id']}")
        volumes.wait(volume["id"], None)


def test_a_host_that_goes_away_is_marked_down_and_skipped(cloud, admin, tiny, private, pair):
    net, _subnet = private
    gone = "compute2"
    cloud.hosts[gone].kill()
    assert cloud.hosts[gone].pids() == [cloud.hosts[gone].holder.pid]

    def compute_state():
        return {s["host"]: s["state"] for s in admin.list_services()
                if s["binary"] == "mininova-compute"}
    states = dep.wait_until(compute_state, lambda s: s.get(gone) == "down", 60,
                            what=f"{gone} reported down")
    # (after service_down_time, 10 s in the test deployment, without a
    # heartbeat from it)
    assert states["compute1"] == "up"
    for i in (1, 2):
        server = boot(admin, tiny, f"mh-after-{i}", net["id"])
        assert server["OS-EXT-SRV-ATTR:host"] == "compute1"
        admin.delete_server(server["id"])
        dep.wait_for_gone(admin, server["id"])
    # The servers of the host that went away are deleted by the API itself.
    for server in pair:
        admin.delete_server(server["id"])
    for server in pair:
        dep.wait_for_gone(admin, server["id"])
