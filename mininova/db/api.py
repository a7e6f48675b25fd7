"""Database queries (mirrors ``nova/db/main/api.py``): the engines and
sessions, the helpers that turn rows into dicts and back, and the queries
of instances, their tags, metadata and faults. The other concepts of
Nova's module have modules of their own beside this one, which use its
helpers: ``services`` (and compute nodes), ``flavors``,
``resize_migrations``, ``instance_actions``, ``block_devices``,
``keypairs``, ``quotas``, ``scheduling``.

Every function takes the request context first, opens its own short
transaction, and returns plain dicts (never ORM objects), because results
travel over RPC: the conductor runs these on behalf of compute hosts, which
hold no database credentials. Column names are the dict keys; the instance's
``metadata`` column comes back as ``metadata``.

Updates of an instance can be *compare-and-swap* on its task_state (Nova's
``expected_task_state``): ``UPDATE ... WHERE task_state IN (...)``. That is
how two actions racing on one server are told apart without locks held
across services.

SQLite (the default) runs in WAL mode with a busy timeout, and write
transactions start with ``BEGIN IMMEDIATE`` so that two writers queue up
instead of failing with "database is locked". PostgreSQL and MariaDB need
nothing special.
"""

import functools
import threading
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from oslo_utils import timeutils
from sqlalchemy import event, orm

from mininova import exception
from mininova.conf import CONF
from mininova.db import models

_ENGINES = {}
_ENGINES_LOCK = threading.Lock()


# --- engines and sessions -------------------------------------------------

def get_engine(url=None):
    """The engine for ``url`` (default ``[database] connection``), made once."""
    url = url or CONF.database.connection
    if not url:
        raise exception.DBNotAllowed(binary=_program_name())
    with _ENGINES_LOCK:
        if url not in _ENGINES:
            _ENGINES[url] = _create_engine(url)
        return _ENGINES[url]


def _create_engine(url):
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = sa.create_engine(
        url,
        connect_args={"timeout": CONF.database.sqlite_busy_timeout,
                      "check_same_thread": False},
    )
    _make_sqlite_friendly(engine)
    return engine


def _make_sqlite_friendly(engine):
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let us issue BEGIN ourselves (pysqlite's own is always DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL: the log is synced at checkpoints, not at every commit
        # (see [database] sqlite_synchronous); FULL syncs every commit.
        synchronous = "FULL" if CONF.database.sqlite_synchronous else "NORMAL"
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={CONF.database.sqlite_busy_timeout * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def dispose_engines():
    with _ENGINES_LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


@contextmanager
def transaction(writer=False):
    """A session, committed at the end (rolled back on an error). A reader
    opened while this thread is inside :func:`reader` joins it, as Nova's
    enginefacade readers nest: one request's reads share one transaction
    and one connection instead of taking one each. A writer always has its
    own, and so sees only what is committed, as before."""
    outer = getattr(_READER, "session", None)
    if outer is not None and not writer:
        yield outer
        return
    engine = get_engine()
    with orm.Session(engine, expire_on_commit=False) as session:
        if writer and engine.dialect.name == "sqlite":
            # Begins the transaction, as BEGIN IMMEDIATE (see _on_begin).
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


_READER = threading.local()


@contextmanager
def reader():
    """Every read of this thread until the end of the block in one
    transaction (Nova's ``pick_context_manager_reader`` around a whole
    request): ``GET /servers/<id>`` reads the instance, its faults and its
    block device mappings, and each took a connection, a BEGIN and a
    COMMIT of its own, a fifth of the request's CPU (measured on SQLite)."""
    if getattr(_READER, "session", None) is not None:
        yield
        return
    with transaction() as session:
        _READER.session = session
        try:
            yield
        finally:
            _READER.session = None


def _program_name():
    import os
    import sys

    return os.path.basename(sys.argv[0] or "python")


# --- rows to dicts and back -------------------------------------------------

def as_dict(obj):
    if obj is None:
        return None
    mapper = sa.inspect(type(obj))
    return {attr.columns[0].name: getattr(obj, attr.key) for attr in mapper.column_attrs}


def _rows(query, params=None):
    """Plain rows of a table query, without building ORM objects: the
    scheduler reads every service and compute node on every request, and
    at a thousand hosts the ORM's bookkeeping would cost more than the read."""
    with transaction() as session:
        result = session.execute(query, params)
        keys = list(result.keys())
        return [dict(zip(keys, row, strict=True)) for row in result.all()]


def _saved(session, row):
    """``row`` inserted (flushed, so that its id is set), as a dict."""
    session.add(row)
    session.flush()
    return as_dict(row)


def attribute_values(model, values):
    """Column-named values to attribute-named ones, ISO strings to datetimes.

    Values arrive from RPC as JSON, so a timestamp set on a compute host
    comes here as a string.
    """
    return {attr.key: value for attr, value in _checked_values(model, values)}


def column_values(model, values):
    """The same values checked and converted, still named by column (for a
    statement on the model's table)."""
    return {attr.columns[0].name: value for attr, value in _checked_values(model, values)}


def _checked_values(model, values):
    """``(column attribute, value)`` of each named column; an unknown name
    is an InvalidInput, an ISO string for a DateTime a datetime."""
    by_column = _column_attrs(model)
    for name, value in values.items():
        attr = by_column.get(name)
        if attr is None:
            raise exception.InvalidInput(reason=f"{model.__tablename__} has no column {name}")
        if isinstance(value, str) and isinstance(attr.columns[0].type, sa.DateTime):
            value = datetime.fromisoformat(value)
        yield attr, value


@functools.cache
def _column_attrs(model):
    """``{column name: column attribute}`` of a model: its mapping never
    changes, and every instance save asks for it."""
    return {attr.columns[0].name: attr for attr in sa.inspect(model).column_attrs}


# --- instances ------------------------------------------------------------------

def instance_create(context, values):
    with transaction(writer=True) as session:
        instance = models.Instance(**attribute_values(models.Instance, values))
        return _saved(session, instance)


def _instance_by_uuid(read_deleted):
    table = models.Instance.__table__
    query = sa.select(table).where(table.c.uuid == sa.bindparam("uuid"))
    if not read_deleted:
        query = query.where(table.c.deleted == 0)
    return query.limit(1)


# Built once, the uuid bound at each call (building it cost a third of
# running it): every GET of a server and every save through the conductor
# reads one.
_INSTANCE_BY_UUID = {read_deleted: _instance_by_uuid(read_deleted)
                     for read_deleted in (False, True)}


def instance_get_by_uuid(context, instance_uuid, read_deleted=False):
    # Plain rows, no ORM object: as_dict would make the same dict.
    rows = _rows(_INSTANCE_BY_UUID[bool(read_deleted)], {"uuid": instance_uuid})
    if not rows:
        raise exception.InstanceNotFound(instance_id=instance_uuid)
    return rows[0]


def instance_get_all_by_filters(context, project_id=None, host=None, name=None,
                                limit=None, read_deleted=False, filters=None, marker=None):
    """Newest first, as ``GET /servers`` lists them.

    ``filters`` holds what ``GET /servers`` may ask beyond the project, the
    host and the name (see :data:`INSTANCE_FILTERS`). ``marker`` is the uuid
    of the last server of the previous page: the page starts after it.
    """
    with transaction() as session:
        query = sa.select(models.Instance).order_by(
            models.Instance.created_at.desc(), models.Instance.id.desc()
        )
        if not read_deleted:
            query = query.filter_by(deleted=0)
        if project_id is not None:
            query = query.filter_by(project_id=project_id)
        if host is not None:
            query = query.filter_by(host=host)
        if name:
            query = query.filter(models.Instance.display_name.contains(name))
        for key, value in (filters or {}).items():
            query = INSTANCE_FILTERS[key](query, value)
        if marker is not None:
            query = _after_marker(session, query, models.Instance, marker, uuid=marker)
        if limit:
            query = query.limit(limit)
        return [as_dict(instance) for instance in session.scalars(query)]


def _after_marker(session, query, model, marker, **which):
    """``query`` (newest first) limited to the rows after the one ``which``
    names, the marker of a page: Nova's paging by ``marker`` and ``limit``."""
    row = session.scalars(sa.select(model).filter_by(**which)).first()
    if row is None:
        raise exception.MarkerNotFound(marker=marker)
    return query.where(sa.or_(model.created_at < row.created_at,
                              sa.and_(model.created_at == row.created_at,
                                      model.id < row.id)))


def _last_change(model):
    """When a row last changed. A row never updated has no updated_at; the
    API shows its creation time as ``updated``, and the time filters agree."""
    return sa.func.coalesce(model.updated_at, model.created_at)


def _with_tag(tag):
    return models.Instance.uuid.in_(sa.select(models.Tag.resource_id).filter_by(tag=tag))


def _with_any_tag(tags):
    return models.Instance.uuid.in_(
        sa.select(models.Tag.resource_id).where(models.Tag.tag.in_(tags)))


# Each filter of a server list (Nova's names, as the API passes them) and the
# condition it adds. The tag filters are microversion 2.26's: ``tags`` wants
# every tag, ``tags-any`` one of them; ``not-tags`` drops the servers having
# every tag, ``not-tags-any`` those having any.
INSTANCE_FILTERS = {
    "vm_state": lambda q, states: q.where(models.Instance.vm_state.in_(states)),
    "task_state": lambda q, states: q.where(_state_in(models.Instance.task_state, states)),
    "changes-since": lambda q, when: q.where(_last_change(models.Instance) >= when),
    "changes-before": lambda q, when: q.where(_last_change(models.Instance) <= when),
    "tags": lambda q, tags: q.where(*[_with_tag(tag) for tag in tags]),
    "tags-any": lambda q, tags: q.where(_with_any_tag(tags)),
    "not-tags": lambda q, tags: q.where(sa.not_(sa.and_(*[_with_tag(tag) for tag in tags]))),
    "not-tags-any": lambda q, tags: q.where(sa.not_(_with_any_tag(tags))),
    "locked": lambda q, locked: q.where(models.Instance.locked.is_(locked)),
    "image": lambda q, image_id: q.where(models.Instance.image_ref == image_id),
    "flavor": lambda q, flavorid: q.where(
        models.Instance.flavor["flavorid"].as_string() == flavorid),
    "reservation_id": lambda q, rid: q.where(models.Instance.reservation_id == rid),
    "uuid": lambda q, uuids: q.where(models.Instance.uuid.in_(uuids)),
    "project_id": lambda q, project_id: q.where(models.Instance.project_id == project_id),
    "user_id": lambda q, user_id: q.where(models.Instance.user_id == user_id),
}


def instance_get_all_by_host(context, host):
    return instance_get_all_by_filters(context, host=host)


def instance_update(context, instance_uuid, values, expected_task_state=None,
                    expected_vm_state=None):
    """Update one instance; with ``expected_*`` only if its state still matches.

    ``expected_task_state`` is a state or a list of states (``None`` meaning
    "no task"). On a mismatch nothing changes and InstanceUpdateConflict (its
    UnexpectedTaskStateError kind when the task_state differs) names what
    was found, so the caller learns that someone (usually a delete) got
    there first.
    """
    # On the table, not through the ORM: a compute's every save comes here
    # through the conductor (seven on a boot's path), and the ORM's update
    # and the object it loaded back cost four times the SQL they ran.
    table = models.Instance.__table__
    values = column_values(models.Instance, values)
    values.setdefault("updated_at", timeutils.utcnow())
    update = sa.update(table).where(table.c.uuid == instance_uuid, table.c.deleted == 0)
    if expected_task_state is not None:
        update = update.where(_state_in(table.c.task_state, expected_task_state))
    if expected_vm_state is not None:
        update = update.where(_state_in(table.c.vm_state, expected_vm_state))
    with transaction(writer=True) as session:
        if session.execute(update.values(**values)).rowcount == 1:
            return dict(session.execute(_INSTANCE_BY_UUID[False],
                                        {"uuid": instance_uuid}).mappings().one())
    _raise_update_mismatch(context, instance_uuid, expected_task_state, expected_vm_state)


def _state_in(column, expected):
    expected = expected if isinstance(expected, (list, tuple, set)) else [expected]
    named = [state for state in expected if state is not None]
    condition = column.in_(named)
    if None in expected:
        condition = sa.or_(condition, column.is_(None))
    return condition


def _raise_update_mismatch(context, instance_uuid, expected_task_state, expected_vm_state):
    """Say which expected states did not hold, as Nova does: only the
    differing fields, each with what was expected and what was found."""
    actual = instance_get_by_uuid(context, instance_uuid)  # raises InstanceNotFound
    expected, found = {}, {}
    for field, wanted in (("vm_state", expected_vm_state),
                          ("task_state", expected_task_state)):
        if wanted is None:
            continue
        wanted = list(wanted) if isinstance(wanted, (list, tuple, set)) else [wanted]
        if actual[field] not in wanted:
            expected[field], found[field] = wanted, actual[field]
    if "task_state" in found:
        cls = (exception.UnexpectedDeletingTaskStateError
               if found["task_state"] == "deleting" else exception.UnexpectedTaskStateError)
    else:
        cls = exception.InstanceUpdateConflict
    raise cls(instance_uuid=instance_uuid, expected=expected, actual=found)


def instance_destroy(context, instance_uuid):
    """Soft-delete: the row stays, with ``deleted`` set to its id."""
    now = timeutils.utcnow()
    with transaction(writer=True) as session:
        instance = session.scalars(
            sa.select(models.Instance).filter_by(uuid=instance_uuid, deleted=0)
        ).first()
        if instance is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        instance.deleted = instance.id
        instance.deleted_at = now
        # A deleted server leaves its server group and loses its tags, as in Nova.
        session.execute(sa.delete(models.InstanceGroupMember)
                        .filter_by(instance_uuid=instance_uuid))
        session.execute(sa.delete(models.Tag).filter_by(resource_id=instance_uuid))
        # Its block device mappings are soft-deleted with it, as in Nova.
        bdm = models.BlockDeviceMapping
        session.execute(sa.update(bdm).where(bdm.instance_uuid == instance_uuid,
                                             bdm.deleted == 0)
                        .values(deleted=bdm.id, deleted_at=now))
        instance.vm_state = "deleted"
        instance.task_state = None
        instance.terminated_at = instance.terminated_at or now
        session.flush()
        return as_dict(instance)


# --- tags (microversion 2.26) ------------------------------------------------------

# Nova's limit of tags per server.
MAX_TAG_COUNT = 50


def instance_tags_get(context, instance_uuids):
    """``{uuid: [tag, ...]}`` (sorted) for the given instances."""
    result = {instance_uuid: [] for instance_uuid in instance_uuids}
    if not instance_uuids:
        return result
    with transaction() as session:
        rows = session.scalars(sa.select(models.Tag)
                               .where(models.Tag.resource_id.in_(list(instance_uuids)))
                               .order_by(models.Tag.tag))
        for row in rows:
            result[row.resource_id].append(row.tag)
    return result


def instance_tag_add(context, instance_uuid, tag):
    """Add one tag; False if the server had it already. A server with
    MAX_TAG_COUNT tags takes no more (TooManyTags, checked first, as Nova
    does), counted in the same transaction as the insert."""
    with transaction(writer=True) as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(models.Tag)
                               .filter_by(resource_id=instance_uuid))
        if count >= MAX_TAG_COUNT:
            raise exception.TooManyTags(max_count=MAX_TAG_COUNT)
        if session.get(models.Tag, (instance_uuid, tag)) is not None:
            return False
        session.add(models.Tag(resource_id=instance_uuid, tag=tag))
        return True


def instance_tags_set(context, instance_uuid, tags):
    """Replace all the server's tags; returns them, sorted."""
    with transaction(writer=True) as session:
        session.execute(sa.delete(models.Tag).filter_by(resource_id=instance_uuid))
        for tag in sorted(set(tags)):
            session.add(models.Tag(resource_id=instance_uuid, tag=tag))
    return sorted(set(tags))


def instance_tag_delete(context, instance_uuid, tag):
    with transaction(writer=True) as session:
        result = session.execute(sa.delete(models.Tag)
                                 .filter_by(resource_id=instance_uuid, tag=tag))
        if result.rowcount != 1:
            raise exception.InstanceTagNotFound(instance_id=instance_uuid, tag=tag)


def instances_purge_unbuilt(context, instance_uuids):
    """Remove rows that never became servers: the API wrote them, then
    the quota recheck refused the request (a refused request leaves
    nothing, not even a deleted row). Their group memberships and block
    device mappings go too."""
    with transaction(writer=True) as session:
        session.execute(sa.delete(models.BlockDeviceMapping)
                        .where(models.BlockDeviceMapping.instance_uuid.in_(instance_uuids)))
        session.execute(sa.delete(models.InstanceGroupMember)
                        .where(models.InstanceGroupMember.instance_uuid.in_(instance_uuids)))
        session.execute(sa.delete(models.Instance)
                        .where(models.Instance.uuid.in_(instance_uuids)))


def instance_metadata_update(context, instance_uuid, metadata, delete=False,
                             max_items=None):
    """Merge ``metadata`` into the instance's (or, with ``delete``, replace
    it) and return the result; a ``None`` value removes its key.

    The row is read and written in one transaction, locked (SELECT ... FOR
    UPDATE), so that two requests adding keys at once both keep theirs. A
    result of more than ``max_items`` keys is refused with
    MetadataLimitExceeded and nothing changes."""
    with transaction(writer=True) as session:
        instance = session.scalars(
            sa.select(models.Instance).filter_by(uuid=instance_uuid, deleted=0)
            .with_for_update()).first()
        if instance is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        merged = {} if delete else dict(instance.user_metadata or {})
        merged.update(metadata)
        merged = {key: value for key, value in merged.items() if value is not None}
        if max_items is not None and max_items >= 0 and len(merged) > max_items:
            raise exception.MetadataLimitExceeded(allowed=max_items)
        instance.user_metadata = merged
        instance.updated_at = timeutils.utcnow()
        return merged


# --- faults ---------------------------------------------------------------------

def instance_fault_create(context, values):
    with transaction(writer=True) as session:
        fault = models.InstanceFault(**attribute_values(models.InstanceFault, values))
        return _saved(session, fault)


def instance_fault_get_latest(context, instance_uuids):
    """``{uuid: newest fault}`` for the given instances."""
    if not instance_uuids:
        return {}
    with transaction() as session:
        query = (
            sa.select(models.InstanceFault)
            .where(models.InstanceFault.instance_uuid.in_(instance_uuids))
            .order_by(models.InstanceFault.id)
        )
        return {fault.instance_uuid: as_dict(fault) for fault in session.scalars(query)}
