"""The conductor's ``block_device_mapping_*`` methods, called as a compute
calls them: through the conductor RPC client (``mininova.conductor.api.API``)
to the running conductor of the in-process cloud, over memory://."""

import pytest

from mininova import context as mn_context
from mininova import exception
from mininova.conductor import api as conductor_api
from mininova.db import api as db

UUID = "11111111-2222-3333-4444-555555555555"
VOLUME = "aaaaaaaa-0000-0000-0000-000000000001"


@pytest.fixture
def conductor(cloud):
    db.instance_create(mn_context.get_admin_context(), {
        "uuid": UUID, "vm_state": "active", "project_id": "demo", "user_id": "demo",
        "flavor": {}})
    return conductor_api.API()


def test_a_compute_creates_reads_updates_and_destroys_a_mapping(conductor):
    ctxt = mn_context.get_admin_context()
    bdm = conductor.block_device_mapping_create(ctxt, {
        "instance_uuid": UUID, "source_type": "volume", "destination_type": "volume",
        "volume_id": VOLUME, "device_name": "/dev/vdb", "delete_on_termination": False})
    assert bdm["device_name"] == "/dev/vdb"

    info = {"driver_volume_type": "nbd", "data": {"export_name": "volume-x"}}
    updated = conductor.block_device_mapping_update(
        ctxt, bdm["id"], {"connection_info": info, "attachment_id": "att-1"})
    assert updated["connection_info"] == info and updated["attachment_id"] == "att-1"

    found = conductor.block_device_mapping_get_by_volume_and_instance(ctxt, VOLUME, UUID)
    assert found["id"] == bdm["id"] and found["connection_info"] == info
    assert [b["id"] for b in conductor.block_device_mapping_get_all_by_instance(ctxt, UUID)] \
        == [bdm["id"]]

    conductor.block_device_mapping_destroy(ctxt, bdm["id"])
    assert conductor.block_device_mapping_get_all_by_instance(ctxt, UUID) == []


def test_not_found_crosses_rpc_as_itself(conductor):
    with pytest.raises(exception.VolumeBDMNotFound):
        conductor.block_device_mapping_get_by_volume_and_instance(
            mn_context.get_admin_context(), VOLUME, UUID)
