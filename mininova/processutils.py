"""Running external commands under limits (stands for oslo.concurrency's
``processutils``, through which Nova runs qemu-img and every other tool).

Nova runs ``qemu-img info`` under CPU and memory limits (OSSA-2016-012), set
in the child by oslo.concurrency's ``prlimit`` wrapper, a Python program that
sets them and then execs the command. We set the same limits with
util-linux's ``prlimit`` instead, which does the same in C: a Python
interpreter started for every ``qemu-img info`` cost ~30 ms of CPU, five
times the ``qemu-img info`` itself (oslo's wrapper is still used where
util-linux's is missing). What that leaves open is a command that waits
without using CPU (stuck I/O, a wedged NFS mount): no CPU limit ever stops
it, and the operation that runs it hangs for good. So here:

* every command has a **wall-clock timeout**: past it, its whole process
  group gets SIGKILL and is reaped, and :class:`~mininova.exception.ProcessTimeout`
  says which command timed out after how long;
* a command that dies of a signal is reported for what killed it, and only
  for what we can tell: its CPU limit (it used all its CPU time), its memory
  limit (it said it could not allocate), our own timeout, or else a signal
  from outside (an operator's ``kill``, the kernel's OOM killer);
* a process that does not die even of SIGKILL (blocked inside the kernel) is
  left to a reaper thread: the caller gets its error now, not when the
  kernel lets go.

The log lines are oslo.concurrency's: ``Running cmd (subprocess): ...`` and
``CMD "..." returned: N in 0.012s``.

Left out: run_as_root / rootwrap / privsep (the services run as root here),
retries (``attempts``), feeding the command's stdin.
"""

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from oslo_concurrency import processutils as oslo_processutils
from oslo_log import log as logging

from mininova import exception

LOG = logging.getLogger(__name__)

# oslo.concurrency's: cpu_time (seconds), address_space (bytes), ...
ProcessLimits = oslo_processutils.ProcessLimits

# How long to wait for a process to die once it has been sent SIGKILL.
KILL_GRACE_SECONDS = 5
# A process that used this close to its CPU limit was stopped by it (the
# kernel counts in ticks; the limit is in whole seconds).
CPU_LIMIT_SLACK_SECONDS = 0.5
# What a program says on stderr when an allocation failed (glib's g_malloc,
# libc's strerror(ENOMEM), Python): the sign of a memory limit reached.
OUT_OF_MEMORY_WORDS = ("cannot allocate memory", "failed to allocate", "out of memory",
                       "memoryerror")


def command_name(cmd):
    """How an error names a command: the program, and its subcommand if it
    has one (``qemu-img info``, ``cp``)."""
    name = os.path.basename(str(cmd[0]))
    if len(cmd) > 1 and str(cmd[1]).isalpha():
        name = f"{name} {cmd[1]}"
    return name


def execute(*cmd, timeout, limits=None, env_variables=None):
    """Run ``cmd``; return its ``(stdout, stderr)`` as text.

    ``timeout``: wall-clock seconds before the command is killed.
    ``limits``: a :class:`ProcessLimits` (CPU seconds, address space).
    ``env_variables``: added to this process's environment.

    Raises ProcessTimeout, ProcessLimitExceeded, ProcessKilled, or
    ProcessExecutionFailed (a non-zero exit, with the command's stderr).
    """
    cmd = [str(part) for part in cmd]
    name = command_name(cmd)
    argv = cmd if limits is None else _with_limits(cmd, limits)
    env = dict(os.environ, **env_variables) if env_variables else None
    LOG.debug("Running cmd (subprocess): %s", " ".join(cmd))
    started = time.monotonic()
    # Files, not pipes: nobody has to read while the command runs, and a
    # command that writes a lot can never block on a full pipe.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=err, env=env, close_fds=True,
                                       start_new_session=True)
        except OSError as exc:
            raise exception.ProcessExecutionFailed(cmd=name, reason=str(exc)) from exc
        ended = _wait(process, name, timeout)
        stdout, stderr = _read(out), _read(err)
    LOG.debug('CMD "%s" returned: %s in %0.3fs', " ".join(cmd), process.returncode,
              time.monotonic() - started)
    _raise_for_failure(name, ended, timeout, limits, process.returncode, stdout, stderr)
    return stdout, stderr


def _with_limits(cmd, limits):
    """``cmd`` run under ``limits``: a small program sets them on itself,
    then execs the command, which so stays the process we wait for (its CPU
    time is the one a limit kill is told by). oslo.concurrency's wrapper
    takes the same options as util-linux's ``prlimit``."""
    prlimit = shutil.which("prlimit")
    wrapper = [prlimit] if prlimit else [sys.executable, "-m", "oslo_concurrency.prlimit"]
    return [*wrapper, *limits.prlimit_args(), "--", *cmd]


class _Ended:
    """How a process ended: killed by our timeout or not, its exit status,
    and the CPU time it used."""

    def __init__(self, timed_out, status=None, cpu_seconds=0.0):
        self.timed_out = timed_out
        self.status = status
        self.cpu_seconds = cpu_seconds


def _wait(process, name, timeout):
    """Wait for ``process`` up to ``timeout`` seconds, kill its group past
    that, and reap it with its resource usage (Popen's own wait would not
    give the CPU time, which tells a CPU-limit kill from any other)."""
    pidfd = os.pidfd_open(process.pid)
    try:
        timed_out = not _readable(pidfd, timeout)
        if timed_out:
            LOG.warning("%s has run for %s s: killing it", name, timeout)
            # The whole group: a wrapper script's children too. The group
            # still exists, since its leader is not reaped yet.
            os.killpg(process.pid, signal.SIGKILL)
            if not _readable(pidfd, KILL_GRACE_SECONDS):
                LOG.error("%s did not die of SIGKILL within %d s (blocked in the "
                          "kernel?); it will be reaped when it does", name,
                          KILL_GRACE_SECONDS)
                threading.Thread(target=process.wait, name=f"reaper-{process.pid}",
                                 daemon=True).start()
                return _Ended(timed_out=True)
        _pid, status, usage = os.wait4(process.pid, 0)
    finally:
        os.close(pidfd)
    # Reaped here: Popen must not try to wait for it again.
    process.returncode = os.waitstatus_to_exitcode(status)
    return _Ended(timed_out, status, usage.ru_utime + usage.ru_stime)


def _readable(fd, timeout):
    """A pidfd becomes readable when its process exits."""
    readable, _w, _x = select.select([fd], [], [], timeout)
    return bool(readable)


def _read(file):
    file.seek(0)
    return os.fsdecode(file.read())


def _raise_for_failure(name, ended, timeout, limits, returncode, stdout, stderr):
    """Nothing if the command succeeded; else the error that says truthfully
    why it did not."""
    if ended.timed_out:
        raise exception.ProcessTimeout(cmd=name, timeout=timeout)
    if returncode == 0:
        return
    killed_by = -returncode if returncode < 0 else None
    if (killed_by in (signal.SIGKILL, signal.SIGXCPU) and limits and limits.cpu_time
            and ended.cpu_seconds >= limits.cpu_time - CPU_LIMIT_SLACK_SECONDS):
        raise exception.ProcessLimitExceeded(
            cmd=name, limit=f"CPU time limit ({limits.cpu_time} s)")
    if limits and limits.address_space and _out_of_memory(stderr):
        raise exception.ProcessLimitExceeded(
            cmd=name, limit=f"memory limit ({_size(limits.address_space)} of address "
                            f"space): {stderr.strip()}")
    if killed_by:
        raise exception.ProcessKilled(cmd=name, signal=signal.Signals(killed_by).name,
                                      cpu_seconds=round(ended.cpu_seconds, 1))
    reason = (stderr or stdout).strip() or f"exit code {returncode}"
    raise exception.ProcessExecutionFailed(cmd=name, reason=reason)


def _out_of_memory(stderr):
    text = stderr.lower()
    return any(words in text for words in OUT_OF_MEMORY_WORDS)


def _size(nbytes):
    gib = nbytes / 1024 ** 3
    return f"{gib:g} GiB" if gib >= 1 else f"{nbytes // 1024 ** 2} MiB"
