"""Hosts simulated on one machine with Linux namespaces, for the multi-host
integration tests (tests/integration/test_multihost.py).

A *controller* is this machine's own namespaces: its services listen on
127.0.0.1 as in every integration test, and the test process forwards
the ports the computes need (RabbitMQ, the image, network and volume
APIs) from the controller's address on the simulated network
(:class:`PortForwarder`).

A *compute host* (:class:`SimulatedHost`) is

* a network namespace ``mnh-<tag>-<name>`` whose ``eth0`` (a veth) is
  plugged into the simulated network's bridge ``mnhb-<tag>`` in the root
  namespace, with its own address (198.18.<n>.<i>/24, the benchmarking
  range: routed nowhere);
* a mount namespace of its own, held by a ``sleep`` process (the
  *holder*), where a
  fresh tmpfs is mounted over ``/run`` (so ``/run/libvirt`` and
  ``/var/run/libvirt``, its pid files and sockets, are its own) and
  directories of the host's own are bind-mounted over ``/etc/libvirt`` (a
  copy of the machine's configuration without its domains and networks),
  ``/var/lib/libvirt``, ``/var/cache/libvirt``, ``/var/log/libvirt`` and
  the instances path (the same path on every host, as Nova expects);
* its own ``virtlogd`` and ``libvirtd``, an ``sshd`` on port 22 of its
  address (a host key made here, root's login allowed with the test's
  key only), and whatever the test starts there with :meth:`popen`
  (``nsenter`` into both namespaces): mininova-compute and
  mininova-network-agent.

So nothing is shared but the network (and the kernel: cgroups, the
CPUs). :meth:`SimulatedHost.kill` SIGKILLs every process of the host's
namespaces, the guests' QEMUs included (a host that goes away); :meth:`SimulatedHost.remove`
does that and deletes the network namespace and the host's directory.
:class:`SimulatedNetwork` removes its bridge. Both run in a ``finally``.
"""

import os
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import threading
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"
LIBVIRT_DIRS = ("/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt")


def run(*cmd, check=True, timeout=60):
    return subprocess.run([str(c) for c in cmd], check=check, capture_output=True, text=True,
                          timeout=timeout)


class SimulatedNetwork:
    """The wire between the hosts: a bridge in the root namespace holding
    the controller's address."""

    def __init__(self, tag=None):
        self.tag = tag or secrets.token_hex(2)
        self.bridge = f"mnhb-{self.tag}"
        self.prefix = f"198.18.{secrets.randbelow(200) + 20}"
        self.controller_ip = f"{self.prefix}.1"

    def create(self):
        run("ip", "link", "add", self.bridge, "type", "bridge", "forward_delay", "0",
            "stp_state", "0")
        Path(f"/proc/sys/net/ipv6/conf/{self.bridge}/disable_ipv6").write_text("1")
        run("ip", "addr", "add", f"{self.controller_ip}/24", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")
        return self

    def remove(self):
        run("ip", "link", "delete", self.bridge, check=False)


class SimulatedHost:
    def __init__(self, network, name, index, workdir, instances_path, authorized_key):
        self.network = network
        self.name = name
        self.ip = f"{network.prefix}.{index}"
        self.netns = f"mnh-{network.tag}-{name}"
        self.veth = f"mnh{network.tag}{index}"
        self.dir = Path(workdir) / name
        self.instances_path = Path(instances_path)
        self.authorized_key = authorized_key
        self.holder = None
        self.processes = {}

    # --- making it ------------------------------------------------------------------

    def start(self):
        self._make_dirs()
        self._make_netns()
        self._enter_mount_namespace()
        self._start_libvirt()
        self._start_sshd()
        return self

    def _make_dirs(self):
        self.dir.mkdir(parents=True, mode=0o755)
        self.dir.chmod(0o755)
        etc = self.dir / "etc-libvirt"
        shutil.copytree("/etc/libvirt", etc, symlinks=True)
        # The machine's guests, networks, pools and secrets are not ours.
        for leftover in ("qemu", "storage", "secrets"):
            shutil.rmtree(etc / leftover, ignore_errors=True)
        (etc / "qemu").mkdir()
        for path in LIBVIRT_DIRS:
            own = self.dir / _own_name(path)
            own.mkdir()
            _copy_owner(path, own)
            qemu = Path(path) / "qemu"
            if qemu.is_dir():
                (own / "qemu").mkdir()
                _copy_owner(qemu, own / "qemu")
        # The QEMU capabilities the machine's libvirtd probed: a second
        # probe per host would take seconds.
        capabilities = Path("/var/cache/libvirt/qemu/capabilities")
        if capabilities.is_dir():
            shutil.copytree(capabilities,
                            self.dir / _own_name("/var/cache/libvirt") / "qemu" / "capabilities")
        (self.dir / "instances").mkdir(mode=0o755)
        (self.dir / "log").mkdir()
        (self.dir / "state").mkdir()

    def _make_netns(self):
        run("ip", "netns", "add", self.netns)
        run("ip", "link", "add", self.veth, "type", "veth", "peer", "name", "eth0",
            "netns", self.netns)
        run("ip", "link", "set", self.veth, "master", self.network.bridge, "up")
        self.ip_in_ns("addr", "add", f"{self.ip}/24", "dev", "eth0")
        self.ip_in_ns("link", "set", "eth0", "up")
        self.ip_in_ns("link", "set", "lo", "up")

    def ip_in_ns(self, *args):
        return run("ip", "netns", "exec", self.netns, "ip", *args)

    def _enter_mount_namespace(self):
        binds = [(self.dir / "etc-libvirt", "/etc/libvirt")] + [
            (self.dir / _own_name(path), path) for path in LIBVIRT_DIRS] + [
            (self.dir / "instances", self.instances_path)]
        script = ["set -e", "mount -t tmpfs -o mode=0755 tmpfs /run",
                  "mkdir -p /run/libvirt /run/sshd /run/lock"]
        script += [f"mount --bind '{source}' '{target}'" for source, target in binds]
        script += ["echo ready", "exec sleep infinity"]
        self.holder = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, "unshare", "--mount", "--propagation",
             "private", "sh", "-c", "\n".join(script)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        line = self.holder.stdout.readline().strip()
        if line != "ready":
            raise AssertionError(f"{self.name}: the mount namespace failed: "
                                 f"{self.holder.stderr.read()}")

    def nsenter(self, *cmd):
        """``cmd`` as run inside this host (both its namespaces)."""
        return ["nsenter", "-t", str(self.holder.pid), "-m", "-n", "--", *map(str, cmd)]

    def run(self, *cmd, check=True, timeout=60):
        return run(*self.nsenter(*cmd), check=check, timeout=timeout)

    def popen(self, name, *cmd, env=None):
        """Start ``cmd`` in this host, its output in log/<name>.stdout."""
        out = open(self.dir / "log" / f"{name}.stdout", "ab")
        process = subprocess.Popen(self.nsenter(*cmd), stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, env=env)
        self.processes[name] = process
        return process

    def _start_libvirt(self):
        self.run("virtlogd", "-d", "-p", self.dir / "virtlogd.pid")
        self.run("libvirtd", "-d", "-p", self.dir / "libvirtd.pid")
        deadline = time.monotonic() + 60
        while self.run("virsh", "-c", "qemu:///system", "version", check=False).returncode:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: libvirtd did not answer; see "
                                     f"{self.dir / _own_name('/var/log/libvirt')}")
            time.sleep(0.3)

    def _start_sshd(self):
        ssh_dir = self.dir / "sshd"
        ssh_dir.mkdir(mode=0o700)
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ssh_dir / "host_key")
        (ssh_dir / "authorized_keys").write_text(self.authorized_key)
        config = ssh_dir / "sshd_config"
        config.write_text("\n".join([
            "Port 22", f"ListenAddress {self.ip}", f"HostKey {ssh_dir / 'host_key'}",
            f"PidFile {ssh_dir / 'sshd.pid'}",
            f"AuthorizedKeysFile {ssh_dir / 'authorized_keys'}",
            "PermitRootLogin prohibit-password", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
            # scp speaks SFTP since OpenSSH 9.0 (Debian's sshd_config has it).
            "Subsystem sftp /usr/lib/openssh/sftp-server",
            "LogLevel VERBOSE", ""]))
        self.popen("sshd", SSHD, "-D", "-e", "-f", config)
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection((self.ip, 22), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name}: sshd did not listen") from None
                time.sleep(0.2)

    def known_hosts_line(self):
        key = (self.dir / "sshd" / "host_key.pub").read_text().split()
        return f"{self.ip} {key[0]} {key[1]}\n"

    # --- taking it away ---------------------------------------------------------------

    def pids(self):
        """Every process of this host: in its mount namespace (libvirtd,
        sshd, the services, the holder) or in its network namespace (the
        guests' QEMUs, which libvirtd starts in mount namespaces of their
        own)."""
        if self.holder is None:
            return []
        try:
            ours = {os.readlink(f"/proc/{self.holder.pid}/ns/mnt"),
                    os.readlink(f"/proc/{self.holder.pid}/ns/net")}
        except OSError:
            return []
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if {os.readlink(f"/proc/{entry}/ns/mnt"),
                            os.readlink(f"/proc/{entry}/ns/net")} & ours:
                        found.append(int(entry))
                except OSError:
                    continue
        return found

    def kill(self):
        """The host goes away: SIGKILL to all its processes, the holder
        last (so the namespace stays until everything in it is gone)."""
        for _ in range(5):
            pids = [pid for pid in self.pids() if pid != self.holder.pid]
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.3)
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def stop_guests(self):
        """A clean end: libvirt destroys its guests (their cgroups go)."""
        if self.holder is None or self.holder.poll() is not None:
            return
        out = self.run("virsh", "-c", "qemu:///system", "list", "--name", check=False)
        for name in out.stdout.split():
            self.run("virsh", "-c", "qemu:///system", "destroy", name, check=False)

    def remove(self):
        try:
            self.stop_guests()
        finally:
            self.kill()
            if self.holder is not None and self.holder.poll() is None:
                os.killpg(self.holder.pid, signal.SIGKILL)
                self.holder.wait(timeout=10)
            run("ip", "netns", "delete", self.netns, check=False)
            run("ip", "link", "delete", self.veth, check=False)
            shutil.rmtree(self.dir, ignore_errors=True)


def _own_name(path):
    """/var/lib/libvirt -> var-lib-libvirt: the host's copy of it."""
    return path.strip("/").replace("/", "-")


def _copy_owner(source, target):
    stat = os.stat(source)
    os.chown(target, stat.st_uid, stat.st_gid)
    os.chmod(target, stat.st_mode & 0o7777)


class PortForwarder:
    """TCP from ``listen_ip:port`` to ``127.0.0.1:port``, for each port:
    how the computes reach the controller's services, which listen on
    loopback (RabbitMQ also lets its guest user in from there only)."""

    def __init__(self, listen_ip, ports):
        self.servers = []
        for port in ports:
            server = _ForwardingServer((listen_ip, port), _Forward)
            server.target = ("127.0.0.1", port)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)

    def stop(self):
        for server in self.servers:
            server.shutdown()
            server.server_close()


class _ForwardingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Forward(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            upstream = socket.create_connection(self.server.target, timeout=10)
        except OSError:
            return
        upstream.settimeout(None)
        pump = threading.Thread(target=_pump, args=(upstream, self.request), daemon=True)
        pump.start()
        _pump(self.request, upstream)
        pump.join(timeout=5)
        upstream.close()


def _pump(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass
