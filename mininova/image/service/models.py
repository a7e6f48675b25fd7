"""The image service's table and queries (mirrors Glance's
``glance/db/sqlalchemy/models.py`` and ``glance/db/sqlalchemy/api.py``).

Glance keeps its own database, apart from Nova's; so does mininova-image
(``[image_service] connection``), with its own ``DeclarativeBase``.

Left out on purpose:

- Glance's migrations: the table is made with ``metadata.create_all`` when
  the service starts. Fine for a table that does not change; a real service
  would need Alembic as ``mininova/db/migrations`` has.
- Glance's ``image_properties``, ``image_tags``, ``image_locations`` and
  ``image_members`` tables: custom properties and tags are JSON columns of
  the one row, an image has exactly one location (``$store_path/<id>``), and
  there is no sharing between projects (``shared``/``community`` visibility).

Like Glance, a deleted image keeps its row, with status ``deleted`` and
``deleted_at`` set; the queries below never return such rows.

Every function takes the engine first, runs one short transaction and
returns plain dicts, as ``mininova/db/api.py`` does.
"""

from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from oslo_utils import timeutils
from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, String, Text, orm
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The life of an image (Glance's ``glance/domain/__init__.py`` has the full
# graph): created ``queued``; ``saving`` while its data is uploaded;
# ``active`` once stored and checked; ``killed`` when the upload failed (a
# killed image never gets data: make a new one); ``deleted``.
QUEUED = "queued"
SAVING = "saving"
ACTIVE = "active"
KILLED = "killed"
DELETED = "deleted"


class Base(DeclarativeBase):
    pass


class Image(Base):
    """One image: its metadata; its data is the store's file named after ``id``."""

    __tablename__ = "images"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(30), index=True)
    disk_format: Mapped[str] = mapped_column(String(20))
    container_format: Mapped[str] = mapped_column(String(20))
    # Bytes of the uploaded file, and of the disk it holds (what a guest
    # sees): a 16 MiB qcow2 may be a 200 KiB file.
    size: Mapped[int | None] = mapped_column(BigInteger)
    virtual_size: Mapped[int | None] = mapped_column(BigInteger)
    checksum: Mapped[str | None] = mapped_column(String(32))
    os_hash_algo: Mapped[str | None] = mapped_column(String(64))
    os_hash_value: Mapped[str | None] = mapped_column(String(128))
    min_disk: Mapped[int] = mapped_column(Integer, default=0)
    min_ram: Mapped[int] = mapped_column(Integer, default=0)
    visibility: Mapped[str] = mapped_column(String(20), index=True)
    owner: Mapped[str | None] = mapped_column(String(255), index=True)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    # Custom properties such as ``hw_architecture``: name -> string.
    properties: Mapped[dict] = mapped_column(JSON, default=dict)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    # Why the upload failed, for the log and the operator (not in the API).
    fault: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=timeutils.utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=timeutils.utcnow,
                                                 onupdate=timeutils.utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)


def create_tables(engine):
    """Make the ``images`` table if it is missing (our stand-in for migrations)."""
    Base.metadata.create_all(engine)


@contextmanager
def _session(engine, writer=False):
    with orm.Session(engine, expire_on_commit=False) as session:
        if writer and engine.dialect.name == "sqlite":
            # Begins the transaction as BEGIN IMMEDIATE: a writer queues up
            # behind the others instead of failing with "database is
            # locked" (see mininova/db/api.py).
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _as_dict(image):
    if image is None:
        return None
    return {column.key: getattr(image, column.key) for column in Image.__table__.columns}


def _live():
    return Image.status != DELETED


def _visible_to(project_id):
    """Public images and the project's own; ``None`` means everything (admin)."""
    if project_id is None:
        return sa.true()
    return sa.or_(Image.visibility == "public", Image.owner == project_id)


# --- queries ------------------------------------------------------------------

def image_create(engine, values):
    with _session(engine, writer=True) as session:
        image = Image(**values)
        session.add(image)
        session.flush()
        return _as_dict(image)


def image_exists(engine, image_id):
    """Whether the id is taken, deleted images included (ids are never reused)."""
    with _session(engine) as session:
        return session.get(Image, image_id) is not None


def image_get(engine, image_id, project_id=None):
    """The image if it is not deleted and ``project_id`` may see it, else None."""
    query = sa.select(Image).where(Image.id == image_id, _live(), _visible_to(project_id))
    with _session(engine) as session:
        return _as_dict(session.scalars(query).first())


def image_get_all(engine, project_id=None, name=None, status=None):
    """Images ``project_id`` may see, newest first, optionally filtered."""
    query = sa.select(Image).where(_live(), _visible_to(project_id))
    if name is not None:
        query = query.where(Image.name == name)
    if status is not None:
        query = query.where(Image.status == status)
    query = query.order_by(Image.created_at.desc(), Image.id.desc())
    with _session(engine) as session:
        return [_as_dict(image) for image in session.scalars(query)]


def image_get_all_in_status(engine, status):
    with _session(engine) as session:
        query = sa.select(Image).where(Image.status == status)
        return [_as_dict(image) for image in session.scalars(query)]


def image_update(engine, image_id, values, expected_status=None, expected_updated_at=None):
    """Update an image; with ``expected_status``, only if it still has it.

    That is a compare-and-swap (``UPDATE ... WHERE status IN (...)``): of two
    uploads racing on one queued image, exactly one moves it to ``saving``;
    an upload that finishes after a delete finds the status changed and
    knows to throw its file away. With ``expected_updated_at``, only if
    nobody wrote the image since it was read (a PATCH must not undo another
    one). Returns the updated image, or None when the image is gone or was
    not as expected.
    """
    values = dict(values, updated_at=timeutils.utcnow())
    update = sa.update(Image).where(Image.id == image_id).values(**values)
    if expected_status is not None:
        if isinstance(expected_status, str):
            expected_status = [expected_status]
        update = update.where(Image.status.in_(expected_status))
    if expected_updated_at is not None:
        update = update.where(Image.updated_at == expected_updated_at)
    with _session(engine, writer=True) as session:
        if session.execute(update).rowcount != 1:
            return None
        return _as_dict(session.get(Image, image_id))
