"""mininova-volume as its own process (its console script, noauth2,
SQLite, a directory and ports of its own): the NBD exports it starts
outlive the service, whether it is stopped or its whole process group is
killed (as bin/mininova-services does after 10 s), and the next start
adopts them; a detach then stops the daemon.

The exports are the service's children; when the service dies they are
orphans, re-parented to this test process (made a "child subreaper" for
the test, PR_SET_CHILD_SUBREAPER), so that the test can reap them: nothing
is left behind, not even a zombie."""

import ctypes
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.functional.volume.helpers import MIB, daemons_under, pattern_reads_back, qemu_io
from tests.integration.deployment import free_port

BIN = Path(sys.executable).parent
PR_SET_CHILD_SUBREAPER = 36
SERVER = "1c0b0000-0000-4000-8000-000000000001"
HEADERS = {"X-Auth-Token": "demo:demo", "OpenStack-API-Version": "volume 3.44"}


def _subreaper(on):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


class VolumeProcess:
    def __init__(self, workdir):
        self.workdir = workdir
        self.port = free_port()
        nbd_base = random.randrange(12000, 19800, 20)  # as tests/conftest.py's
        self.conf = workdir / "mininova.conf"
        (workdir / "state").mkdir()
        (workdir / "log").mkdir()
        self.conf.write_text(f"""[DEFAULT]
state_path = {workdir}/state
log_dir = {workdir}/log
debug = True
[volume]
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = {self.port}
nbd_port_min = {nbd_base}
nbd_port_max = {nbd_base + 19}
""")
        self.url = f"http://127.0.0.1:{self.port}/v3/demo"
        self.process = None

    def start(self):
        out = open(self.workdir / "log" / "stdout", "ab")
        self.process = subprocess.Popen([BIN / "mininova-volume", "--config-file", self.conf],
                                        stdout=out, stderr=out, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, self.log()[-2000:]
            try:
                requests.get(f"http://127.0.0.1:{self.port}/", timeout=1)
                return
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "mininova-volume did not answer"
                time.sleep(0.1)

    def stop(self, signum=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signum)
            self.process.wait(timeout=30)

    def log(self):
        path = self.workdir / "log" / "mininova-volume.log"
        return path.read_text() if path.exists() else ""

    def request(self, method, path, **kwargs):
        return requests.request(method, self.url + path, headers=HEADERS, timeout=30, **kwargs)


@pytest.fixture
def service(tmp_path):
    _subreaper(True)
    volume = VolumeProcess(tmp_path)
    try:
        yield volume
    finally:
        volume.stop(signal.SIGKILL)
        for pid in daemons_under(str(tmp_path)):
            os.kill(pid, signal.SIGKILL)
        _reap_orphans(str(tmp_path))
        _subreaper(False)


def _reap_orphans(path):
    """Reap the export daemons re-parented to us (zombies included)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        if int(fields[1]) == os.getpid() and b"qemu-storage" in _comm(entry):
            try:
                os.waitpid(int(entry), 0)
            except ChildProcessError:
                pass


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm", "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def _wait_status(service, volume_id, status):
    deadline = time.monotonic() + 30
    while True:
        volume = service.request("GET", f"/volumes/{volume_id}").json()["volume"]
        if volume["status"] == status:
            return volume
        assert time.monotonic() < deadline, volume
        time.sleep(0.05)


def _attach(service, volume_id):
    attachment = service.request("POST", "/attachments", json={"attachment": {
        "volume_uuid": volume_id, "instance_uuid": SERVER}}).json()["attachment"]
    response = service.request("PUT", f"/attachments/{attachment['id']}", json={
        "attachment": {"connector": {"host": "compute1", "mountpoint": "/dev/vdb"}}})
    assert response.status_code == 200, response.text
    assert service.request("POST", f"/attachments/{attachment['id']}/action",
                           json={"os-complete": None}).status_code == 204
    return response.json()["attachment"]


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_exports_outlive_the_service_and_are_adopted(service, tmp_path, how):
    service.start()
    volume = service.request("POST", "/volumes", json={"volume": {"size": 1}}).json()["volume"]
    _wait_status(service, volume["id"], "available")
    attachment = _attach(service, volume["id"])
    info = attachment["connection_info"]
    url = f"nbd://{info['host']}:{info['port']}/{info['name']}"
    qemu_io(url, f"write -P 0x4e 0 {MIB}")
    (daemon,) = daemons_under(str(tmp_path))

    # SIGTERM: a stop; SIGKILL of the process group: mininova-services' last resort.
    service.stop(how)

    assert daemons_under(str(tmp_path)) == [daemon]
    assert pattern_reads_back(url, "0x4e", 0, MIB)  # the guest's disk still answers

    service.start()
    assert "Adopted the NBD export of volume-" in service.log()
    assert _wait_status(service, volume["id"], "in-use")["attachments"][0]["attachment_id"] == (
        attachment["id"])
    qemu_io(url, f"write -P 0x4f 0 {MIB}")

    assert service.request("POST", f"/volumes/{volume['id']}/action",
                           json={"os-begin_detaching": None}).status_code == 202
    assert service.request("DELETE", f"/attachments/{attachment['id']}").status_code == 200
    _wait_status(service, volume["id"], "available")
    assert daemons_under(str(tmp_path)) == []
    # Ours to reap now (re-parented): it ended, and leaves no zombie.
    os.waitpid(daemon, 0)
