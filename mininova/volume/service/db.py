"""The volume service's queries (mirrors Cinder's
``cinder/db/sqlalchemy/api.py``; the tables are in :mod:`.models`).

Every function takes the engine first, runs one short transaction and
returns plain dicts, as ``mininova/db/api.py`` does; deleted rows are never
returned (Cinder's soft delete). Status changes are compare-and-swap
updates (``UPDATE ... WHERE status IN (...)``), Cinder's
``conditional_update``: of two requests racing on one volume, exactly one
wins and the other gets its 400.
"""

import uuid
from contextlib import contextmanager

import sqlalchemy as sa
from oslo_utils import timeutils
from sqlalchemy import orm

from mininova.volume.service import fields
from mininova.volume.service.models import Quota, Snapshot, Volume, VolumeAttachment, VolumeType


@contextmanager
def _session(engine, writer=False):
    with orm.Session(engine, expire_on_commit=False) as session:
        if writer and engine.dialect.name == "sqlite":
            # BEGIN IMMEDIATE: writers queue up instead of failing with
            # "database is locked" (see mininova/db/api.py).
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _as_dict(row):
    if row is None:
        return None
    return {column.key: getattr(row, attr) for attr, column in _columns(type(row))}


def _columns(model):
    """(attribute name, column) pairs; the dict key is the column's name,
    so ``volume_metadata`` comes back as ``metadata`` as in Cinder."""
    return [(attr.key, attr.columns[0]) for attr in sa.inspect(model).column_attrs]


def _live(model):
    return model.deleted == sa.false()


def _soft_delete_values():
    now = timeutils.utcnow()
    return {"deleted": True, "deleted_at": now, "updated_at": now}


def new_id():
    return str(uuid.uuid4())


# --- volumes ----------------------------------------------------------------------

def volume_create(engine, values):
    with _session(engine, writer=True) as session:
        volume = Volume(**values)
        session.add(volume)
        session.flush()
        # Nothing can be attached to a volume not yet committed: no query.
        return dict(_as_dict(volume), volume_attachment=[])


def volume_get(engine, volume_id, project_id=None):
    """The volume with its live attachments (``volume_attachment``) and its
    type (``volume_type``, joined as Cinder's ``volume_get`` joins it: every
    view of a volume shows the type's name), if it exists and belongs to
    ``project_id`` (None: any project, for the admin)."""
    query = (sa.select(Volume, VolumeType)
             .outerjoin(VolumeType, sa.and_(VolumeType.id == Volume.volume_type_id,
                                            _live(VolumeType)))
             .where(Volume.id == volume_id, _live(Volume)))
    if project_id is not None:
        query = query.where(Volume.project_id == project_id)
    with _session(engine) as session:
        row = session.execute(query).first()
        if row is None:
            return None
        volume = dict(_as_dict(row.Volume), volume_type=_as_dict(row.VolumeType))
        return _with_attachments(session, [volume])[0]


def volume_get_all(engine, project_id=None, filters=None):
    """Volumes, newest first; ``filters`` on name, status, bootable, ..."""
    query = sa.select(Volume).where(_live(Volume))
    if project_id is not None:
        query = query.where(Volume.project_id == project_id)
    for key, value in (filters or {}).items():
        query = query.where(getattr(Volume, key) == value)
    query = query.order_by(Volume.created_at.desc(), Volume.id.desc())
    with _session(engine) as session:
        return _with_attachments(session, [_as_dict(v) for v in session.scalars(query)])


def volume_get_all_in_status(engine, statuses):
    """Every live volume in one of ``statuses`` (the start-up recovery)."""
    query = sa.select(Volume).where(_live(Volume), Volume.status.in_(statuses))
    with _session(engine) as session:
        return [_as_dict(v) for v in session.scalars(query)]


def _with_attachments(session, volumes):
    by_id = {volume["id"]: volume for volume in volumes}
    for volume in volumes:
        volume["volume_attachment"] = []
    if by_id:
        query = (sa.select(VolumeAttachment)
                 .where(VolumeAttachment.volume_id.in_(by_id), _live(VolumeAttachment))
                 .order_by(VolumeAttachment.created_at))
        for attachment in session.scalars(query):
            by_id[attachment.volume_id]["volume_attachment"].append(_as_dict(attachment))
    return volumes


def volume_update(engine, volume_id, values, expected_status=None, read_back=True):
    """Update a volume; with ``expected_status`` (one status or several),
    only if it still has one of them. Returns the updated volume, or None
    when it is gone or was not as expected. ``read_back=False`` returns
    True instead of the volume: the manager's status changes need only to
    know whether they happened, and reading the row and its attachments
    back would hold the database's write lock for two more queries."""
    values = dict(values, updated_at=timeutils.utcnow())
    with _session(engine, writer=True) as session:
        update = _volume_update_statement(volume_id, values, expected_status)
        if session.execute(update).rowcount != 1:
            return None
        if not read_back:
            return True
        return _with_attachments(session, [_as_dict(session.get(Volume, volume_id))])[0]


def _volume_update_statement(volume_id, values, expected_status):
    update = sa.update(Volume).where(Volume.id == volume_id, _live(Volume))
    if expected_status is not None:
        if isinstance(expected_status, str):
            expected_status = [expected_status]
        update = update.where(Volume.status.in_(expected_status))
    if "metadata" in values:
        values = dict(values)
        values["volume_metadata"] = values.pop("metadata")
    return update.values(**values)


def volume_begin_delete(engine, volume_id, statuses):
    """Move the volume to ``deleting`` if it is in one of ``statuses``, has
    no attachment and no snapshot: one statement, so that an attachment or
    a snapshot made at the same moment cannot slip in between the check
    and the change. Returns the volume, or None when refused."""
    has_attachment = sa.exists().where(VolumeAttachment.volume_id == Volume.id,
                                       _live(VolumeAttachment))
    has_snapshot = sa.exists().where(Snapshot.volume_id == Volume.id, _live(Snapshot))
    now = timeutils.utcnow()
    update = (sa.update(Volume)
              .where(Volume.id == volume_id, _live(Volume), Volume.status.in_(statuses),
                     ~has_attachment, ~has_snapshot)
              .values(status=fields.DELETING, terminated_at=now, updated_at=now))
    with _session(engine, writer=True) as session:
        if session.execute(update).rowcount != 1:
            return None
        return _as_dict(session.get(Volume, volume_id))


def volume_destroy(engine, volume_id):
    with _session(engine, writer=True) as session:
        session.execute(sa.update(Volume).where(Volume.id == volume_id)
                        .values(status="deleted", **_soft_delete_values()))


def volume_type_in_use(engine, volume_type_id):
    query = sa.select(Volume.id).where(_live(Volume), Volume.volume_type_id == volume_type_id)
    with _session(engine) as session:
        return session.scalars(query).first() is not None


# --- attachments -------------------------------------------------------------------

def attachment_reserve(engine, volume_id, instance_uuid, reservable_statuses):
    """Reserve the volume for ``instance_uuid`` and make its attachment
    record, in one transaction (Cinder's ``_attachment_reserve``).

    The volume goes to ``reserved`` if it is in ``reservable_statuses``; a
    volume already attached to the same instance keeps its status (Nova
    moving a server asks for a second attachment, see
    :func:`fields.reserve_status_allowed`). Returns ``(attachment, None)``,
    or ``(None, volume)`` with the volume as it was when refused.
    """
    with _session(engine, writer=True) as session:
        reserved = session.execute(
            sa.update(Volume)
            .where(Volume.id == volume_id, _live(Volume),
                   Volume.status.in_(reservable_statuses))
            .values(status=fields.RESERVED, attach_status=fields.ATTACH_RESERVED,
                    updated_at=timeutils.utcnow())).rowcount == 1
        volume = _with_attachments(session, [_as_dict(session.get(Volume, volume_id))])[0]
        if not reserved:
            instances = [a["instance_uuid"] for a in volume["volume_attachment"]]
            if not fields.reserve_status_allowed(volume["status"], instances, instance_uuid):
                return None, volume
        attachment = VolumeAttachment(
            id=new_id(), volume_id=volume_id, instance_uuid=instance_uuid,
            attach_status=fields.ATTACH_RESERVED, attach_mode="null")
        session.add(attachment)
        session.flush()
        return _as_dict(attachment), None


def attachment_get(engine, attachment_id, project_id=None):
    """The attachment if it is live and its volume belongs to ``project_id``."""
    query = (sa.select(VolumeAttachment)
             .join(Volume, Volume.id == VolumeAttachment.volume_id)
             .where(VolumeAttachment.id == attachment_id, _live(VolumeAttachment)))
    if project_id is not None:
        query = query.where(Volume.project_id == project_id)
    with _session(engine) as session:
        return _as_dict(session.scalars(query).first())


def attachment_get_all(engine, project_id=None, filters=None):
    query = (sa.select(VolumeAttachment)
             .join(Volume, Volume.id == VolumeAttachment.volume_id)
             .where(_live(VolumeAttachment)))
    if project_id is not None:
        query = query.where(Volume.project_id == project_id)
    for key, value in (filters or {}).items():
        query = query.where(getattr(VolumeAttachment, key) == value)
    query = query.order_by(VolumeAttachment.created_at.desc())
    with _session(engine) as session:
        return [_as_dict(a) for a in session.scalars(query)]


def attachment_get_all_in_status(engine, attach_statuses):
    query = sa.select(VolumeAttachment).where(
        _live(VolumeAttachment), VolumeAttachment.attach_status.in_(attach_statuses))
    with _session(engine) as session:
        return [_as_dict(a) for a in session.scalars(query)]


def attachment_update(engine, attachment_id, values, volume_values=None,
                      expected_attach_status=None):
    """Update an attachment and, in the same transaction, its volume
    (``volume_values``): the two statuses never disagree in between.
    Returns the attachment, or None when it is gone or not as expected."""
    values = dict(values, updated_at=timeutils.utcnow())
    update = sa.update(VolumeAttachment).where(VolumeAttachment.id == attachment_id,
                                               _live(VolumeAttachment))
    if expected_attach_status is not None:
        update = update.where(VolumeAttachment.attach_status.in_(expected_attach_status))
    with _session(engine, writer=True) as session:
        if session.execute(update.values(**values)).rowcount != 1:
            return None
        attachment = session.get(VolumeAttachment, attachment_id)
        if volume_values:
            session.execute(_volume_update_statement(
                attachment.volume_id, dict(volume_values, updated_at=timeutils.utcnow()),
                None))
        return _as_dict(attachment)


def attachment_destroy(engine, attachment_id):
    """Delete the attachment and give its volume the status its remaining
    attachments call for (Cinder's ``finish_detach``). Returns the volume's
    remaining attachments, or None when the attachment was already gone."""
    with _session(engine, writer=True) as session:
        attachment = session.get(VolumeAttachment, attachment_id)
        if attachment is None or attachment.deleted:
            return None
        attachment.attach_status = fields.ATTACH_DETACHED
        attachment.detach_time = timeutils.utcnow()
        for key, value in _soft_delete_values().items():
            setattr(attachment, key, value)
        session.flush()
        volume = _as_dict(session.get(Volume, attachment.volume_id))
        volume = _with_attachments(session, [volume])[0]
        remaining = volume["volume_attachment"]
        status, attach_status = fields.attach_status_after_detach(
            [a["attach_status"] for a in remaining])
        if remaining and attach_status == fields.ATTACH_DETACHED:
            # Others are still reserved or attaching: the volume stays
            # reserved for them rather than look free.
            status, attach_status = fields.RESERVED, fields.ATTACH_RESERVED
        session.execute(_volume_update_statement(
            volume["id"], {"status": status, "attach_status": attach_status,
                           "updated_at": timeutils.utcnow()}, None))
        return remaining


# --- snapshots --------------------------------------------------------------------------

def snapshot_create(engine, values, volume_statuses):
    """Make the snapshot record if its volume is still in one of
    ``volume_statuses`` (Cinder checks again after the insert; here the
    check and the insert are one transaction). Returns ``(snapshot, None)``,
    or ``(None, volume)`` with the volume as it was when refused."""
    with _session(engine, writer=True) as session:
        volume = session.get(Volume, values["volume_id"], with_for_update=True)
        if volume is None or volume.deleted or volume.status not in volume_statuses:
            return None, _as_dict(volume)
        snapshot = Snapshot(**values)
        session.add(snapshot)
        session.flush()
        return _as_dict(snapshot), None


def snapshot_get(engine, snapshot_id, project_id=None):
    query = sa.select(Snapshot).where(Snapshot.id == snapshot_id, _live(Snapshot))
    if project_id is not None:
        query = query.where(Snapshot.project_id == project_id)
    with _session(engine) as session:
        return _as_dict(session.scalars(query).first())


def snapshot_get_all(engine, project_id=None, filters=None):
    query = sa.select(Snapshot).where(_live(Snapshot))
    if project_id is not None:
        query = query.where(Snapshot.project_id == project_id)
    for key, value in (filters or {}).items():
        query = query.where(getattr(Snapshot, key) == value)
    query = query.order_by(Snapshot.created_at.desc(), Snapshot.id.desc())
    with _session(engine) as session:
        return [_as_dict(s) for s in session.scalars(query)]


def snapshot_get_all_in_status(engine, statuses):
    query = sa.select(Snapshot).where(_live(Snapshot), Snapshot.status.in_(statuses))
    with _session(engine) as session:
        return [_as_dict(s) for s in session.scalars(query)]


def snapshot_update(engine, snapshot_id, values, expected_status=None):
    values = dict(values, updated_at=timeutils.utcnow())
    if "metadata" in values:
        values["snapshot_metadata"] = values.pop("metadata")
    update = sa.update(Snapshot).where(Snapshot.id == snapshot_id, _live(Snapshot))
    if expected_status is not None:
        if isinstance(expected_status, str):
            expected_status = [expected_status]
        update = update.where(Snapshot.status.in_(expected_status))
    with _session(engine, writer=True) as session:
        if session.execute(update.values(**values)).rowcount != 1:
            return None
        return _as_dict(session.get(Snapshot, snapshot_id))


def snapshot_destroy(engine, snapshot_id):
    with _session(engine, writer=True) as session:
        session.execute(sa.update(Snapshot).where(Snapshot.id == snapshot_id)
                        .values(status="deleted", **_soft_delete_values()))


# --- volume types --------------------------------------------------------------------

def volume_type_create(engine, values):
    with _session(engine, writer=True) as session:
        volume_type = VolumeType(**values)
        session.add(volume_type)
        session.flush()
        return _as_dict(volume_type)


def volume_type_get(engine, volume_type_id):
    query = sa.select(VolumeType).where(VolumeType.id == volume_type_id, _live(VolumeType))
    with _session(engine) as session:
        return _as_dict(session.scalars(query).first())


def volume_type_get_by_name(engine, name):
    query = sa.select(VolumeType).where(VolumeType.name == name, _live(VolumeType))
    with _session(engine) as session:
        return _as_dict(session.scalars(query).first())


def volume_type_get_all(engine, include_private=False):
    with _session(engine) as session:
        return _volume_types(session, include_private)


def _volume_types(session, include_private):
    query = sa.select(VolumeType).where(_live(VolumeType))
    if not include_private:
        query = query.where(VolumeType.is_public == sa.true())
    return [_as_dict(t) for t in session.scalars(query.order_by(VolumeType.created_at))]


def volume_type_destroy(engine, volume_type_id):
    with _session(engine, writer=True) as session:
        session.execute(sa.update(VolumeType).where(VolumeType.id == volume_type_id)
                        .values(**_soft_delete_values()))


# --- quotas ---------------------------------------------------------------------------

def quota_get_all_by_project(engine, project_id):
    """{resource: hard_limit} of the limits set for the project."""
    with _session(engine) as session:
        return _project_quotas(session, project_id)


def _project_quotas(session, project_id):
    query = sa.select(Quota.resource, Quota.hard_limit).where(
        Quota.project_id == project_id, _live(Quota))
    return dict(session.execute(query).all())


def quota_read(engine, project_id):
    """What a quota check reads, in one session (one connection taken from
    the pool and given back, where reading the three apart took three):
    every volume type, the limits set for the project, and what it holds
    (:func:`quota_usage`)."""
    with _session(engine) as session:
        return (_volume_types(session, include_private=True),
                _project_quotas(session, project_id), _quota_usage(session, project_id))


def quota_set(engine, project_id, limits):
    """Set (insert or replace) the project's limits of the given resources."""
    with _session(engine, writer=True) as session:
        for resource, hard_limit in limits.items():
            row = session.scalars(sa.select(Quota).where(
                Quota.project_id == project_id, Quota.resource == resource,
                _live(Quota))).first()
            if row is None:
                session.add(Quota(project_id=project_id, resource=resource,
                                  hard_limit=hard_limit))
            else:
                row.hard_limit = hard_limit


def quota_destroy_all_by_project(engine, project_id):
    with _session(engine, writer=True) as session:
        session.execute(sa.update(Quota).where(Quota.project_id == project_id, _live(Quota))
                        .values(**_soft_delete_values()))


def quota_usage(engine, project_id):
    """What the project holds now, per volume type id: {type id: (volumes,
    volume GiB, snapshots, snapshot GiB)}. Volumes being deleted still
    count (their space is not free yet), as in Cinder."""
    with _session(engine) as session:
        return _quota_usage(session, project_id)


def _quota_usage(session, project_id):
    volumes = (sa.select(Volume.volume_type_id, sa.func.count(), sa.func.sum(Volume.size))
               .where(Volume.project_id == project_id, _live(Volume))
               .group_by(Volume.volume_type_id))
    snapshots = (sa.select(Snapshot.volume_type_id, sa.func.count(),
                           sa.func.sum(Snapshot.volume_size))
                 .where(Snapshot.project_id == project_id, _live(Snapshot))
                 .group_by(Snapshot.volume_type_id))
    usage = {}
    for type_id, count, size in session.execute(volumes):
        usage[type_id] = (count, int(size or 0), 0, 0)
    for type_id, count, size in session.execute(snapshots):
        held = usage.get(type_id, (0, 0, 0, 0))
        usage[type_id] = (held[0], held[1], count, int(size or 0))
    return usage
