"""The volume service's tables (mirrors Cinder's
``cinder/db/sqlalchemy/models.py``; the queries are in :mod:`.db`, as
Cinder's are in ``cinder/db/sqlalchemy/api.py``).

Cinder keeps its own database, apart from Nova's; so does mininova-volume
(``[volume] connection``), with its own ``DeclarativeBase``. Five tables,
with Cinder's names and the columns a student will meet in Cinder's:

- ``volumes``: one row per volume; its file is ``$volumes_path/volume-<id>``;
- ``volume_attachment``: one row per attachment (a volume given to one
  instance), with the ``connector`` the compute sent and the
  ``connection_info`` it was answered;
- ``snapshots``: one row per snapshot (``$volumes_path/snapshot-<id>``);
- ``volume_types``: the types, ``__DEFAULT__`` first;
- ``quotas``: a project's limits where the admin set them (the defaults
  are options; see :mod:`.quotas`).

As in Cinder, rows are soft-deleted (``deleted`` true, ``deleted_at`` set);
the queries of :mod:`.db` never return deleted rows.

Left out on purpose:

- Cinder's migrations: the tables are made with ``metadata.create_all``
  when the service starts, as mininova-image does; a real service would
  need Alembic as ``mininova/db/migrations`` has.
- Cinder's side tables ``volume_metadata``, ``volume_admin_metadata``,
  ``volume_glance_metadata``, ``snapshot_metadata`` and
  ``volume_type_extra_specs``: each is a JSON column of its row here
  (``metadata``, ``image_metadata``, ``extra_specs``).
- Cinder's ``quota_usages`` and ``reservations``: usage is counted from
  the volumes and snapshots themselves, as Nova counts since Pike (see
  :mod:`.quotas`); also ``quota_classes``;
- groups, backups, transfers, messages, services, clusters.
"""

from datetime import datetime

from oslo_utils import timeutils
from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mininova.volume.service import fields


class Base(DeclarativeBase):
    pass


class _Timestamps:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=timeutils.utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, onupdate=timeutils.utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class Volume(_Timestamps, Base):
    __tablename__ = "volumes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str | None] = mapped_column(String(255), index=True)
    # The volume service that holds the volume, as Cinder's
    # host@backend#pool (here one backend: <host>@file#file).
    host: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)  # GiB
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(255), index=True)
    attach_status: Mapped[str] = mapped_column(String(255), default=fields.ATTACH_DETACHED)
    # What status the volume had before a transient one (extending), to
    # go back to (Cinder's previous_status).
    previous_status: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    display_description: Mapped[str | None] = mapped_column(String(255))
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    source_volid: Mapped[str | None] = mapped_column(String(36))
    volume_type_id: Mapped[str | None] = mapped_column(String(36))
    bootable: Mapped[bool] = mapped_column(Boolean, default=False)
    multiattach: Mapped[bool] = mapped_column(Boolean, default=False)
    # Cinder's provider_location: where the backend keeps the data.
    provider_location: Mapped[str | None] = mapped_column(String(255))
    # Cinder's volume_metadata table (the user's key/values).
    volume_metadata: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    # Cinder's volume_glance_metadata table: what the image said, copied
    # when the volume was made from it; Nova reads it to boot from the
    # volume (volume_image_metadata in the API).
    image_metadata: Mapped[dict | None] = mapped_column(JSON)
    # Why the last operation failed, for the log and the operator (Cinder
    # puts it in its user messages API, left out here).
    fault: Mapped[str | None] = mapped_column(Text)
    launched_at: Mapped[datetime | None] = mapped_column(DateTime)
    terminated_at: Mapped[datetime | None] = mapped_column(DateTime)


class VolumeAttachment(_Timestamps, Base):
    __tablename__ = "volume_attachment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), index=True)
    instance_uuid: Mapped[str | None] = mapped_column(String(36))
    attached_host: Mapped[str | None] = mapped_column(String(255))
    mountpoint: Mapped[str | None] = mapped_column(String(255))
    attach_time: Mapped[datetime | None] = mapped_column(DateTime)
    detach_time: Mapped[datetime | None] = mapped_column(DateTime)
    attach_mode: Mapped[str | None] = mapped_column(String(36))
    attach_status: Mapped[str] = mapped_column(String(255), index=True)
    # What the compute sent (its host, ip, ...) and what it was answered.
    connector: Mapped[dict | None] = mapped_column(JSON)
    connection_info: Mapped[dict | None] = mapped_column(JSON)


class Snapshot(_Timestamps, Base):
    __tablename__ = "snapshots"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(255))
    progress: Mapped[str | None] = mapped_column(String(255))
    volume_size: Mapped[int] = mapped_column(Integer)
    volume_type_id: Mapped[str | None] = mapped_column(String(36))
    display_name: Mapped[str | None] = mapped_column(String(255))
    display_description: Mapped[str | None] = mapped_column(String(255))
    snapshot_metadata: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    fault: Mapped[str | None] = mapped_column(Text)


class VolumeType(_Timestamps, Base):
    __tablename__ = "volume_types"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(String(255))
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    extra_specs: Mapped[dict] = mapped_column(JSON, default=dict)


class Quota(_Timestamps, Base):
    """One limit the admin set for one project (``quota set --volumes 20``)."""
    __tablename__ = "quotas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    resource: Mapped[str] = mapped_column(String(300))
    hard_limit: Mapped[int] = mapped_column(Integer)


def create_tables(engine):
    """Make the tables if they are missing (our stand-in for migrations)."""
    Base.metadata.create_all(engine)
