"""A controller and two compute hosts on one machine, nothing shared but
the network (tests/integration/simulated_hosts.py), each set up by the role
script itself, run as root inside the host's namespaces:

* the controller by ``bin/mininova-quickstart --role controller --address
  <its address>``: its own RabbitMQ (and epmd), Keystone, database, sshd,
  mininova-api, -image, -network (the DHCP namespaces in its own
  /run/netns), -volume, -conductor and -scheduler on the fixed ports of its
  network namespace, the ``private`` network and the ``tiny`` image, and
  the bootstrap file for the computes;
* once that file is there, both computes at once (as vagrant/provision.sh
  waits for it) by ``bin/mininova-quickstart --role compute --controller
  <its address> --host computeN --address <its address>``: each fetches
  the file over SSH from the controller's sshd with the lab key (the
  role's default), starts its own virtlogd, libvirtd and sshd, writes its
  mininova-compute.conf from the file and the controller's Keystone
  catalog, starts mininova-compute and mininova-network-agent and waits
  until ``mininova service-list`` shows the host up.

The test process is the operator's machine: it reaches the controller's
APIs at the controller's address over the simulated network (the machine
has .254 on its bridge), as Keystone's admin (the password the role
generated), and the guests from inside the controller's network namespace
(the private network's gateway is on the controller's bridge).

* the role, run a second time on a compute, keeps its libvirtd and sshd,
  writes the same configuration and restarts only mininova's daemons;
* a guest on each compute, and they ping each other over VXLAN (the
  network's VNI, the controller's DHCP reached over it too);
* a cold migration copies the disk over SSH (the role's sshd, the lab
  key) to the other compute, whose instances path is its own, and the
  guest keeps its address;
* a volume of the controller's mininova-volume attaches to a guest on
  compute2: its NBD export listens on the controller's address (the
  role's ``[volume] nbd_host``), and compute2's QEMU opens it over the
  simulated network;
* a compute host whose processes are all killed is reported down after
  service_down_time (the role's: Nova's default, 60 s), and new servers go
  to the other one.
"""

import concurrent.futures
import os
import subprocess
import time
from pathlib import Path

import pytest
from keystoneauth1 import session
from keystoneauth1.identity import v3

from mininova.cli.client import Client
from tests.integration import deployment as dep
from tests.integration.simulated_hosts import SimulatedHost, SimulatedNetwork
from tests.integration.test_boot_from_volume import VolumeAPI
from tests.waiting import wait_for_settled

SSH_OPTIONS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"]
COMPUTES = ("compute1", "compute2")
BOOT_TIMEOUT = 300
# The controller role's fixed ports (each host has its own network namespace).
RABBIT_PORT, COMPUTE_PORT, IMAGE_PORT, NETWORK_PORT, VOLUME_PORT = 5672, 8774, 9292, 9696, 8776
KEYSTONE_PORT = 5000
# The controller role's choices: its network's VNI range, Nova's default
# service_down_time (its computes report every 10 s).
VNI_RANGE = range(1, 1001)
SERVICE_DOWN_TIME = 60
INSTANCES = "/var/lib/mininova/instances"
SSHD = "/usr/sbin/sshd"
BOOTSTRAP = "/etc/mininova/compute-bootstrap.conf"


class MultiHostCloud:
    """The simulated network and its hosts: the controller and the computes."""

    def __init__(self, workdir):
        self.dir = workdir
        self.network = SimulatedNetwork()
        self.controller = None
        self.hosts = {}
        self.lab_key = workdir / "lab" / "mininova_lab"
        self.controller_run = ""
        self.first_runs = {}
        self.setup_seconds = {}
        self._admin = None

    def start(self):
        if not Path(SSHD).exists():
            # The roles would install it from inside a host, its /etc/ssh the host's.
            pytest.fail(f"{SSHD} is missing; bin/run-tests installs openssh-server")
        began = time.monotonic()
        self.network.create()
        (self.dir / "lab").mkdir(mode=0o700)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                        "mininova-lab", "-f", str(self.lab_key)], check=True)
        self.controller = SimulatedHost(self.network, "controller", 1, self.dir, self.lab_key,
                                        role="controller").start()
        for index, name in enumerate(COMPUTES, start=2):
            self.hosts[name] = SimulatedHost(self.network, name, index, self.dir,
                                             self.lab_key).start()
        with concurrent.futures.ThreadPoolExecutor() as pool:
            controller = pool.submit(self.controller.quickstart, "--role", "controller",
                                     "--address", self.controller.ip, timeout=900)
            # The computes once the controller's bootstrap file is there (as
            # vagrant/provision.sh waits for it), both at once.
            bootstrap = self.controller.own(BOOTSTRAP)
            while not (bootstrap.exists() and bootstrap.stat().st_size):
                if controller.done():
                    controller.result()  # raises with the role's output
                    raise AssertionError(f"the controller role wrote no {BOOTSTRAP}")
                time.sleep(1)
            self.setup_seconds["bootstrap written"] = time.monotonic() - began
            runs = {name: pool.submit(self.compute_role, host)
                    for name, host in self.hosts.items()}
            self.controller_run = controller.result()
            self.setup_seconds["controller role"] = time.monotonic() - began
            self.first_runs = {name: run.result() for name, run in runs.items()}
            self.setup_seconds["compute roles"] = time.monotonic() - began
        admin = self.client()
        dep.wait_until(lambda: {h["hypervisor_hostname"] for h in admin.list_hypervisors()
                                if h["state"] == "up"}, lambda up: set(COMPUTES) <= up, 90,
                       what="both computes up")
        self.setup_seconds["set-up"] = time.monotonic() - began
        print(f"\nmultihost set-up: {self.setup_seconds}")
        return self

    def compute_role(self, host):
        """The role's defaults: the bootstrap file over SSH from the
        controller, with the lab key. A failure shows the errors of the
        controller's Keystone too: the role's first call goes there."""
        try:
            return host.quickstart("--role", "compute", "--controller", self.controller.ip,
                                   "--host", host.name, "--address", host.ip)
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n{self.keystone_errors()}") from None

    def keystone_errors(self, lines=40):
        log = self.controller.own("/var/log/mininova/keystone.log")
        text = log.read_text(errors="replace") if log.exists() else ""
        found = [line for line in text.splitlines() if "ERROR" in line or "Error" in line]
        return "the controller's keystone.log, its error lines:\n" + "\n".join(found[-lines:])

    # --- the controller's APIs, as Keystone's admin ------------------------------------

    def url(self, port, path=""):
        return f"http://{self.controller.ip}:{port}{path}"

    def passwords(self):
        """The passwords the controller role generated (its /etc/mininova)."""
        lines = self.controller.own("/etc/mininova/passwords").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def admin_session(self):
        if self._admin is None:
            self._admin = session.Session(auth=v3.Password(
                auth_url=self.url(KEYSTONE_PORT, "/v3"), username="admin",
                password=self.passwords()["ADMIN_PASSWORD"], project_name="admin",
                user_domain_id="default", project_domain_id="default"))
        return self._admin

    def client(self):
        return Client(self.url(COMPUTE_PORT, "/v2.1"), self.url(IMAGE_PORT),
                      self.admin_session().get_token(), timeout=60)

    def network_api(self, method, path, expect=200):
        response = self.admin_session().request(
            self.url(NETWORK_PORT, f"/v2.0/{path}"), method, raise_exc=False)
        assert response.status_code == expect, response.text
        return response.json()

    def log(self, host, service):
        path = self.hosts[host].own(f"/var/log/mininova/{service}.log")
        return path.read_text() if path.exists() else ""

    def dnsmasq_pids(self):
        """The controller's dnsmasq processes (in its DHCP namespaces)."""
        pids = []
        for pid in self.controller.pids():
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "dnsmasq":
                    pids.append(pid)
            except OSError:
                continue
        return pids

    def stop(self):
        """Every host removed (the computes first), then the bridge, each
        step whatever the others did; the first error is raised at the end."""
        steps = [host.remove for host in self.hosts.values()]
        if self.controller is not None:
            steps.append(self.controller.remove)
        steps.append(self.network.remove)
        errors = []
        for step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
        if errors:
            raise errors[0]


class KeystoneVolumeAPI(VolumeAPI):
    """The controller's mininova-volume as Keystone's admin (its project
    in the URL, as the catalog's endpoint would have it)."""

    def __init__(self, cloud):
        admin = cloud.admin_session()
        self.url = cloud.url(VOLUME_PORT, f"/v3/{admin.get_project_id()}")
        self.headers = {"X-Auth-Token": admin.get_token(),
                        "OpenStack-API-Version": "volume 3.48"}


def machine_brokers():
    """The machine's own RabbitMQ nodes (beam.smp in the test's namespaces, the root ones)."""
    root = {os.readlink("/proc/self/ns/mnt"), os.readlink("/proc/self/ns/net")}
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if (Path(f"/proc/{entry}/comm").read_text().strip() == "beam.smp"
                        and {os.readlink(f"/proc/{entry}/ns/mnt"),
                             os.readlink(f"/proc/{entry}/ns/net")} == root):
                    found.add(int(entry))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def machine_rabbit():
    """The machine's brokers before the cloud is made (never touched)."""
    return machine_brokers()


@pytest.fixture(scope="module")
def cloud(work_root, machine_rabbit):
    path = work_root / "multihost"
    path.mkdir(mode=0o755)
    running = MultiHostCloud(path)
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture(scope="module")
def admin(cloud):
    return cloud.client()


@pytest.fixture(scope="module")
def tiny(admin):
    """The image the controller role uploaded."""
    return admin.find_image("tiny")


@pytest.fixture(scope="module")
def private(cloud):
    """The network the controller role made (its gateway on the
    controller's bridge)."""
    [net] = cloud.network_api("GET", "networks?name=private")["networks"]
    [subnet] = cloud.network_api("GET", f"subnets?network_id={net['id']}")["subnets"]
    dep.wait_until(cloud.dnsmasq_pids, bool, 60, what="dnsmasq")
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


def guest_ssh(cloud, key, ip, *command):
    """ssh from the controller's network namespace (where the private
    network's gateway is) into a guest."""
    return subprocess.run(["ip", "netns", "exec", cloud.controller.netns, "ssh", "-i", str(key),
                           *SSH_OPTIONS, f"cirros@{ip}", *command],
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


def test_the_controller_is_set_up_by_the_controller_role(cloud, admin, private, machine_rabbit):
    controller = cloud.controller
    output = cloud.controller_run
    assert "Installing" not in output  # neither packages nor the venv
    assert "Starting RabbitMQ" in output
    assert "Starting sshd" in output
    assert "Starting virtlogd and libvirtd" not in output  # a controller runs no guests
    assert "Writing /etc/mininova/compute-bootstrap.conf" in output
    ours = controller.mount_namespace_of(controller.holder.pid)
    for pid_file in ("/run/sshd.pid", *(f"/run/mininova/{service}.pid" for service in (
            "keystone", "mininova-api", "mininova-image", "mininova-network",
            "mininova-volume", "mininova-conductor", "mininova-scheduler"))):
        assert controller.mount_namespace_of(controller.pid_from_file(pid_file)) == ours
    # Its own RabbitMQ node (and epmd) in its namespaces, listening on its
    # address (the role added the listener and restarted it: this machine's
    # /etc/rabbitmq, copied, says loopback only); the machine's untouched.
    names = {Path(f"/proc/{pid}/comm").read_text().strip() for pid in controller.pids()}
    assert {"beam.smp", "epmd", "dnsmasq"} <= names
    assert "RabbitMQ: listening on" in output
    listening = controller.run("ss", "-Hltn", f"sport = :{RABBIT_PORT}").stdout
    assert f"{controller.ip}:{RABBIT_PORT}" in listening
    assert machine_brokers() == machine_rabbit
    conf = controller.own("/etc/mininova/mininova.conf").read_text()
    assert "transport_url = rabbit://mininova:" in conf
    assert f"@{controller.ip}:{RABBIT_PORT}/\n" in conf
    assert f"nbd_host = {controller.ip}\n" in conf
    assert f"local_ip = {controller.ip}\n" in conf
    assert controller.own("/etc/mininova/role").read_text() == "controller\n"
    # The DHCP namespace is the controller's own (its /run/netns), not the machine's.
    [net] = cloud.network_api("GET", "networks?name=private")["networks"]
    assert f"qdhcp-{net['id']}" in controller.run("ip", "netns", "list").stdout
    assert f"qdhcp-{net['id']}" not in subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True).stdout
    # The catalog names its address.
    endpoints = {s["type"]: s["endpoints"] for s in cloud.admin_session().get(
        cloud.url(KEYSTONE_PORT, "/v3/auth/catalog")).json()["catalog"]}
    assert {e["url"] for e in endpoints["compute"] if e["interface"] == "public"} == {
        cloud.url(COMPUTE_PORT, "/v2.1")}
    # The computes fetched their bootstrap over SSH with the lab key.
    assert "Accepted publickey for root" in controller.own(
        "/var/log/mininova/sshd.log").read_text()


def test_each_compute_host_is_set_up_by_the_compute_role(cloud, admin):
    for name, host in cloud.hosts.items():
        output = cloud.first_runs[name]
        assert f"Fetching compute-bootstrap.conf from root@{cloud.controller.ip} over SSH" \
            in output
        # Its own libvirtd and sshd: started by the role (another host's, or
        # the machine's, in the shared PID namespace did not count as ours),
        # inside the host's mount namespace.
        assert "Starting virtlogd and libvirtd" in output
        assert "Starting sshd" in output
        for pid_file in ("/run/libvirtd.pid", "/run/sshd.pid",
                         "/run/mininova/mininova-compute.pid",
                         "/run/mininova/mininova-network-agent.pid"):
            pid = host.pid_from_file(pid_file)
            assert host.mount_namespace_of(pid) == host.mount_namespace_of(host.holder.pid)
        # The configuration the role wrote from the bootstrap and the catalog.
        conf = host.own("/etc/mininova/mininova-compute.conf").read_text()
        assert f"host = {name}\n" in conf
        assert f"my_ip = {host.ip}\n" in conf
        assert f"@{cloud.controller.ip}:{RABBIT_PORT}/" in conf
        assert f"api_servers = http://{cloud.controller.ip}:{IMAGE_PORT}" in conf
        assert "ssh_identity_file = /root/.ssh/mininova_lab\n" in conf
        assert "[database]" not in conf.splitlines()
        assert host.own("/etc/mininova/role").read_text() == "compute\n"
    services = {s["host"]: s["state"] for s in admin.list_services()
                if s["binary"] == "mininova-compute"}
    assert services == {"compute1": "up", "compute2": "up"}


def test_the_compute_role_run_again_only_restarts_mininovas_daemons(cloud, admin):
    host = cloud.hosts["compute1"]
    conf = host.own("/etc/mininova/mininova-compute.conf").read_bytes()
    libvirtd, sshd = host.pid_from_file("/run/libvirtd.pid"), host.pid_from_file("/run/sshd.pid")
    compute = host.pid_from_file("/run/mininova/mininova-compute.pid")

    output = cloud.compute_role(host)

    assert "Starting virtlogd and libvirtd" not in output
    assert "Starting sshd" not in output
    assert "Installing" not in output  # neither packages nor the venv again
    assert host.pid_from_file("/run/libvirtd.pid") == libvirtd
    assert host.pid_from_file("/run/sshd.pid") == sshd
    assert host.pid_from_file("/run/mininova/mininova-compute.pid") != compute
    assert host.own("/etc/mininova/mininova-compute.conf").read_bytes() == conf
    dep.wait_until(lambda: {h["hypervisor_hostname"]: h["state"]
                            for h in admin.list_hypervisors()},
                   lambda states: states.get("compute1") == "up", 60, what="compute1 up")


def test_guests_on_two_hosts_ping_each_other_over_vxlan(cloud, admin, private, keypair, pair):
    net, _subnet = private
    assert {s["OS-EXT-SRV-ATTR:host"] for s in pair} == set(COMPUTES)
    vni = cloud.network_api("GET", f"networks/{net['id']}")["network"][
        "provider:segmentation_id"]
    assert vni in VNI_RANGE
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
        peers.add(cloud.controller.ip)
        for peer in peers:
            assert f"00:00:00:00:00:00 dst {peer}" in fdb
    first, second = pair
    result = guest_ssh(cloud, keypair, address(first, net["name"]),
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
    assert f"Copying {INSTANCES}/{server['id']}_resize/disk " \
           f"to {cloud.hosts[dest].ip} over ssh" in source_log
    # The role's sshd let the lab key in (its log: the role's log directory).
    sshd_log = cloud.hosts[dest].own("/var/log/mininova/sshd.log").read_text()
    assert "Accepted publickey for root" in sshd_log
    # The destination's instances path is its own: the disk is there now,
    # the source keeps its set-aside copy until the confirm.
    instances = {name: host.own(INSTANCES) for name, host in cloud.hosts.items()}
    assert (instances[dest] / server["id"] / "disk").exists()
    assert not (instances[dest] / f"{server['id']}_resize").exists()
    assert (instances[source] / f"{server['id']}_resize").exists()

    admin.server_action(server["id"], "confirmResize")
    confirmed = wait_for_settled(admin, server["id"], "ACTIVE", timeout=120)
    assert address(confirmed, net["name"]) == ip
    [port] = cloud.network_api("GET", f"ports?device_id={server['id']}")["ports"]
    assert port["binding:host_id"] == dest
    dep.wait_until(lambda: cloud.network_api("GET", f"ports/{port['id']}")["port"]["status"],
                   lambda status: status == "ACTIVE", 60, what="the port ACTIVE on dest")
    # The same guest, same address, reached on its new host.
    dep.wait_until(lambda: guest_ssh(cloud, keypair, ip, "hostname"),
                   lambda result: result.returncode == 0, BOOT_TIMEOUT, interval=2,
                   what="ssh into the migrated guest")
    assert not (instances[source] / f"{server['id']}_resize").exists()
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])


def test_a_volume_from_the_controller_attaches_to_a_guest_on_compute2(cloud, admin, pair):
    [guest] = [s for s in pair if s["OS-EXT-SRV-ATTR:host"] == "compute2"]
    volumes = KeystoneVolumeAPI(cloud)
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
        assert f"<host name='{cloud.controller.ip}'" in xml
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
    states = dep.wait_until(compute_state, lambda s: s.get(gone) == "down",
                            SERVICE_DOWN_TIME + 60, what=f"{gone} reported down")
    # (after service_down_time without a heartbeat from it)
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
