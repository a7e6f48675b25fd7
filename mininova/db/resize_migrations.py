"""Migrations of a server to another host: resizes and cold migrations
(mirrors the ``migration_*`` queries of ``nova/db/main/api.py``). Named so
as not to be taken for the schema migrations (``mininova/db/migration.py``,
``mininova/db/migrations/``).

The conductor records a migration when the scheduler has picked a
destination; the computes move it through its statuses over RPC
(``migration_update`` of the conductor), the API confirms or reverts it,
and the resource tracker of either host counts the ones still in progress.

Same rules as :mod:`mininova.db.api`: one short transaction per function,
plain dicts out.

Left out: live migration, the lookups by id or uuid alone, the unconfirmed
resizes of a destination (Nova's automatic confirmation), and in-progress
migrations by node rather than by host.
"""

import sqlalchemy as sa
from oslo_utils import timeutils

from mininova import exception
from mininova.db import api as db
from mininova.db import models

# --- migrations (resize and cold migrate) -------------------------------------------

# A migration in one of these still holds resources on its hosts.
MIGRATION_IN_PROGRESS = ("pre-migrating", "migrating", "post-migrating", "finished",
                         "reverting", "confirming")


def migration_create(context, values):
    with db.transaction(writer=True) as session:
        migration = models.Migration(**db.attribute_values(models.Migration, values))
        return db._saved(session, migration)


def migration_update(context, migration_id, values):
    with db.transaction(writer=True) as session:
        migration = session.get(models.Migration, migration_id)
        if migration is None:
            raise exception.NotFound(f"Migration {migration_id} could not be found.")
        for key, value in db.attribute_values(models.Migration, values).items():
            setattr(migration, key, value)
        migration.updated_at = timeutils.utcnow()
        session.flush()
        return db.as_dict(migration)


def migration_get_by_instance_and_status(context, instance_uuid, status):
    """The instance's newest migration in ``status``, as confirm/revert need."""
    with db.transaction() as session:
        migration = session.scalars(
            sa.select(models.Migration)
            .filter_by(instance_uuid=instance_uuid, status=status)
            .order_by(models.Migration.id.desc())
        ).first()
        if migration is None:
            raise exception.MigrationNotFoundByStatus(instance_id=instance_uuid,
                                                      status=status)
        return db.as_dict(migration)


def migration_get_all(context, filters=None, limit=None, marker=None):
    """Migrations, newest first, for ``GET /os-migrations``.

    ``filters`` may hold ``instance_uuid``, ``status``, ``migration_type``,
    ``source_compute``, ``host`` (source or destination), ``changes-since``
    and ``changes-before``; ``marker`` is the uuid of the last migration of
    the previous page (2.59)."""
    filters = filters or {}
    table = models.Migration
    with db.transaction() as session:
        query = sa.select(table).order_by(table.created_at.desc(), table.id.desc())
        for key in ("instance_uuid", "status", "migration_type", "source_compute"):
            if filters.get(key):
                query = query.where(getattr(table, key) == filters[key])
        if filters.get("host"):
            query = query.where(sa.or_(table.source_compute == filters["host"],
                                       table.dest_compute == filters["host"]))
        if filters.get("changes-since"):
            query = query.where(db._last_change(table) >= filters["changes-since"])
        if filters.get("changes-before"):
            query = query.where(db._last_change(table) <= filters["changes-before"])
        if marker is not None:
            query = db._after_marker(session, query, table, marker, uuid=marker)
        if limit:
            query = query.limit(limit)
        return [db.as_dict(migration) for migration in session.scalars(query)]


def migration_get_in_progress_by_host(context, host):
    """Unfinished migrations from or to ``host``, for its resource tracker."""
    with db.transaction() as session:
        query = sa.select(models.Migration).where(
            models.Migration.status.in_(MIGRATION_IN_PROGRESS),
            sa.or_(models.Migration.source_compute == host,
                   models.Migration.dest_compute == host))
        return [db.as_dict(migration) for migration in session.scalars(query)]
