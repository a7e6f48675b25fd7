"""A real mininova-network for the integration tests: its own process (and,
for a second host, a mininova-network-agent process), its own RabbitMQ
vhost, port, state directory and host name; and the clean-up of every
kernel object it may have made, by name, also when a test failed.

What the service makes is named after the ids of the networks and ports
its tests create (``brq<net[:11]>``, ``qdhcp-<net>``, ``tap<port[:11]>``,
iptables rules commented with the bridge's name), and its dnsmasq runs
with this deployment's own directory in its command line: the clean-up
removes exactly these, never another deployment's or another engineer's;
so do its metadata proxies (their pid files are in that directory).
"""

import configparser
import ipaddress
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from mininova.network import utils
from mininova.network.linux import isolation
from tests.integration.deployment import free_port
from tests.waiting import wait_until

BIN = Path(sys.executable).parent


class NetworkDeployment:
    def __init__(self, workdir, transport_url, nova_url, config=None, admin_token="admin:admin"):
        """``admin_token``: what call() sends, noauth2's admin or a
        function giving a Keystone token (called each time: tokens expire)."""
        self.dir = Path(workdir)
        self.admin_token = admin_token
        self.tag = secrets.token_hex(3)
        self.host = f"itest-net-{self.tag}"
        self.state_path = self.dir / "state"
        self.log_dir = self.dir / "log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf_file = self.dir / "mininova.conf"
        self.processes = {}
        self.networks = set()        # ids of every network made through this deployment
        self.ports = set()
        self.namespaces = set()      # the tests' own "guest" namespaces
        self._write_config(transport_url, nova_url, config or {})

    def _write_config(self, transport_url, nova_url, overrides):
        # dnsmasq drops root and rereads its files as nobody: every
        # directory on the way must be readable by others.
        for path in (self.dir, self.state_path, self.log_dir):
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o755)
        config = configparser.ConfigParser(interpolation=None)
        config["DEFAULT"] = {"host": self.host, "state_path": str(self.state_path),
                             "log_dir": str(self.log_dir), "debug": "True",
                             "transport_url": transport_url}
        config["network"] = {"bind_host": "127.0.0.1", "bind_port": str(self.port)}
        config["dhcp"] = {"resync_interval": "1"}
        config["nova"] = {"endpoint_override": nova_url}
        for section, options in overrides.items():
            if section != "DEFAULT" and not config.has_section(section):
                config.add_section(section)
            config[section].update({k: str(v) for k, v in options.items()})
        with open(self.conf_file, "w") as f:
            config.write(f)

    # --- processes -----------------------------------------------------------------

    def start(self, service="mininova-network", host=None):
        """``service`` with this deployment's configuration; ``host``: as
        another host (a second compute's mininova-network-agent)."""
        conf_file = self.conf_file
        if host:
            config = configparser.ConfigParser(interpolation=None)
            config.read(self.conf_file)
            config["DEFAULT"]["host"] = host
            config["DEFAULT"]["log_file"] = f"{service}-{host}.log"
            conf_file = self.dir / f"{host}.conf"
            with open(conf_file, "w") as f:
                config.write(f)
        args = [BIN / service, "--config-file", conf_file]
        name = f"{service}-{host}" if host else service
        out = open(self.log_dir / f"{name}.stdout", "ab")
        self.processes[name] = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                                start_new_session=True)
        if service == "mininova-network":
            wait_until(self._answers, bool, 30, interval=0.1, what="mininova-network")
        return self

    def _answers(self):
        self._check_processes()
        try:
            return requests.get(self.url, timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def _check_processes(self):
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}: "
                                     f"{self.log(name)[-3000:]}")

    def stop(self):
        for process in list(self.processes.values())[::-1]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes = {}

    def log(self, name="mininova-network"):
        path = self.log_dir / f"{name}.log"
        return path.read_text() if path.exists() else ""

    # --- the API ---------------------------------------------------------------------

    def call(self, method, path, body=None, expect=None):
        token = self.admin_token() if callable(self.admin_token) else self.admin_token
        response = requests.request(method, f"{self.url}/v2.0/{path}", json=body, timeout=30,
                                    headers={"X-Auth-Token": token})
        if expect is not None:
            assert response.status_code == expect, response.text
        return response

    def create(self, resource, **values):
        item = self.call("POST", f"{resource}s", {resource: values}, expect=201).json()[resource]
        if resource == "network":
            self.networks.add(item["id"])
        elif resource == "port":
            self.ports.add(item["id"])
        return item

    def get(self, resource, item_id):
        return self.call("GET", f"{resource}s/{item_id}", expect=200).json()[resource]

    def network_with_subnet(self, **subnet):
        network = self.create("network", name=f"net-{self.tag}")
        cidr = subnet.pop("cidr", None) or free_cidr()
        return network, self.create("subnet", network_id=network["id"], cidr=cidr,
                                    ip_version=4, **subnet)

    def guest_namespace(self, name):
        namespace = f"mnt-{self.tag}-{name}"
        self.namespaces.add(namespace)
        run("ip", "netns", "add", namespace)
        run("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up")
        return namespace

    # --- clean-up ----------------------------------------------------------------------

    def tear_down(self):
        """Everything it made gone, also when a step fails: through the API
        first, then the service stopped, then the host swept by name."""
        try:
            self.delete_everything()
        finally:
            self.stop()
            self.remove_leftovers()

    def delete_everything(self):
        """Through the API first (the service then removes what it made)."""
        for port_id in self.ports:
            self.call("DELETE", f"ports/{port_id}")
        for network_id in self.networks:
            self.call("DELETE", f"networks/{network_id}")

    def remove_leftovers(self):
        """Whatever is still on the host, by name: the safety net."""
        for namespace in self.namespaces:
            run("ip", "netns", "delete", namespace, check=False)
        for port_id in self.ports:
            run("ip", "link", "delete", utils.tap_device_name(port_id), check=False)
        for network_id in self.networks:
            run("ip", "netns", "delete", utils.dhcp_namespace(network_id), check=False)
            bridge = utils.bridge_name(network_id)
            run("ip", "link", "delete", bridge, check=False)
            isolation.remove(bridge)
        for pid in self.dnsmasq_pids() + self.metadata_proxy_pids():
            os.kill(pid, signal.SIGKILL)

    def dnsmasq_pids(self):
        """dnsmasq processes started for this deployment (its directory is
        in their command line)."""
        return self._pids_of(lambda cmdline: cmdline.startswith("dnsmasq"))

    def metadata_proxy_pids(self):
        """The metadata proxies started for this deployment (their pid
        file, in its directory, is in their command line)."""
        return self._pids_of(lambda cmdline: "mininova.network.agent.metadata_proxy" in cmdline)

    def _pids_of(self, matches):
        """Live processes whose command line ``matches`` and names this
        deployment's directory."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
                state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state == "Z":
                continue   # exited; init has not reaped it yet
            if matches(cmdline) and str(self.state_path) in cmdline:
                pids.append(int(entry))
        return pids

    def dhcp_dir(self, network_id):
        return self.state_path / "dhcp" / network_id


def run(*args, check=True, namespace=None):
    if namespace:
        args = ("ip", "netns", "exec", namespace, *args)
    return subprocess.run(args, check=check, capture_output=True, text=True, timeout=60)


def host_routes():
    return json.loads(run("ip", "-j", "-4", "route", "show").stdout or "[]")


def free_cidr():
    """A /24 in 10.200-250.x that the host routes nowhere (so its gateway
    on our bridge shadows nothing)."""
    taken = [ipaddress.ip_network(r["dst"], strict=False) for r in host_routes()
             if r.get("dst") not in (None, "default")]
    while True:
        cidr = ipaddress.ip_network(f"10.{secrets.randbelow(51) + 200}."
                                    f"{secrets.randbelow(256)}.0/24")
        if not any(cidr.overlaps(other) for other in taken):
            return str(cidr)


def bridge_ports(bridge):
    path = Path(f"/sys/class/net/{bridge}/brif")
    return sorted(os.listdir(path)) if path.exists() else []


def wait_for(check, what, timeout=30):
    return wait_until(check, bool, timeout, interval=0.05, what=what)


def now():
    return time.monotonic()
