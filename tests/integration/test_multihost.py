"""A controller and two compute hosts on one machine, nothing shared but
the network (tests/integration/simulated_hosts.py), each compute host set
up by the role script itself: ``bin/mininova-quickstart --role compute
--controller <controller address> --bootstrap <its file> --host computeN
--address <its address>`` run as root inside the host's namespaces. The
script starts the host's own virtlogd, libvirtd and sshd, writes its
mininova-compute.conf from the bootstrap file and the controller's
Keystone catalog, starts mininova-compute and mininova-network-agent and
waits until ``mininova service-list`` shows the host up.

* the role, run a second time on a host, keeps its libvirtd and sshd,
  writes the same configuration and restarts only mininova's daemons;
* a guest on each compute, and they ping each other over VXLAN (the
  network's VNI, the controller's DHCP reached over it too);
* a cold migration copies the disk over SSH (the role's sshd, the lab
  key) to the other compute, whose instances path is its own, and the
  guest keeps its address;
* a volume of the controller's mininova-volume attaches to a guest on
  compute2: its NBD export listens on the controller's address, and
  compute2's QEMU opens it over the simulated network;
* a compute host whose processes are all killed is reported down after
  service_down_time, and new servers go to the other one.

The controller is not made by ``--role controller``: that role writes the
machine's own /etc/mininova, RabbitMQ users and listeners and takes the
fixed ports 5000, 8774, 9292, 9696 and 8776, where other clouds (the
quickstart's, other test runs) live on the same machine. It is the test
deployment of every integration test, in the root namespace, with what
a compute takes from a controller made by the controller role's own
code: a Keystone of the module's own (``keystone_setup.py``, the same
bootstrap) whose catalog names the services at the controller's address,
the service users nova and neutron, every API checking Keystone tokens
(``[keystone_authtoken]``, ``[service_user]``, as the role writes them);
a RabbitMQ user for the computes (the role's ``mininova``) on a broker of
the module's own (tests/integration/private_rabbit.py); and the
bootstrap file written by ``compute_bootstrap.py controller-bootstrap``,
as ``write_compute_bootstrap`` does. The services listen on 127.0.0.1 and
the test forwards their ports from the controller's address
(``PortForwarder``). The hosts get the file with ``--bootstrap`` (the
role's alternative to fetching it over SSH from the controller, which
runs no sshd here).
"""

import concurrent.futures
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration import deployment as dep
from tests.integration.keystone import Keystone
from tests.integration.network_service import NetworkDeployment, free_cidr
from tests.integration.private_rabbit import PrivateRabbit
from tests.integration.simulated_hosts import REPO, PortForwarder, SimulatedHost, SimulatedNetwork
from tests.integration.test_boot_from_volume import VolumeAPI
from tests.waiting import wait_for_settled

SSH_OPTIONS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"]
COMPUTES = ("compute1", "compute2")
BOOT_TIMEOUT = 300
COMPUTE_BOOTSTRAP = REPO / "bin" / "lib" / "compute_bootstrap.py"
# The RabbitMQ user the controller role adds for the computes (bin/lib/roles.sh).
RABBIT_USER = "mininova"
# The role's compute reports every report_interval (Nova's 10 s, it sets
# none); Nova's rule is service_down_time well above it (60 s by default).
# Short enough for the test of a host that goes away.
SERVICE_DOWN_TIME = 25
INSTANCES = "/var/lib/mininova/instances"
SSHD = "/usr/sbin/sshd"


class MultiHostCloud:
    """The controller, the simulated network and the compute hosts."""

    def __init__(self, workdir):
        self.dir = workdir
        # A RabbitMQ node of the module's own: the machine's is shared.
        self.rabbit = PrivateRabbit(workdir)
        self.rabbit_password = secrets.token_hex(16)
        self.keystone = Keystone(workdir / "keystone")
        self.network = SimulatedNetwork()
        self.vni_base = 20000 + secrets.randbelow(1000) * 10
        self.hosts = {}
        self.forwarder = None
        self.nova = None
        self.neutron = None
        self.lab_key = workdir / "lab" / "mininova_lab"
        self.bootstrap = workdir / "lab" / "compute-bootstrap.conf"
        self.first_runs = {}
        self._admin_token = None

    def start(self):
        if not Path(SSHD).exists():
            # The role would install it from inside a host, its /etc/ssh the host's.
            pytest.fail(f"{SSHD} is missing; bin/run-tests installs openssh-server")
        # Keystone's set-up (its database above all) is the slowest step: it
        # runs meanwhile, as the controller's services need only its
        # passwords to start (they ask it about tokens when requests come).
        self.keystone.make_passwords()
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as background:
            keystone = background.submit(self.keystone.start)
            self.rabbit.start()
            self.rabbit.ctl("add_user", RABBIT_USER, self.rabbit_password)
            self.rabbit.ctl("set_permissions", "-p", "/", RABBIT_USER, ".*", ".*", ".*")
            self.network.create()
            (self.dir / "lab").mkdir(mode=0o700)
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                            "mininova-lab", "-f", str(self.lab_key)], check=True)
            for index, name in enumerate(COMPUTES, start=2):
                self.hosts[name] = SimulatedHost(self.network, name, index, self.dir,
                                                 self.lab_key).start()
            self._start_controller()
            keystone.result()
        self._write_catalog()
        self._write_compute_bootstrap()
        # Both hosts at once, as vagrant-libvirt provisions the lab's nodes.
        with concurrent.futures.ThreadPoolExecutor() as pool:
            runs = {name: pool.submit(self.compute_role, host)
                    for name, host in self.hosts.items()}
            self.first_runs = {name: run.result() for name, run in runs.items()}
        admin = self.nova.client()
        dep.wait_until(lambda: {h["hypervisor_hostname"] for h in admin.list_hypervisors()
                                if h["state"] == "up"}, lambda up: set(COMPUTES) <= up, 90,
                       what="both computes up")
        return self

    def admin_token(self):
        """Keystone's admin token, got once (it lasts an hour: the module)."""
        if self._admin_token is None:
            self._admin_token = self.keystone.token("admin")
        return self._admin_token

    def compute_role(self, host):
        return host.quickstart("--role", "compute", "--controller", self.network.controller_ip,
                               "--bootstrap", self.bootstrap, "--host", host.name,
                               "--address", host.ip)

    def _start_controller(self):
        controller = self.network.controller_ip
        nova_dir = self.dir / "controller"
        nova_dir.mkdir(mode=0o755)
        auth = self.keystone.service_config()
        self.neutron = NetworkDeployment(self.dir / "network", self.rabbit.url,
                                         "http://127.0.0.1:1",
                                         admin_token=self.admin_token)
        self.nova = dep.Deployment(
            nova_dir, self.rabbit.url, f"sqlite:///{nova_dir}/mininova.sqlite",
            config={**auth,
                    "neutron": {"enabled": "True", "endpoint_override": self.neutron.url},
                    "DEFAULT": {"vif_plugging_timeout": "60",
                                "service_down_time": str(SERVICE_DOWN_TIME),
                                # The computes name their domains with Nova's
                                # default, and the API reports the same name.
                                "instance_name_template": "instance-%08x"},
                    # The NBD exports listen where the computes reach them.
                    "volume": {"nbd_host": controller}},
            admin_token=self.admin_token)
        self.nova.manage("db", "sync")
        for service in (*dep.CONTROLLER_SERVICES, "mininova-api"):
            self.nova.start_service(service)
        neutron_user = dict(auth["service_user"], username="neutron")
        del neutron_user["send_service_user_token"]
        self.neutron._write_config(
            self.rabbit.url, f"http://127.0.0.1:{self.nova.api_port}/v2.1",
            {**auth,
             "DEFAULT": {"host": "controller"},
             # mininova-network sends Nova its events as the service user neutron.
             "nova": neutron_user,
             "vxlan": {"local_ip": controller},
             "ml2_type_vxlan": {"vni_ranges": f"{self.vni_base}:{self.vni_base + 9}"}})
        self.neutron.start()
        self.forwarder = PortForwarder(controller, [
            self.rabbit.port, self.keystone.port, self.nova.api_port, self.nova.image_port,
            self.nova.volume_port, self.neutron.port])

    def _write_catalog(self):
        """The catalog a controller's computes read: every service at the
        controller's address (keystone_setup.py add-service, as the role)."""
        base = f"http://{self.network.controller_ip}"
        endpoints = {"compute": f"{base}:{self.nova.api_port}/v2.1",
                     "image": f"{base}:{self.nova.image_port}",
                     "network": f"{base}:{self.neutron.port}",
                     "block-storage": f"{base}:{self.nova.volume_port}/v3/$(project_id)s"}
        # One after the other: Keystone's SQLite database takes one writer.
        for service_type, url in endpoints.items():
            self.keystone.add_service(service_type, url)

    def _write_compute_bootstrap(self):
        """As the controller role's write_compute_bootstrap: the broker URL
        with the computes' user, Keystone's URL, the service user."""
        controller = self.network.controller_ip
        result = subprocess.run(
            [sys.executable, COMPUTE_BOOTSTRAP, "controller-bootstrap",
             "--file", self.bootstrap,
             "--transport-url",
             f"rabbit://{RABBIT_USER}:{self.rabbit_password}@{controller}:{self.rabbit.port}/",
             "--auth-url", f"http://{controller}:{self.keystone.port}/v3",
             "--passwords", self.keystone.passwords_file],
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr

    def log(self, host, service):
        path = self.hosts[host].own(f"/var/log/mininova/{service}.log")
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
        steps += [self.network.remove, self.keystone.stop, self.rabbit.destroy]
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


class KeystoneVolumeAPI(VolumeAPI):
    """The controller's mininova-volume as Keystone's admin (its project
    in the URL, as the catalog's endpoint would have it)."""

    def __init__(self, cloud):
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        admin = session.Session(auth=v3.Password(**cloud.keystone.credentials("admin")))
        self.url = f"http://127.0.0.1:{cloud.nova.volume_port}/v3/{admin.get_project_id()}"
        self.headers = {"X-Auth-Token": admin.get_token(),
                        "OpenStack-API-Version": "volume 3.48"}


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


def test_each_compute_host_is_set_up_by_the_compute_role(cloud, admin):
    for name, host in cloud.hosts.items():
        output = cloud.first_runs[name]
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
        assert f"@{cloud.network.controller_ip}:{cloud.rabbit.port}/" in conf
        assert f"api_servers = http://{cloud.network.controller_ip}:" in conf
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
    [port] = cloud.neutron.call("GET", f"ports?device_id={server['id']}").json()["ports"]
    assert port["binding:host_id"] == dest
    dep.wait_until(lambda: cloud.neutron.get("port", port["id"])["status"],
                   lambda status: status == "ACTIVE", 60, what="the port ACTIVE on dest")
    # The same guest, same address, reached on its new host.
    dep.wait_until(lambda: guest_ssh(keypair, ip, "hostname"),
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
