"""Helpers of mininova-volume's functional tests."""

import os
import subprocess
import time

from mininova.image import glance

ADMIN = "admin:admin"
DEMO = "demo:demo"
OTHER = "other:other"
TIMEOUT = 20
MIB = 1024 * 1024
GIB = 1024 * MIB


class Http:
    """The test client with an identity and a microversion per call:
    ``http.get(path, user=DEMO, version="3.44")``; ``path`` is under
    ``/v3/<the user's project>``."""

    def __init__(self, client, version="3.48"):
        self.client = client
        self.version = version

    def request(self, method, path, user=DEMO, version=None, roles=None, json=None,
                raw_path=False):
        headers = {"X-Auth-Token": user}
        version = version or self.version
        if version != "none":
            headers["OpenStack-API-Version"] = f"volume {version}"
        if roles is not None:
            headers["X-Roles"] = roles
        url = path if raw_path else f"/v3/{user.split(':')[1]}{path}"
        return self.client.open(url, method=method, headers=headers, json=json)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path, json=None, **kwargs):
        return self.request("PUT", path, json=json, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    # --- volumes ----------------------------------------------------------------------

    def create_volume(self, user=DEMO, wait=True, **volume):
        volume.setdefault("size", 1)
        response = self.post("/volumes", json={"volume": volume}, user=user)
        assert response.status_code == 202, response.get_json()
        created = response.get_json()["volume"]
        return self.wait_volume(created["id"], user=user) if wait else created

    def volume(self, volume_id, user=DEMO):
        response = self.get(f"/volumes/{volume_id}", user=user)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["volume"]

    def wait_volume(self, volume_id, user=DEMO, settled=("available", "error", "in-use")):
        return wait_until(lambda: self.volume(volume_id, user=user),
                          lambda v: v["status"] in settled, f"volume {volume_id} settled")

    def wait_volume_gone(self, volume_id, user=DEMO):
        wait_until(lambda: self.get(f"/volumes/{volume_id}", user=user).status_code,
                   lambda code: code == 404, f"volume {volume_id} deleted")

    def create_snapshot(self, volume_id, user=DEMO, **snapshot):
        response = self.post("/snapshots", json={"snapshot": {"volume_id": volume_id,
                                                              **snapshot}}, user=user)
        assert response.status_code == 202, response.get_json()
        snapshot_id = response.get_json()["snapshot"]["id"]
        return wait_until(lambda: self.get(f"/snapshots/{snapshot_id}", user=user)
                          .get_json()["snapshot"],
                          lambda s: s["status"] in ("available", "error"),
                          f"snapshot {snapshot_id}")

    # --- attachments --------------------------------------------------------------------

    def attach(self, volume_id, instance_uuid, host="compute1", user=DEMO):
        """Nova's attach: create, update with the connector, complete.
        Returns the attachment (with its connection_info)."""
        response = self.post("/attachments", user=user, json={"attachment": {
            "volume_uuid": volume_id, "instance_uuid": instance_uuid}})
        assert response.status_code == 200, response.get_json()
        attachment_id = response.get_json()["attachment"]["id"]
        response = self.put(f"/attachments/{attachment_id}", user=user, json={"attachment": {
            "connector": {"host": host, "ip": "127.0.0.1", "mountpoint": "/dev/vdb"}}})
        assert response.status_code == 200, response.get_json()
        attachment = response.get_json()["attachment"]
        response = self.post(f"/attachments/{attachment_id}/action", user=user,
                             json={"os-complete": None})
        assert response.status_code == 204, response.get_json()
        return attachment


def fault(response):
    """``(name, code, message)`` of Cinder's fault body."""
    ((name, body),) = response.get_json().items()
    return name, body["code"], body["message"]


def wait_until(fetch, done, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached after {timeout} s: {value!r}")
        time.sleep(0.02)


def nbd_url(connection_info):
    return (f"nbd://{connection_info['host']}:{connection_info['port']}/"
            f"{connection_info['name']}")


def qemu_io(target, command, fmt="raw"):
    """Run one qemu-io command on a file or an nbd:// URL; its output."""
    result = subprocess.run(["qemu-io", "-f", fmt, "-c", command, target], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0 and "error" not in result.stdout.lower(), (
        result.stdout + result.stderr)
    return result.stdout


def pattern_reads_back(target, pattern, offset, length, fmt="raw"):
    """Whether ``length`` bytes at ``offset`` all hold byte ``pattern``."""
    result = subprocess.run(["qemu-io", "-f", fmt, "-c",
                             f"read -P {pattern} {offset} {length}", target],
                            capture_output=True, text=True, timeout=30)
    return result.returncode == 0 and "Pattern verification failed" not in result.stdout


def qemu_img_info(target):
    result = subprocess.run(["qemu-img", "info", "--force-share", target],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def daemons_under(path):
    """Pids of the qemu-storage-daemon processes whose command line names
    something under ``path`` (and that have not ended)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if (state != "Z" and argv and os.path.basename(argv[0]) == b"qemu-storage-daemon"
                and any(os.fsencode(path) in arg for arg in argv)):
            pids.append(int(entry))
    return pids


def upload_image(path, name, disk_format, context):
    api = glance.API()
    image = api.create(context, name, disk_format)
    with open(path, "rb") as data:
        return api.upload(context, image["id"], data, size=os.path.getsize(path))
