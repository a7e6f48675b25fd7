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
from tests.integration.keystone import KEYSTONE_VENV

BIN = Path(sys.executable).parent
PR_SET_CHILD_SUBREAPER = 36
SERVER = "1c0b0000-0000-4000-8000-000000000001"
HEADERS = {"X-Auth-Token": "demo:demo", "OpenStack-API-Version": "volume 3.44"}


def _subreaper(on):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


class VolumeProcess:
    """mininova-volume (and, with ``image=True``, mininova-image) as processes."""

    def __init__(self, workdir, config=None, image=False):
        self.workdir = workdir
        self.port = free_port()
        self.image_port = free_port() if image else None
        nbd_base = random.randrange(12000, 19800, 20)  # as tests/conftest.py's
        self.conf = workdir / "mininova.conf"
        (workdir / "state").mkdir()
        (workdir / "log").mkdir()
        sections = {
            "DEFAULT": {"state_path": f"{workdir}/state", "log_dir": f"{workdir}/log",
                        "debug": "True"},
            "volume": {"osapi_volume_listen": "127.0.0.1",
                       "osapi_volume_listen_port": str(self.port),
                       "nbd_port_min": str(nbd_base), "nbd_port_max": str(nbd_base + 19)},
        }
        if image:
            sections["image_service"] = {"bind_host": "127.0.0.1",
                                         "bind_port": str(self.image_port)}
            sections["glance"] = {"api_servers": f"http://127.0.0.1:{self.image_port}"}
        for section, options in (config or {}).items():
            sections.setdefault(section, {}).update(options)
        self.conf.write_text("".join(
            f"[{section}]\n" + "".join(f"{k} = {v}\n" for k, v in options.items())
            for section, options in sections.items()))
        self.url = f"http://127.0.0.1:{self.port}/v3/demo"
        self.process = None
        self.image_process = None

    def start(self):
        if self.image_port and self.image_process is None:
            self.image_process = self._spawn("mininova-image", self.image_port)
        self.process = self._spawn("mininova-volume", self.port)

    def _spawn(self, name, port):
        out = open(self.workdir / "log" / f"{name}.stdout", "ab")
        process = subprocess.Popen([BIN / name, "--config-file", self.conf], stdout=out,
                                   stderr=out, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, self.log(name)[-2000:]
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=1)
                return process
            except requests.ConnectionError:
                assert time.monotonic() < deadline, f"{name} did not answer"
                time.sleep(0.1)

    def stop(self, signum=signal.SIGTERM):
        for process in (self.process, self.image_process):
            if process and process.poll() is None:
                os.killpg(process.pid, signum)
                process.wait(timeout=30)

    def log(self, name="mininova-volume"):
        path = self.workdir / "log" / f"{name}.log"
        return path.read_text() if path.exists() else ""

    def request(self, method, path, **kwargs):
        return requests.request(method, self.url + path, headers=HEADERS, timeout=30, **kwargs)


@pytest.fixture
def services(tmp_path):
    """Make :class:`VolumeProcess` objects; everything they started is
    killed and reaped after the test, exports included."""
    made = []
    _subreaper(True)

    def make(**kwargs):
        made.append(VolumeProcess(tmp_path, **kwargs))
        return made[-1]
    try:
        yield make
    finally:
        for volume in made:
            volume.stop(signal.SIGKILL)
        for pid in daemons_under(str(tmp_path)):
            os.kill(pid, signal.SIGKILL)
        _reap_orphans(str(tmp_path))
        _subreaper(False)


@pytest.fixture
def service(services):
    return services()


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


def test_behind_keystone_with_the_openstack_client(services, keystone, tmp_path):
    """The real Keystone in front (keystonemiddleware), the service in the
    catalog as block-storage/volumev3 as the quickstart puts it, and
    python-openstackclient, unchanged, making a volume from an image: the
    volume service downloads the image with the user's token."""
    service = services(config=keystone.service_config(), image=True)
    service.start()
    keystone.add_service("image", f"http://127.0.0.1:{service.image_port}")
    keystone.add_service("block-storage", f"http://127.0.0.1:{service.port}/v3/$(project_id)s")
    assert requests.get(service.url + "/volumes", timeout=10).status_code == 401
    assert requests.get(f"http://127.0.0.1:{service.port}/v3", timeout=10).status_code == 200

    creds = keystone.credentials("demo")
    env = {key: value for key, value in os.environ.items() if not key.startswith("OS_")}
    env.update(OS_AUTH_URL=keystone.auth_url, OS_USERNAME="demo",
               OS_PASSWORD=creds["password"], OS_PROJECT_NAME="demo",
               OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default",
               OS_REGION_NAME="RegionOne", PYTHONDONTWRITEBYTECODE="1")

    def openstack(*args):
        result = subprocess.run([str(KEYSTONE_VENV / "bin" / "openstack"), *args], env=env,
                                text=True, capture_output=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.strip()

    image_file = tmp_path / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(image_file), "16M"], check=True,
                   capture_output=True)
    qemu_io(str(image_file), f"write -P 0x5c 0 {MIB}", fmt="qcow2")
    openstack("image", "create", "--disk-format", "qcow2", "--file", str(image_file), "tiny")
    openstack("volume", "create", "--image", "tiny", "--size", "1", "v1")
    deadline = time.monotonic() + 60
    while (status := openstack("volume", "show", "v1", "-f", "value", "-c", "status")) != (
            "available"):
        assert status in ("creating", "downloading") and time.monotonic() < deadline, status
        time.sleep(0.5)
    volume_id = openstack("volume", "show", "v1", "-f", "value", "-c", "id")
    assert pattern_reads_back(str(tmp_path / "state" / "volumes" / f"volume-{volume_id}"),
                              "0x5c", 0, MIB)
    # The download reached the image service as the demo user (its log
    # line's context names the user and project), not as a service.
    demo_user = openstack("token", "issue", "-f", "value", "-c", "user_id")
    downloads = [line for line in service.log("mininova-image").splitlines()
                 if '"GET /v2/images/' in line and '/file"' in line]
    assert downloads and all(demo_user in line for line in downloads), downloads
    assert "Created volume successfully." in service.log()
    assert openstack("volume", "list", "-f", "value", "-c", "Name") == "v1"
    openstack("volume", "delete", "v1")
