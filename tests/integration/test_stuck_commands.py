"""A qemu-img that hangs without using CPU (stuck I/O, a wedged NFS mount),
first on the compute's PATH: its CPU limit would never stop it, its
wall-clock limit does. The build ends in ERROR with a fault that names the
command and its limit, a delete made during the hang finishes, and nothing
is left: no domain, no files, no process."""

import os
import time

import pytest

from tests.integration import deployment as dep
from tests.integration.conftest import run_deployment
from tests.integration.test_build_failures import assert_nothing_left

# The compute's [DEFAULT] command_timeout here (60 s by default).
COMMAND_TIMEOUT = 5
# What a build needs besides the hung command: the API, the scheduler, the
# claim, the download; generous, this machine's two cores are shared.
BUILD_MARGIN = 45


@pytest.fixture(scope="module")
def fake_bin(work_root):
    """A directory with a ``qemu-img`` that waits forever, as one stuck in
    I/O does, through a child (so the whole process group must be killed).
    Each process writes its pid in ``pids``."""
    path = work_root / "fake-qemu-img"
    path.mkdir(mode=0o755)
    script = path / "qemu-img"
    script.write_text(f"""#!/bin/sh
echo $$ >> {path}/pids
sleep 3600 &
echo $! >> {path}/pids
wait
""")
    script.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def cloud(work_root, rabbit_url, fake_bin):
    path = work_root / "stuck_commands"
    path.mkdir(mode=0o755)
    yield from run_deployment(
        path, rabbit_url, f"sqlite:///{path}/mininova.sqlite",
        compute_config={"DEFAULT": {"command_timeout": COMMAND_TIMEOUT}},
        service_env={"mininova-compute": {"PATH": f"{fake_bin}:{os.environ['PATH']}"}})


def alive(pid):
    """Running, not a zombie waiting for its parent (or PID 1) to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def fake_pids(fake_bin):
    pids_file = fake_bin / "pids"
    return [int(p) for p in pids_file.read_text().split()] if pids_file.exists() else []


def test_a_hung_qemu_img_fails_the_build_within_its_limit_and_says_so(
        cloud, admin, tiny, fake_bin):
    started = time.monotonic()
    server = admin.create_server("stuck", tiny["id"], "42")
    server = dep.wait_for_status(admin, server["id"], "ERROR",
                                 timeout=COMMAND_TIMEOUT + BUILD_MARGIN)
    print(f"\nboot with a hung qemu-img: ERROR after {time.monotonic() - started:.1f} s "
          f"(command_timeout {COMMAND_TIMEOUT} s)")
    # A command stuck on this host's I/O may work on another: rescheduled,
    # and with one host the retry finds none and says what happened here.
    assert server["fault"]["message"] == (
        "No valid host was found. There are not enough hosts available. "
        f"RetryFilter: (start: 1, end: 0): {cloud.host}: already tried for this build; "
        f"it failed with: qemu-img info timed out after {COMMAND_TIMEOUT} s and was "
        "killed.")
    assert "qemu-img info has run for 5 s: killing it" in cloud.log("mininova-compute")
    pids = fake_pids(fake_bin)
    assert len(pids) == 2   # the fake and its sleeping child
    dep.wait_until(lambda: [pid for pid in pids if alive(pid)], lambda left: left == [],
                   timeout=10, interval=0.2, what="the end of the fake qemu-img's processes")
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])
    assert_nothing_left(cloud, admin)


def test_a_delete_during_the_hang_finishes(cloud, admin, tiny, fake_bin):
    (fake_bin / "pids").unlink(missing_ok=True)
    server = admin.create_server("stuck-then-deleted", tiny["id"], "42")
    # The build is in the hung command now.
    dep.wait_until(lambda: fake_pids(fake_bin), lambda pids: len(pids) == 2, timeout=60,
                   interval=0.1, what="the hung qemu-img")
    started = time.monotonic()
    admin.delete_server(server["id"])
    # The delete waits for the instance's lock, which the build holds until
    # its command is killed: it outlives the build, as Nova's does.
    dep.wait_for_gone(admin, server["id"], timeout=COMMAND_TIMEOUT + BUILD_MARGIN)
    print(f"\ndelete during the hang: gone after {time.monotonic() - started:.1f} s")
    assert_nothing_left(cloud, admin)
    assert [pid for pid in fake_pids(fake_bin) if alive(pid)] == []
