"""Helpers of the block device tests: the in-process cloud's volume service
(mininova-volume, real files) as a user sees it, and a server's
``block_device_mapping`` rows."""

import requests

from mininova import context as mn_context
from mininova.db import block_devices as bdm_db
from tests.waiting import wait_until

TIMEOUT = 30


class Volumes:
    """mininova-volume's API for one user of the cloud (noauth2 token)."""

    def __init__(self, cloud, token="demo:demo"):
        project = token.split(":")[1]
        self.url = f"http://127.0.0.1:{cloud.volume_service.port}/v3/{project}"
        self.session = requests.Session()
        self.session.headers.update({"X-Auth-Token": token,
                                     "OpenStack-API-Version": "volume 3.48"})

    def create(self, size=1, wait=True, **volume):
        response = self.session.post(f"{self.url}/volumes",
                                     json={"volume": dict(volume, size=size)}, timeout=TIMEOUT)
        assert response.status_code == 202, response.text
        created = response.json()["volume"]
        return self.wait(created["id"]) if wait else created

    def get(self, volume_id):
        response = self.session.get(f"{self.url}/volumes/{volume_id}", timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()["volume"]

    def wait(self, volume_id, statuses=("available", "error", "in-use", "reserved")):
        return wait_until(lambda: self.get(volume_id), lambda v: v["status"] in statuses,
                          TIMEOUT, what=f"volume {volume_id} settled")

    def wait_status(self, volume_id, status):
        return wait_until(lambda: self.get(volume_id), lambda v: v["status"] == status,
                          TIMEOUT, what=f"volume {volume_id} {status}")

    def gone(self, volume_id):
        return self.session.get(f"{self.url}/volumes/{volume_id}",
                                timeout=TIMEOUT).status_code == 404

    def snapshot(self, volume_id):
        response = self.session.post(f"{self.url}/snapshots", json={"snapshot": {
            "volume_id": volume_id}}, timeout=TIMEOUT)
        assert response.status_code == 202, response.text
        snapshot_id = response.json()["snapshot"]["id"]
        return wait_until(
            lambda: self.session.get(f"{self.url}/snapshots/{snapshot_id}",
                                     timeout=TIMEOUT).json()["snapshot"],
            lambda s: s["status"] in ("available", "error"), TIMEOUT,
            what=f"snapshot {snapshot_id}")

    def reserve(self, volume_id, instance_uuid):
        """An attachment for some server: the volume is no longer available."""
        response = self.session.post(
            f"{self.url}/attachments", json={"attachment": {
                "volume_uuid": volume_id, "instance_uuid": instance_uuid}},
            headers={"OpenStack-API-Version": "volume 3.44"}, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()["attachment"]


def rows(server_id):
    """The server's live block device mappings, in boot order."""
    return bdm_db.bdm_get_all_by_instance(mn_context.get_admin_context(), server_id)


def volume_boot(volume_id, **changes):
    return dict({"boot_index": 0, "uuid": volume_id, "source_type": "volume",
                 "destination_type": "volume"}, **changes)


def image_root(image_id, **changes):
    return dict({"boot_index": 0, "uuid": image_id, "source_type": "image",
                 "destination_type": "local", "delete_on_termination": True}, **changes)
