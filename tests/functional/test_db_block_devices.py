"""The ``block_device_mapping`` table on a real SQLite file (migration
0009) and its queries, ``mininova/db/block_devices.py``: the boot order,
connection_info as JSON, soft deletes with the instance, and a refused
request's rows removed without a trace."""

import pytest
import sqlalchemy as sa

from mininova import context as mn_context
from mininova import exception
from mininova.db import api as db
from mininova.db import block_devices as bdm_db
from mininova.db import migration, models

UUID = "11111111-2222-3333-4444-555555555555"
VOLUME = "aaaaaaaa-0000-0000-0000-000000000001"


@pytest.fixture
def ctxt(conf):
    migration.db_sync()
    db.instance_create(mn_context.get_admin_context(), {
        "uuid": UUID, "vm_state": "building", "project_id": "demo", "user_id": "demo",
        "flavor": {}})
    return mn_context.get_admin_context()


def _volume_row(**values):
    return {"instance_uuid": UUID, "source_type": "volume", "destination_type": "volume",
            "volume_id": VOLUME, "boot_index": None, **values}


def test_a_created_mapping_has_every_column_by_name(ctxt):
    bdm = bdm_db.bdm_create(ctxt, _volume_row(delete_on_termination=True, tag="data"))
    assert bdm["id"] and len(bdm["uuid"]) == 36
    assert bdm["volume_id"] == VOLUME and bdm["delete_on_termination"] is True
    assert bdm["deleted"] == 0 and bdm["connection_info"] is None
    assert {"device_name", "snapshot_id", "image_id", "volume_size", "volume_type",
            "guest_format", "device_type", "disk_bus", "no_device", "attachment_id",
            "created_at", "updated_at", "deleted_at"} <= set(bdm)


def test_rows_come_in_boot_order_with_the_non_booting_ones_last(ctxt):
    made = [bdm_db.bdm_create(ctxt, {"instance_uuid": UUID, "boot_index": index,
                                     "source_type": "blank", "destination_type": "local"})
            for index in (None, 1, 0, None, 2)]
    order = [bdm["id"] for bdm in bdm_db.bdm_get_all_by_instance(ctxt, UUID)]
    assert order == [made[2]["id"], made[1]["id"], made[4]["id"], made[0]["id"],
                     made[3]["id"]]


def test_connection_info_is_a_dict_in_the_dicts_and_json_in_the_column(ctxt):
    bdm = bdm_db.bdm_create(ctxt, _volume_row())
    info = {"driver_volume_type": "nbd", "data": {"host": "127.0.0.1", "port": 10809}}
    updated = bdm_db.bdm_update(ctxt, bdm["id"], {"connection_info": info,
                                                  "device_name": "/dev/vdb"})
    assert updated["connection_info"] == info and updated["device_name"] == "/dev/vdb"
    with db.transaction() as session:
        stored = session.scalar(sa.select(models.BlockDeviceMapping.connection_info))
    assert isinstance(stored, str) and '"nbd"' in stored
    assert bdm_db.bdm_get_by_volume_and_instance(ctxt, VOLUME, UUID)["connection_info"] == info


def test_an_unknown_volume_of_a_server_is_a_volume_bdm_not_found(ctxt):
    with pytest.raises(exception.VolumeBDMNotFound) as caught:
        bdm_db.bdm_get_by_volume_and_instance(ctxt, VOLUME, UUID)
    assert caught.value.code == 404
    assert caught.value.format_message() == (
        f"No volume Block Device Mapping with id {VOLUME}.")


def test_a_destroyed_mapping_is_gone_from_every_query_and_destroy_is_idempotent(ctxt):
    bdm = bdm_db.bdm_create(ctxt, _volume_row())
    bdm_db.bdm_destroy(ctxt, bdm["id"])
    bdm_db.bdm_destroy(ctxt, bdm["id"])
    assert bdm_db.bdm_get_all_by_instance(ctxt, UUID) == []
    assert bdm_db.bdm_get_all_by_volume(ctxt, VOLUME) == []
    with pytest.raises(exception.VolumeBDMNotFound):
        bdm_db.bdm_get_by_volume_and_instance(ctxt, VOLUME, UUID)
    with pytest.raises(exception.BDMNotFound):
        bdm_db.bdm_update(ctxt, bdm["id"], {"device_name": "/dev/vdc"})
    with db.transaction() as session:
        row = session.get(models.BlockDeviceMapping, bdm["id"])
    assert row.deleted == row.id and row.deleted_at is not None


def test_a_deleted_server_takes_its_mappings_with_it(ctxt):
    bdm_db.bdm_create(ctxt, _volume_row())
    db.instance_destroy(ctxt, UUID)
    assert bdm_db.bdm_get_all_by_instance(ctxt, UUID) == []
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count(models.BlockDeviceMapping.id))) == 1


def test_a_refused_request_leaves_no_mapping_at_all(ctxt):
    bdm_db.bdm_create(ctxt, _volume_row())
    db.instances_purge_unbuilt(ctxt, [UUID])
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count(models.BlockDeviceMapping.id))) == 0


def test_many_servers_mappings_in_one_query(ctxt):
    bdm_db.bdm_create(ctxt, _volume_row())
    other = "99999999-2222-3333-4444-555555555555"
    found = bdm_db.bdm_get_all_by_instances(ctxt, [UUID, other])
    assert [bdm["volume_id"] for bdm in found[UUID]] == [VOLUME] and found[other] == []
