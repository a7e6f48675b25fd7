"""Running external commands (mininova/processutils.py): the wall-clock
timeout kills and reaps the whole process group, and an error says truly
what stopped a command. Real, tiny processes (sh, sleep, python)."""

import os
import signal
import sys
import threading

import pytest

from mininova import exception, processutils
from tests.waiting import wait_until


def pids_in_group(pgid):
    """Processes still alive in process group ``pgid``."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is the state, fields[2] the process group.
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry))
    return alive


def test_output_comes_back_as_text():
    out, err = processutils.execute("sh", "-c", "echo out; echo err >&2", timeout=10)
    assert (out, err) == ("out\n", "err\n")


def test_env_variables_are_added_to_the_environment():
    out, _err = processutils.execute("sh", "-c", "echo $LC_ALL-$HOME", timeout=10,
                                     env_variables={"LC_ALL": "C"})
    assert out == f"C-{os.environ['HOME']}\n"


def test_a_failure_quotes_the_commands_stderr_and_names_it():
    with pytest.raises(exception.ProcessExecutionFailed) as caught:
        processutils.execute("sh", "-c", "echo 'No such image' >&2; exit 3", timeout=10)
    assert type(caught.value) is exception.ProcessExecutionFailed
    assert caught.value.format_message() == "sh failed: No such image"


def test_a_missing_program_is_a_failure_not_a_crash():
    with pytest.raises(exception.ProcessExecutionFailed,
                       match="no-such-program info failed: .*No such file"):
        processutils.execute("no-such-program", "info", timeout=10)


@pytest.mark.parametrize("cmd, name", [
    (["qemu-img", "info", "-f", "raw", "/x"], "qemu-img info"),
    (["/usr/bin/qemu-img", "convert", "-O", "raw"], "qemu-img convert"),
    (["cp", "--sparse=always", "/a", "/b"], "cp"),
    (["sleep", "5"], "sleep"),
])
def test_a_command_is_named_by_its_program_and_subcommand(cmd, name):
    assert processutils.command_name(cmd) == name


def test_a_command_past_its_timeout_is_killed_with_its_children():
    # A shell that waits on a child, as a wrapper script would.
    with pytest.raises(exception.ProcessTimeout) as caught:
        processutils.execute("sh", "-c", "sleep 30; echo never", timeout=0.5)
    assert caught.value.format_message() == "sh timed out after 0.5 s and was killed"


def test_no_process_of_a_timed_out_command_survives(monkeypatch):
    spawned = []
    real_popen = processutils.subprocess.Popen

    def recording_popen(*args, **kwargs):
        process = real_popen(*args, **kwargs)
        spawned.append(process.pid)
        return process

    monkeypatch.setattr(processutils.subprocess, "Popen", recording_popen)
    with pytest.raises(exception.ProcessTimeout):
        processutils.execute("sh", "-c", "sleep 30 & sleep 30", timeout=0.3)
    # The group was the shell's (start_new_session): all of it was sent
    # SIGKILL, which the orphaned sleeps take a moment to act on.
    wait_until(lambda: pids_in_group(spawned[0]), lambda alive: alive == [], timeout=5,
               interval=0.05, what="the end of every process of the group")


def test_a_cpu_limit_kill_is_reported_as_such():
    spin = [sys.executable, "-c", "while True: pass"]
    with pytest.raises(exception.ProcessLimitExceeded) as caught:
        processutils.execute(*spin, timeout=30, limits=processutils.ProcessLimits(cpu_time=1))
    assert caught.value.format_message().endswith(
        "was stopped by its CPU time limit (1 s)")


def test_a_memory_limit_is_reported_as_such():
    swell = [sys.executable, "-c", "x = bytearray(1024 ** 3)"]
    limits = processutils.ProcessLimits(address_space=256 * 1024 ** 2)
    with pytest.raises(exception.ProcessLimitExceeded) as caught:
        processutils.execute(*swell, timeout=30, limits=limits)
    assert "was stopped by its memory limit (256 MiB of address space)" in (
        caught.value.format_message())
    assert "MemoryError" in caught.value.format_message()


def test_a_kill_from_outside_is_not_blamed_on_the_limits(monkeypatch):
    real_popen = processutils.subprocess.Popen

    def popen_then_kill_soon(*args, **kwargs):
        process = real_popen(*args, **kwargs)
        threading.Timer(0.3, os.kill, (process.pid, signal.SIGKILL)).start()
        return process

    monkeypatch.setattr(processutils.subprocess, "Popen", popen_then_kill_soon)
    limits = processutils.ProcessLimits(cpu_time=30, address_space=2 * 1024 ** 3)
    with pytest.raises(exception.ProcessKilled) as caught:
        processutils.execute("sleep", "30", timeout=30, limits=limits)
    message = caught.value.format_message()
    assert message.startswith("sleep was killed by SIGKILL from outside mininova")


def test_a_process_that_cannot_die_is_left_to_a_reaper(monkeypatch):
    # Stand-in for a process blocked in the kernel: SIGKILL "does not
    # arrive" for longer than the grace period.
    monkeypatch.setattr(processutils, "KILL_GRACE_SECONDS", 0.2)
    real_killpg = os.killpg
    delayed = []

    def slow_killpg(pgid, sig):
        delayed.append(threading.Timer(1.0, real_killpg, (pgid, sig)))
        delayed[-1].start()

    monkeypatch.setattr(processutils.os, "killpg", slow_killpg)
    with pytest.raises(exception.ProcessTimeout):
        processutils.execute("sleep", "30", timeout=0.2)
    # The caller has its error while the process still lives.
    assert delayed[0].is_alive()
    delayed[0].join()


def recorded_argv(monkeypatch):
    """The argv of every process started, in order."""
    started = []
    real_popen = processutils.subprocess.Popen

    def recording_popen(argv, *args, **kwargs):
        started.append(list(argv))
        return real_popen(argv, *args, **kwargs)

    monkeypatch.setattr(processutils.subprocess, "Popen", recording_popen)
    return started


def test_limits_are_set_by_util_linux_prlimit_not_by_a_python_interpreter(monkeypatch):
    started = recorded_argv(monkeypatch)
    limits = processutils.ProcessLimits(cpu_time=30, address_space=2 * 1024 ** 3)
    out, _err = processutils.execute("sh", "-c", "ulimit -t; ulimit -v", timeout=10,
                                     limits=limits)
    # The limits reached the command itself (ulimit -v counts KiB).
    assert out.split() == ["30", str(2 * 1024 ** 2)]
    [argv] = started
    assert os.path.basename(argv[0]) == "prlimit"
    assert argv[1:] == [f"--as={2 * 1024 ** 3}", "--cpu=30", "--", "sh", "-c",
                        "ulimit -t; ulimit -v"]


def test_without_util_linux_prlimit_oslos_wrapper_still_enforces_the_limits(monkeypatch):
    monkeypatch.setattr(processutils.shutil, "which", lambda name: None)
    started = recorded_argv(monkeypatch)
    spin = [sys.executable, "-c", "while True: pass"]
    with pytest.raises(exception.ProcessLimitExceeded, match=r"CPU time limit \(1 s\)"):
        processutils.execute(*spin, timeout=30, limits=processutils.ProcessLimits(cpu_time=1))
    assert started[0][:3] == [sys.executable, "-m", "oslo_concurrency.prlimit"]
