"""Device role tagging end to end, on the fake driver: a NIC tagged in
``POST /servers`` (2.42) becomes a port whose VIF keeps the tag, the compute
records the tagged devices with the addresses its driver gave them, saves
them through the conductor, and the guest's ``meta_data.json`` (config
drive) lists them under ``devices``; at 2.37 to 2.41 the tag is a 400.

The whole cloud and the network service run in this process; the network
service tells a fake Nova its events (nobody waits for them here)."""

import json

import pytest

from mininova import context as mn_context
from mininova.api.metadata import base as instance_metadata
from mininova.db import api as db
from tests.functional.helpers import api, wait_for_status


def boot(nova, image, networks, version):
    body = {"server": {"name": "tagged", "flavorRef": "42", "imageRef": image["id"],
                       "networks": networks, "config_drive": True}}
    return api(nova, "POST", "/servers", version, json=body)


def test_a_tagged_nic_reaches_the_guests_meta_data(nova, image, demo):
    net, _subnet = demo.network_with_subnet()
    response = boot(nova, image, [{"uuid": net["id"]}, {"uuid": net["id"], "tag": "nic1"}],
                    "2.42")
    assert response.status_code == 202, response.text
    server = wait_for_status(nova, response.json()["server"]["id"], "ACTIVE")
    row = db.instance_get_by_uuid(mn_context.get_admin_context(), server["id"])
    untagged, tagged = row["network_info"]
    assert (untagged["tag"], tagged["tag"]) == (None, "nic1")
    # What the config drive holds (made from the same instance): the tagged
    # NIC alone, at the fake driver's PCI slot for the second NIC.
    meta = json.loads(instance_metadata.InstanceMetadata(row, row["network_info"]).files()[
        "openstack/latest/meta_data.json"])
    assert meta["devices"] == [{"type": "nic", "bus": "pci", "address": "0000:00:03.0",
                                "mac": tagged["address"], "vf_trusted": False,
                                "tags": ["nic1"]}]


@pytest.mark.parametrize("version", ["2.37", "2.41"])
def test_a_nic_tag_between_2_37_and_2_41_is_refused(nova, image, demo, version):
    net, _subnet = demo.network_with_subnet()
    response = boot(nova, image, [{"uuid": net["id"], "tag": "nic1"}], version)
    assert response.status_code == 400
    assert "Additional properties are not allowed ('tag' was unexpected)" in (
        response.json()["badRequest"]["message"])
    assert demo.get("ports").json()["ports"] == []
