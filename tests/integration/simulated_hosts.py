"""Hosts simulated on one machine with Linux namespaces, for the multi-host
integration tests (tests/integration/test_multihost.py): a controller and
compute hosts, each set up by ``bin/mininova-quickstart --role …`` run
inside its namespaces.

A host (:class:`SimulatedHost`) is

* a network namespace ``mnh-<tag>-<name>`` whose ``eth0`` (a veth) is
  plugged into the simulated network's bridge ``mnhb-<tag>`` in the root
  namespace, with its own address (198.18.<n>.<i>/24, the benchmarking
  range: routed nowhere; the controller is .1, the computes .2 and .3, the
  machine itself .254 on the bridge, where the test process reaches the
  controller's APIs). Its own port space: the controller's fixed ports
  (5000, 5672, 8774, 8776, 9292, 9696, epmd's 4369) are free in it,
  whatever the machine runs on its own;
* a mount namespace of its own, held by a ``sleep`` process (the
  *holder*), where a fresh tmpfs is mounted over ``/run`` (so the daemons'
  pid files and sockets, ``/run/libvirt``, ``/run/mininova`` and the DHCP
  namespaces' ``/run/netns`` are its own) and directories of the host's own
  are bind-mounted over every path its role writes (:data:`OWN_PATHS`):
  mininova's (``/etc/mininova``, ``/var/lib/mininova``, ``/var/log/mininova``:
  Keystone's configuration, keys and database are there too),
  ``/etc/ssh`` (a copy with a host key of its own), root's ``~/.ssh`` (the
  lab's key, as ``vagrant/provision.sh`` installs it), ``/usr/local/bin``
  (empty: the role links its commands there); a compute's libvirt paths
  (``/etc/libvirt`` a copy of the machine's without its domains and
  networks); the controller's RabbitMQ paths (``/etc/rabbitmq`` a copy of
  the machine's, an empty ``/var/lib/rabbitmq``: its own Erlang cookie and
  mnesia) and ``/etc/openstack`` (clouds.yaml).

It is then set up as a real host is: :meth:`SimulatedHost.quickstart`
runs ``bin/mininova-quickstart --role controller|compute`` inside both
namespaces (``nsenter``). So nothing is shared but the network (and the
kernel: cgroups, the CPUs, the PID namespace, which is why the role
script finds its daemons by the pid files in its /run, never by name).
:meth:`SimulatedHost.kill` SIGKILLs every process of the host's
namespaces, the guests' QEMUs and the DHCP namespaces' dnsmasq included
(a host that goes away); :meth:`SimulatedHost.remove` does that and
deletes the network namespace and the host's directory.
:class:`SimulatedNetwork` removes its bridge. Both run in a ``finally``.
"""

import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "bin" / "mininova-quickstart"
LIBVIRT_DIRS = ("/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt")
RABBITMQ_DIRS = ("/var/lib/rabbitmq", "/var/log/rabbitmq")
# What every host has of its own (bind mounts over the machine's), besides /run.
HOST_PATHS = ("/etc/mininova", "/var/lib/mininova", "/var/log/mininova", "/etc/ssh",
              "/root/.ssh", "/usr/local/bin")
# ... and what each role writes besides.
OWN_PATHS = {
    "compute": ("/etc/libvirt", *LIBVIRT_DIRS, *HOST_PATHS),
    "controller": ("/etc/rabbitmq", *RABBITMQ_DIRS, "/etc/openstack", *HOST_PATHS),
}
# The key bin/mininova-quickstart --role compute uses by default (the lab's).
LAB_KEY = "/root/.ssh/mininova_lab"
# A root shell's environment on a fresh host: nothing of the test's (its
# venv, OS_* or MININOVA_* variables) leaks into the role script.
HOST_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root", "LANG": "C.UTF-8"}


def run(*cmd, check=True, timeout=60):
    return subprocess.run([str(c) for c in cmd], check=check, capture_output=True, text=True,
                          timeout=timeout)


class SimulatedNetwork:
    """The wire between the hosts: a bridge in the root namespace, where
    the machine itself (the test process) has the address .254."""

    def __init__(self, tag=None):
        self.tag = tag or secrets.token_hex(2)
        self.bridge = f"mnhb-{self.tag}"
        self.prefix = f"198.18.{secrets.randbelow(200) + 20}"
        self.machine_ip = f"{self.prefix}.254"

    def create(self):
        run("ip", "link", "add", self.bridge, "type", "bridge", "forward_delay", "0",
            "stp_state", "0")
        Path(f"/proc/sys/net/ipv6/conf/{self.bridge}/disable_ipv6").write_text("1")
        run("ip", "addr", "add", f"{self.machine_ip}/24", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")
        return self

    def remove(self):
        run("ip", "link", "delete", self.bridge, check=False)


class SimulatedHost:
    def __init__(self, network, name, index, workdir, lab_key, role="compute"):
        """``lab_key``: the private key every host gets as root's
        mininova_lab (and its public half in root's authorized_keys).
        ``role``: which paths it has of its own (:data:`OWN_PATHS`)."""
        self.network = network
        self.name = name
        self.role = role
        self.own_paths = OWN_PATHS[role]
        self.ip = f"{network.prefix}.{index}"
        self.netns = f"mnh-{network.tag}-{name}"
        self.veth = f"mnh{network.tag}{index}"
        self.dir = Path(workdir) / name
        self.lab_key = Path(lab_key)
        self.holder = None
        # Mount points this machine lacked, made for the bind mounts and
        # removed again (when still empty) with the host.
        self.made_mount_points = []

    def own(self, path):
        """Where ``path`` inside this host is, seen from the machine (one
        of its :data:`OWN_PATHS` or below)."""
        for own_path in self.own_paths:
            if path == own_path or path.startswith(own_path + "/"):
                return self.dir / _own_name(own_path) / path[len(own_path):].lstrip("/")
        raise ValueError(f"{path} is the machine's, not {self.name}'s own")

    # --- making it ------------------------------------------------------------------

    def start(self):
        self._make_dirs()
        self._make_netns()
        self._enter_mount_namespace()
        return self

    def _make_dirs(self):
        self.dir.mkdir(parents=True, mode=0o755)
        self.dir.chmod(0o755)
        for path in self.own_paths:
            (self.dir / _own_name(path)).mkdir(mode=0o755)
        if self.role == "compute":
            self._copy_libvirt_config()
        else:
            self._copy_rabbitmq_config()
        self._make_ssh_config()
        (self.dir / "log").mkdir()

    def _copy_libvirt_config(self):
        etc = self.own("/etc/libvirt")
        etc.rmdir()
        shutil.copytree("/etc/libvirt", etc, symlinks=True)
        # The machine's guests, networks, pools and secrets are not ours.
        for leftover in ("qemu", "storage", "secrets"):
            shutil.rmtree(etc / leftover, ignore_errors=True)
        (etc / "qemu").mkdir()
        for path in LIBVIRT_DIRS:
            own = self.own(path)
            _copy_owner(path, own)
            qemu = Path(path) / "qemu"
            if qemu.is_dir():
                (own / "qemu").mkdir()
                _copy_owner(qemu, own / "qemu")
        # The QEMU capabilities the machine's libvirtd probed: a second
        # probe per host would take seconds.
        capabilities = Path("/var/cache/libvirt/qemu/capabilities")
        if capabilities.is_dir():
            shutil.copytree(capabilities, self.own("/var/cache/libvirt/qemu/capabilities"))

    def _copy_rabbitmq_config(self):
        """/etc/rabbitmq: the machine's (what its package and set-up left);
        /var/lib/rabbitmq and /var/log/rabbitmq empty, RabbitMQ's: the node
        makes its Erlang cookie and mnesia on its first start, as on a
        fresh machine."""
        etc = self.own("/etc/rabbitmq")
        etc.rmdir()
        shutil.copytree("/etc/rabbitmq", etc, symlinks=True)
        _copy_owner("/etc/rabbitmq", etc)
        for path in RABBITMQ_DIRS:
            _copy_owner(path, self.own(path))

    def _make_ssh_config(self):
        """/etc/ssh: the machine's sshd and ssh configuration with a host
        key of this host's own. Root's ~/.ssh: what vagrant/provision.sh
        installs on a lab node (the lab key, both halves; its public half
        authorized; new host keys of the lab's nodes taken on first use)."""
        etc = self.own("/etc/ssh")
        etc.rmdir()
        shutil.copytree("/etc/ssh", etc, symlinks=True,
                        ignore=shutil.ignore_patterns("ssh_host_*"))
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{self.name}",
            "-f", etc / "ssh_host_ed25519_key")
        dot_ssh = self.own("/root/.ssh")
        dot_ssh.chmod(0o700)
        shutil.copyfile(self.lab_key, dot_ssh / "mininova_lab")
        (dot_ssh / "mininova_lab").chmod(0o600)
        public = self.lab_key.with_suffix(".pub").read_text()
        (dot_ssh / "mininova_lab.pub").write_text(public)
        (dot_ssh / "authorized_keys").write_text(public)
        (dot_ssh / "authorized_keys").chmod(0o600)
        (dot_ssh / "config").write_text(
            f"Host {self.network.prefix}.*\n    IdentityFile {LAB_KEY}\n"
            "    StrictHostKeyChecking accept-new\n")

    def host_key(self):
        return self.own("/etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[:2]

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
        for path in self.own_paths:
            if not Path(path).exists():
                Path(path).mkdir(parents=True)
                self.made_mount_points.append(Path(path))
        script = ["set -e", "mount -t tmpfs -o mode=0755 tmpfs /run", "mkdir -p /run/lock"]
        script += [f"mount --bind '{self.dir / _own_name(path)}' '{path}'"
                   for path in self.own_paths]
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

    def quickstart(self, *args, timeout=300):
        """``bin/mininova-quickstart *args`` run as root on this host, its
        output in log/quickstart-<n>.log (returned); a failure raises with
        the output's end. Its daemons stay in the host's namespaces."""
        number = len(list((self.dir / "log").glob("quickstart-*.log"))) + 1
        log = self.dir / "log" / f"quickstart-{number}.log"
        with open(log, "wb") as out:
            result = subprocess.run(self.nsenter(QUICKSTART, *args), stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=HOST_ENV, cwd="/", timeout=timeout)
        output = log.read_text(errors="replace")
        if result.returncode != 0:
            raise AssertionError(f"{self.name}: bin/mininova-quickstart {' '.join(args)} "
                                 f"exited with {result.returncode}:\n{output[-4000:]}")
        return output

    def pid_from_file(self, path):
        """The pid a daemon of this host wrote to ``path`` (in its own /run)."""
        return int(self.run("cat", path).stdout)

    def mount_namespace_of(self, pid):
        return os.readlink(f"/proc/{pid}/ns/mnt")

    # --- taking it away ---------------------------------------------------------------

    def pids(self):
        """Every process of this host: in its mount namespace (libvirtd,
        sshd, RabbitMQ and epmd, Keystone, the services, the holder), in its
        network namespace (the guests' QEMUs, which libvirtd starts in mount
        namespaces of their own) or in a network namespace it made itself
        (a DHCP namespace's dnsmasq, which ``ip netns exec`` gives a mount
        namespace of its own too)."""
        if self.holder is None:
            return []
        try:
            ours = {os.readlink(f"/proc/{self.holder.pid}/ns/mnt"),
                    os.readlink(f"/proc/{self.holder.pid}/ns/net")}
        except OSError:
            return []
        ours |= self.named_netns()
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

    def named_netns(self):
        """The network namespaces named in this host's own /run/netns (the
        controller's qdhcp-…), as /proc/<pid>/ns/net names them."""
        netns_dir = Path(f"/proc/{self.holder.pid}/root/run/netns")
        found = set()
        try:
            names = os.listdir(netns_dir)
        except OSError:
            return found
        for name in names:
            try:
                found.add(f"net:[{os.stat(netns_dir / name).st_ino}]")
            except OSError:
                continue
        return found

    def kill(self):
        """The host goes away: SIGKILL to all its processes, the holder
        last (so the namespace stays until everything in it is gone)."""
        for _ in range(10):
            pids = [pid for pid in self.pids() if pid != self.holder.pid]
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.3)

    def stop_guests(self):
        """A clean end: libvirt destroys its guests (their cgroups go)."""
        if self.role != "compute" or self.holder is None or self.holder.poll() is not None:
            return
        out = self.run("virsh", "-c", "qemu:///system", "list", "--name", check=False)
        for name in out.stdout.split():
            self.run("virsh", "-c", "qemu:///system", "destroy", name, check=False)

    def remove(self):
        try:
            self.stop_guests()
        finally:
            if self.holder is not None:
                self.kill()
                if self.holder.poll() is None:
                    os.killpg(self.holder.pid, signal.SIGKILL)
                    self.holder.wait(timeout=10)
            run("ip", "netns", "delete", self.netns, check=False)
            run("ip", "link", "delete", self.veth, check=False)
            shutil.rmtree(self.dir, ignore_errors=True)
            for path in self.made_mount_points:
                try:
                    path.rmdir()
                except OSError:
                    pass  # someone else put something there meanwhile: theirs


def _own_name(path):
    """/var/lib/libvirt -> var-lib-libvirt: the host's copy of it."""
    return path.strip("/").replace("/", "-")


def _copy_owner(source, target):
    stat = os.stat(source)
    os.chown(target, stat.st_uid, stat.st_gid)
    os.chmod(target, stat.st_mode & 0o7777)
