"""Block device mappings in the database (mirrors the
``block_device_mapping_*`` queries of ``nova/db/main/api.py``).

One row per disk or volume of a server (see ``models.BlockDeviceMapping``).
The API writes them with the instance; the conductor reads and updates them
for the compute, which has no database (the ``block_device_mapping_*``
methods of ``mininova/conductor``). Rows are soft-deleted as Nova's are, and
go with their instance (``instance_destroy`` in ``mininova/db/api.py``; a
refused request's rows go with ``instances_purge_unbuilt``).

The dicts returned carry the columns by name, with ``connection_info``
decoded from its JSON text (None when unset); a ``connection_info`` given to
:func:`bdm_create` or :func:`bdm_update` as a dict is stored as JSON. Nova
passes the JSON string around and decodes it where needed; one decoded form
everywhere is simpler to read and crosses RPC as it is.

Left out: Nova's ``update_or_create`` (the compute's reserve creates, the
rest updates by id) and lookups by device name.
"""

import json

import sqlalchemy as sa
from oslo_utils import timeutils

from mininova import exception
from mininova.db import api as db
from mininova.db import models

BDM = models.BlockDeviceMapping


def _to_row(values):
    values = dict(values)
    if isinstance(values.get("connection_info"), dict):
        values["connection_info"] = json.dumps(values["connection_info"])
    return db.attribute_values(BDM, values)


def _as_dict(bdm):
    return _decoded(db.as_dict(bdm))


def _decoded(values):
    if values.get("connection_info"):
        values["connection_info"] = json.loads(values["connection_info"])
    else:
        values["connection_info"] = None
    return values


def _ordered(query):
    """Boot disk first, then the boot order, then the ones that do not boot
    (boot_index None, or -1 in a request's view), in creation order."""
    not_booting = sa.or_(BDM.boot_index.is_(None), BDM.boot_index < 0)
    return query.order_by(sa.case((not_booting, 1), else_=0), BDM.boot_index, BDM.id)


# Built once, the uuids bound at each call: building the statement cost
# more than running it, and every GET of a server runs it. Its columns,
# not ORM objects: only read into dicts, which the ORM's bookkeeping
# would make at twice the cost.
_BY_INSTANCES = _ordered(sa.select(*BDM.__table__.c).where(
    BDM.instance_uuid.in_(sa.bindparam("uuids", expanding=True)), BDM.deleted == 0))


def bdm_create(context, values):
    """A new mapping; ``values`` names the columns (``instance_uuid`` at least)."""
    with db.transaction(writer=True) as session:
        bdm = BDM(**_to_row(values))
        session.add(bdm)
        session.flush()
        return _as_dict(bdm)


def bdm_get_all_by_instance(context, instance_uuid):
    """The instance's mappings, boot order first (boot_index None last), then by id."""
    return bdm_get_all_by_instances(context, [instance_uuid]).get(instance_uuid, [])


def bdm_get_all_by_instances(context, instance_uuids):
    """``{instance uuid: [mapping, ...]}`` for many servers in one query
    (a server list shows every server's volumes)."""
    result = {uuid: [] for uuid in instance_uuids}
    if not instance_uuids:
        return result
    with db.transaction() as session:
        for row in session.execute(_BY_INSTANCES, {"uuids": list(instance_uuids)}):
            result[row.instance_uuid].append(_decoded(dict(row._mapping)))
    return result


def bdm_get_by_volume_and_instance(context, volume_id, instance_uuid):
    """The mapping of that volume on that server (VolumeBDMNotFound: none)."""
    with db.transaction() as session:
        bdm = session.scalars(sa.select(BDM).filter_by(
            volume_id=volume_id, instance_uuid=instance_uuid, deleted=0)
            .order_by(BDM.id)).first()
        if bdm is None:
            raise exception.VolumeBDMNotFound(volume_id=volume_id)
        return _as_dict(bdm)


def bdm_get_all_by_volume(context, volume_id):
    """Every live mapping of a volume, whichever the server (the API
    refuses a second attachment of a volume before asking the volume
    service, whose answer would come later)."""
    query = sa.select(BDM).where(BDM.volume_id == volume_id, BDM.deleted == 0).order_by(BDM.id)
    with db.transaction() as session:
        return [_as_dict(bdm) for bdm in session.scalars(query)]


def bdm_update(context, bdm_id, values):
    """Change some columns of a live mapping and return it (BDMNotFound: none)."""
    with db.transaction(writer=True) as session:
        bdm = session.scalars(sa.select(BDM).filter_by(id=bdm_id, deleted=0)).first()
        if bdm is None:
            raise exception.BDMNotFound(id=bdm_id)
        for key, value in _to_row(values).items():
            setattr(bdm, key, value)
        bdm.updated_at = timeutils.utcnow()
        session.flush()
        return _as_dict(bdm)


def bdm_destroy(context, bdm_id):
    """Soft-delete one mapping (a detached volume). A mapping already gone
    is not an error: a detach retried after a crash finds it so."""
    with db.transaction(writer=True) as session:
        session.execute(sa.update(BDM).where(BDM.id == bdm_id, BDM.deleted == 0)
                        .values(deleted=BDM.id, deleted_at=timeutils.utcnow()))
