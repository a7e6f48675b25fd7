"""A real mininova deployment for the integration tests: each service its own
process (the console scripts of this venv), talking over RabbitMQ, booting
guests with the libvirt driver through the host's libvirtd.

Everything a deployment owns is named so it cannot touch anyone else's:
its own RabbitMQ vhost, database, directory, free TCP ports, compute host
name and domain name prefix.
"""

import configparser
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import libvirt
import requests

from mininova.cli.client import Client, ClientException
from tests.waiting import wait_for_gone, wait_for_status, wait_until

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TINY_IMAGE = REPO / "build" / "images" / "tiny.qcow2"
__all__ = ["Deployment", "wait_for_gone", "wait_for_status", "wait_for_console",
           "wait_for_usage", "upload_tiny_image"]
CONTROLLER_SERVICES = ("mininova-image", "mininova-volume", "mininova-conductor",
                       "mininova-scheduler")


# Below Linux's ephemeral range (32768-60999): a port picked there could be
# taken by some outgoing connection before the service binds it.
SERVICE_PORTS = range(20000, 32000)


def free_port():
    """A port no one listens on, for a service about to start."""
    while True:
        port = random.choice(SERVICE_PORTS)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class Deployment:
    def __init__(self, workdir, transport_url, database_url,
                 compute_driver="libvirt.LibvirtDriver", compute_config=None,
                 config=None, service_env=None, admin_token="admin:admin"):
        """``compute_config``: ``{section: {option: value}}`` set in the
        compute's configuration only, over what is written for every service
        (``{"glance": {"api_servers": proxy}}``, a faster image cache
        manager); ``config``: the same, for every service. ``service_env``:
        ``{service: {variable: value}}`` added to a service's environment
        (a PATH with a fake qemu-img first)."""
        self.dir = Path(workdir)
        self.tag = secrets.token_hex(3)
        self.host = f"itest-{self.tag}"
        self.name_prefix = f"mntest-{self.tag}"
        self.state_path = self.dir / "state"
        self.instances_path = self.state_path / "instances"
        self.log_dir = self.dir / "log"
        self.api_port = free_port()
        self.metadata_port = free_port()
        self.image_port = free_port()
        self.volume_port = free_port()
        # The volume service's NBD exports: a window of ports of its own.
        self.nbd_ports = (lambda base: (base, base + 19))(random.randrange(12000, 19800, 20))
        self.transport_url = transport_url
        self.database_url = database_url
        self.compute_driver = compute_driver
        self.compute_config = compute_config or {}
        self.config = config or {}
        self.service_env = service_env or {}
        # Who client() speaks as by default: noauth2's token, or a Keystone
        # token (a function, called each time: tokens expire).
        self.admin_token = admin_token
        self.processes = {}
        self.controller_conf = self.dir / "mininova.conf"
        self.compute_conf = self.dir / "mininova-compute.conf"
        self._write_config()

    # --- configuration ---------------------------------------------------------

    def _write_config(self):
        self.state_path.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        config = configparser.ConfigParser(interpolation=None)
        config["DEFAULT"] = {
            "host": self.host,
            "state_path": str(self.state_path),
            "log_dir": str(self.log_dir),
            "debug": "True",
            "transport_url": self.transport_url,
            "instance_name_template": f"{self.name_prefix}-%08x",
            "compute_driver": self.compute_driver,
            "osapi_compute_listen": "127.0.0.1",
            "osapi_compute_listen_port": str(self.api_port),
            # The metadata API beside it (enabled_apis), on a port of its own:
            # several deployments run at once.
            "metadata_listen": "127.0.0.1",
            "metadata_listen_port": str(self.metadata_port),
            "report_interval": "2",
            # Short, so a test can see a stopped compute reported down.
            "service_down_time": "10",
        }
        config["image_service"] = {"bind_host": "127.0.0.1", "bind_port": str(self.image_port)}
        config["glance"] = {"api_servers": f"http://127.0.0.1:{self.image_port}"}
        config["volume"] = {"osapi_volume_listen": "127.0.0.1",
                            "osapi_volume_listen_port": str(self.volume_port),
                            "nbd_port_min": str(self.nbd_ports[0]),
                            "nbd_port_max": str(self.nbd_ports[1])}
        config["cinder"] = {
            "endpoint_template": f"http://127.0.0.1:{self.volume_port}/v3/%(project_id)s"}
        config["libvirt"] = {"virt_type": "auto"}
        _apply(config, self.config)
        # Only the controller services get the database.
        config["database"] = {"connection": self.database_url}
        with open(self.controller_conf, "w") as f:
            config.write(f)
        config.remove_section("database")
        _apply(config, self.compute_config)
        with open(self.compute_conf, "w") as f:
            config.write(f)

    def config_for(self, service):
        return self.compute_conf if service == "mininova-compute" else self.controller_conf

    # --- processes -------------------------------------------------------------

    def manage(self, *args):
        return subprocess.run(
            [BIN / "mininova-manage", "--config-file", self.controller_conf, *args],
            check=True, capture_output=True, text=True, timeout=120)

    def start(self):
        self.manage("db", "sync")
        for service in (*CONTROLLER_SERVICES, "mininova-compute", "mininova-api"):
            self.start_service(service)
        self.wait_until_ready()
        return self

    def start_service(self, service, env=None):
        """Start ``service``; ``env`` is added to its environment (over
        ``service_env``)."""
        environment = dict(os.environ, **self.service_env.get(service, {}), **(env or {}))
        out = open(self.log_dir / f"{service}.stdout", "ab")
        self.processes[service] = subprocess.Popen(
            [BIN / service, "--config-file", self.config_for(service)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=environment)

    def stop_service(self, service, sig=signal.SIGTERM):
        process = self.processes.pop(service, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self):
        for service in list(self.processes)[::-1]:
            self.stop_service(service)
        # The volume service's NBD exports outlive it on purpose; a test
        # deployment's must not outlive the deployment.
        for pid in export_daemons_under(self.dir):
            os.kill(pid, signal.SIGKILL)

    def wait_until_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        admin = self.client()
        while True:
            self._check_processes()
            try:
                if any(h["state"] == "up" for h in admin.list_hypervisors()):
                    admin.list_images()  # the image service answers too
                    requests.get(f"http://127.0.0.1:{self.volume_port}/", timeout=5)
                    return
            except (requests.ConnectionError, ClientException):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"deployment not ready after {timeout}s; logs in {self.log_dir}")
            time.sleep(0.3)

    def _check_processes(self):
        for service, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{service} exited with {process.returncode}: "
                                     f"{self.stdout(service)[-2000:]}")

    # --- looking at it -----------------------------------------------------------

    def client(self, token=None):
        if token is None:
            token = self.admin_token() if callable(self.admin_token) else self.admin_token
        return Client(f"http://127.0.0.1:{self.api_port}/v2.1",
                      f"http://127.0.0.1:{self.image_port}", token, timeout=60)

    def log(self, service):
        path = self.log_dir / f"{service}.log"
        return path.read_text() if path.exists() else ""

    def stdout(self, service):
        path = self.log_dir / f"{service}.stdout"
        return path.read_text(errors="replace") if path.exists() else ""

    def domain_names(self):
        conn = libvirt.open("qemu:///system")
        try:
            return sorted(d.name() for d in conn.listAllDomains()
                          if d.name().startswith(self.name_prefix))
        finally:
            conn.close()

    def remove_leftover_domains(self):
        """Safety net after the tests (which assert there are none)."""
        conn = libvirt.open("qemu:///system")
        try:
            for domain in conn.listAllDomains():
                if domain.name().startswith(self.name_prefix):
                    if domain.isActive():
                        domain.destroy()
                    domain.undefine()
        finally:
            conn.close()


def _apply(config, overrides):
    """``{section: {option: value}}`` written over a ConfigParser."""
    for section, options in overrides.items():
        if section != "DEFAULT" and not config.has_section(section):
            config.add_section(section)
        for option, value in options.items():
            config[section][option] = str(value)


def wait_for_console(client, server_id, text="login:", timeout=120):
    return wait_until(lambda: client.console_output(server_id), lambda out: text in out,
                      timeout, interval=0.5, what=f"{text!r} on the console")


def wait_for_usage(client, memory_mb_used, running_vms, timeout=30):
    """The compute reports freed resources just after the row is deleted."""
    def usage():
        [hypervisor] = client.list_hypervisors(detailed=True)
        return hypervisor["memory_mb_used"], hypervisor["running_vms"]
    wait_until(usage, lambda used: used == (memory_mb_used, running_vms), timeout,
               interval=0.2, what="the hypervisor's usage")


def upload_tiny_image(client, name="tiny"):
    return client.create_image(name, str(TINY_IMAGE), "qcow2")


def export_daemons_under(path):
    """Pids of the qemu-storage-daemon processes (the volume service's NBD
    exports) whose command line names a file under ``path``."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except (FileNotFoundError, NotADirectoryError, ProcessLookupError):
            continue
        if (argv and os.path.basename(argv[0]) == b"qemu-storage-daemon"
                and any(os.fsencode(str(path)) in arg for arg in argv)):
            pids.append(int(entry))
    return pids


def env_or(name, default):
    return os.environ.get(name) or default
