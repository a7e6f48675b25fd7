"""Exporting a volume to a compute host over NBD, one qemu-storage-daemon
per attachment (stands for Cinder's targets, ``cinder/volume/targets/``:
the ``Target`` interface of ``driver.py``, and what the LVM driver does
with tgtd or LIO to export a logical volume over iSCSI).

Cinder's LVM node exports a volume as an iSCSI target; the compute logs in
with os-brick and hands libvirt a block device. mininova's volume node
exports the volume file over NBD, the Network Block Device protocol that
QEMU speaks natively: libvirt gives QEMU ``<source protocol='nbd'>`` and no
block device appears on the compute at all, on this machine or another.

One export is one process::

    qemu-storage-daemon \\
      --blockdev driver=file,node-name=file0,filename=$volumes_path/volume-<id>,discard=unmap \\
      --blockdev driver=raw,node-name=disk0,file=file0,discard=unmap \\
      --nbd-server addr.type=inet,addr.host=127.0.0.1,addr.port=10809 \\
      --export type=nbd,id=export0,node-name=disk0,name=volume-<id>,writable=on \\
      --pidfile $volumes_path/exports/<attachment id>.pid

The file node reads the file; the ``raw`` node on top names the format, so
qemu never probes a guest-written header; ``discard=unmap`` lets a guest's
TRIM punch holes back into the sparse file. The daemon writes its pid file
once the export listens (its documented readiness signal), which is what
:meth:`NbdTarget.create_export` waits for, up to ``[volume]
export_start_timeout``. It is started with :class:`subprocess.Popen`, not
:func:`mininova.utils.execute`: ``execute`` is for commands that end (it
waits for them, under a wall-clock limit), and an export runs until its
attachment is deleted.

**Why qemu-storage-daemon, not qemu-nbd.** Both serve NBD from the same
QEMU block layer. qemu-nbd serves one client and exits unless told
``--persistent --shared``; qemu-storage-daemon is the long-running daemon
QEMU now recommends, takes the same ``--blockdev`` graph a student sees in
libvirt's QEMU command lines, serves any number of clients (the guest,
and a ``qemu-img info nbd://...`` next to it), and has a documented
readiness signal (the pid file).

**Why one daemon per attachment.** Closing an attachment is then killing
one process: nothing else is touched, and ``ps`` shows which volumes are
exported to whom. One TCP port per export, from ``[volume] nbd_port_min``
to ``nbd_port_max``.

**Restarts.** The daemons run in sessions of their own, so stopping
mininova-volume (even killing its process group) leaves them serving: the
guests' I/O goes on, as it does when cinder-volume restarts while tgtd
keeps its targets. At start, :meth:`NbdTarget.ensure_export` adopts the
daemon of each attachment still open (its pid file, its command line), and
starts a new one on the same port when it is gone (after a reboot), so
that the ``connection_info`` Nova saved stays true (Cinder's
``ensure_export``). Stopping a daemon is SIGTERM, then SIGKILL after
:data:`STOP_GRACE_SECONDS`, then reaping it when it is our child.

Left out: NBD over TLS and authorization (``tls-creds``, ``tls-authz``):
an export is open to whoever reaches its port, so ``nbd_host`` must be on
a network only compute hosts reach (127.0.0.1 by default); unix-socket
exports; multipath and read-only (``ro``) attachments.
"""

import os
import signal
import socket
import subprocess
import threading
import time

from oslo_log import log as logging

from mininova.conf import CONF
from mininova.volume.service import exception

LOG = logging.getLogger(__name__)

DAEMON = "qemu-storage-daemon"
STOP_GRACE_SECONDS = 5
POLL_SECONDS = 0.02
EXPORTS_DIR = "exports"

# Daemons this process started, by pid: only a parent can reap its
# children (wait for them), and a child never reaped stays a zombie.
_CHILDREN = {}
_CHILDREN_LOCK = threading.Lock()


class Export:
    """A running export: where it listens, what it serves, its daemon."""

    def __init__(self, host, port, name, pid):
        self.host = host
        self.port = port
        self.name = name
        self.pid = pid

    def __repr__(self):
        return f"Export(nbd://{self.host}:{self.port}/{self.name}, pid={self.pid})"


class NbdTarget:
    """The exports of one volume service: one daemon per attachment."""

    protocol = "nbd"

    def __init__(self, volumes_path=None, host=None, port_min=None, port_max=None):
        self.exports_path = os.path.join(volumes_path or CONF.volume.volumes_path, EXPORTS_DIR)
        self.host = host or CONF.volume.nbd_host
        self.port_min = port_min or CONF.volume.nbd_port_min
        self.port_max = port_max or CONF.volume.nbd_port_max

    def do_setup(self):
        os.makedirs(self.exports_path, exist_ok=True)

    # --- opening and closing -------------------------------------------------------------

    def create_export(self, volume_path, export_name, attachment_id, used_ports=()):
        """Start the daemon serving ``volume_path`` for one attachment, on a
        free port of the range; return its :class:`Export`."""
        tried = set(used_ports)
        while True:
            port = self._free_port(tried, export_name)
            tried.add(port)
            try:
                return self._start(volume_path, export_name, attachment_id, port)
            except _PortTaken:
                # Another program took the port between our check and the
                # daemon's bind: the next one.
                LOG.info("Port %s was taken meanwhile, trying another", port)

    def ensure_export(self, volume_path, export_name, attachment_id, port):
        """The export of an attachment still open after a restart: the
        running daemon adopted, or a new one on the same ``port``."""
        pid = self.find_daemon(attachment_id)
        if pid is not None:
            LOG.info("Adopted the NBD export of %(name)s for attachment %(att)s: "
                     "%(daemon)s pid %(pid)s still serves it",
                     {"name": export_name, "att": attachment_id, "daemon": DAEMON, "pid": pid})
            return Export(self.host, port, export_name, pid)
        LOG.warning("The NBD export of %(name)s for attachment %(att)s is gone "
                    "(host rebooted?): starting it again on port %(port)s",
                    {"name": export_name, "att": attachment_id, "port": port})
        try:
            return self._start(volume_path, export_name, attachment_id, port)
        except _PortTaken as exc:
            raise exception.ExportFailure(volume_id=export_name, reason=str(exc)) from exc

    def remove_export(self, attachment_id):
        """Stop the daemon of an attachment (if any) and remove its files."""
        pid = self.find_daemon(attachment_id)
        if pid is not None:
            _stop(pid)
            LOG.info("Removed the NBD export of attachment %(att)s: %(daemon)s pid %(pid)s "
                     "ended", {"att": attachment_id, "daemon": DAEMON, "pid": pid})
        for suffix in (".pid", ".log"):
            _remove(self._file(attachment_id, suffix))

    def exported_attachments(self):
        """Attachment ids that have a pid file: the start-up recovery kills
        the daemons of those no attachment knows any more."""
        return sorted(name[:-len(".pid")] for name in _listdir(self.exports_path)
                      if name.endswith(".pid"))

    def find_daemon(self, attachment_id):
        """The pid of the attachment's daemon if it runs, else None.

        The pid file alone is not proof: a daemon killed with SIGKILL
        leaves it behind, and its pid may be another process's now. The
        process must be a qemu-storage-daemon started with this pid file.
        """
        pidfile = self._file(attachment_id, ".pid")
        pid = _read_pid(pidfile)
        if pid is None or not _is_daemon_of(pid, pidfile):
            return None
        return pid

    # --- connection info -----------------------------------------------------------------

    def initialize_connection(self, export, volume_id):
        """What the compute needs to reach the export, in the shape of
        Cinder's driver answer: ``driver_volume_type`` and ``data``.

        ``hosts``/``ports``/``name`` are the keys Nova's network volume
        driver (``nova/virt/libvirt/volume/net.py``) reads to write
        ``<source protocol='nbd' name=...><host name=... port=.../>``, as
        it does for Ceph RBD; ``host``/``port`` say the same for a reader.
        """
        return {
            "driver_volume_type": self.protocol,
            "data": {
                "host": export.host,
                "port": export.port,
                "name": export.name,
                "hosts": [export.host],
                "ports": [str(export.port)],
                "volume_id": volume_id,
                "access_mode": "rw",
                "discard": True,
                "encrypted": False,
                "qos_specs": None,
            },
        }

    # --- the daemon --------------------------------------------------------------------

    def _start(self, volume_path, export_name, attachment_id, port):
        self.do_setup()
        pidfile = self._file(attachment_id, ".pid")
        logfile = self._file(attachment_id, ".log")
        _remove(pidfile)  # a stale one would pass for readiness
        argv = daemon_command(volume_path, export_name, self.host, port, pidfile)
        LOG.debug("Running cmd (subprocess): %s", " ".join(argv))
        process = _spawn(argv, logfile, export_name)
        try:
            _wait_until_ready(process, pidfile, logfile, export_name,
                              CONF.volume.export_start_timeout)
        except BaseException:
            _stop(process.pid)
            _remove(pidfile)
            raise
        LOG.info("Exported %(name)s over NBD at %(host)s:%(port)s for attachment %(att)s: "
                 "%(daemon)s pid %(pid)s",
                 {"name": export_name, "host": self.host, "port": port, "att": attachment_id,
                  "daemon": DAEMON, "pid": process.pid})
        return Export(self.host, port, export_name, process.pid)

    def _free_port(self, excluded, export_name):
        for port in range(self.port_min, self.port_max + 1):
            if port not in excluded and _bindable(self.host, port):
                return port
        raise exception.ExportFailure(
            volume_id=export_name, reason=f"no free port left between {self.port_min} and "
                                  f"{self.port_max} ([volume] nbd_port_min/nbd_port_max)")

    def _file(self, attachment_id, suffix):
        return os.path.join(self.exports_path, f"{attachment_id}{suffix}")


def daemon_command(volume_path, export_name, host, port, pidfile):
    """The qemu-storage-daemon command line of one export."""
    return [
        DAEMON,
        "--blockdev", f"driver=file,node-name=file0,filename={_escape(volume_path)},"
                      "discard=unmap",
        "--blockdev", "driver=raw,node-name=disk0,file=file0,discard=unmap",
        "--nbd-server", f"addr.type=inet,addr.host={host},addr.port={port}",
        "--export", f"type=nbd,id=export0,node-name=disk0,name={export_name},writable=on",
        "--pidfile", pidfile,
    ]


def _escape(value):
    # QEMU's option syntax: a comma inside a value is written twice.
    return str(value).replace(",", ",,")


class _PortTaken(Exception):
    pass


def _spawn(argv, logfile, export_name):
    """Start the daemon in a session of its own (a signal to the volume
    service's process group must not reach it), output to its log file."""
    with open(logfile, "ab") as log:
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, close_fds=True,
                                       start_new_session=True)
        except OSError as exc:
            raise exception.ExportFailure(volume_id=export_name, reason=str(exc)) from exc
    with _CHILDREN_LOCK:
        _CHILDREN[process.pid] = process
    return process


def _wait_until_ready(process, pidfile, logfile, export_name, timeout):
    """Until the daemon has written its pid file (it listens), died, or
    run out of time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = _tail(logfile)
            if "Address already in use" in output:
                raise _PortTaken(output)
            raise exception.ExportFailure(
                volume_id=export_name,
                reason=f"{DAEMON} exited with {process.returncode}: {output}")
        if _read_pid(pidfile) == process.pid:
            return
        time.sleep(POLL_SECONDS)
    raise exception.ExportFailure(
        volume_id=export_name,
        reason=f"{DAEMON} did not start listening within {timeout} s: {_tail(logfile)}")


def _stop(pid):
    """SIGTERM (the daemon closes its export and exits), SIGKILL if it has
    not after the grace time, and reap it when it is our child."""
    if not _signal(pid, signal.SIGTERM):
        _reap(pid)
        return
    if not _wait_gone(pid, STOP_GRACE_SECONDS):
        LOG.warning("%s pid %s did not stop on SIGTERM: killing it", DAEMON, pid)
        _signal(pid, signal.SIGKILL)
        _wait_gone(pid, STOP_GRACE_SECONDS)
    _reap(pid)


def stop_all_children():
    """Stop every daemon this process started (tests, and a volume service
    that is told to take its exports down with it)."""
    with _CHILDREN_LOCK:
        pids = list(_CHILDREN)
    for pid in pids:
        _stop(pid)


def _signal(pid, signum):
    try:
        os.kill(pid, signum)
        return True
    except ProcessLookupError:
        return False


def _wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _CHILDREN_LOCK:
            child = _CHILDREN.get(pid)
        if child is not None:
            if child.poll() is not None:
                return True
        elif not _running(pid):
            return True
        time.sleep(POLL_SECONDS)
    return False


def _reap(pid):
    with _CHILDREN_LOCK:
        child = _CHILDREN.pop(pid, None)
    if child is not None:
        child.wait()
        return
    try:
        # Adopted by a new incarnation of the service in the same process
        # (the tests restart it so): still our child, though not in the table.
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass  # another parent's (init's) to reap


def _running(pid):
    """Alive and not a zombie (a zombie has ended, only its exit status waits)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _is_daemon_of(pid, pidfile):
    if not _running(pid):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            argv = [os.fsdecode(arg) for arg in cmdline.read().split(b"\0") if arg]
    except FileNotFoundError:
        return False
    return bool(argv) and os.path.basename(argv[0]) == DAEMON and pidfile in argv


def _read_pid(pidfile):
    try:
        with open(pidfile) as f:
            return int(f.read().strip())
    except (FileNotFoundError, ValueError):
        # Missing, or being written (the daemon truncates, then writes).
        return None


def _bindable(host, port):
    """Whether nobody listens on the port (qemu binds with SO_REUSEADDR too,
    so a port with connections in TIME_WAIT counts as free)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _tail(path, limit=2000):
    try:
        with open(path, "rb") as f:
            return os.fsdecode(f.read()[-limit:]).strip()
    except FileNotFoundError:
        return ""


def _listdir(path):
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
