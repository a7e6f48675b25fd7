"""Key pairs in the database (mirrors ``nova/objects/keypair.py`` and its
queries). A key pair belongs to a user, not to a project: its name is
unique per user. Returns plain dicts, as ``mininova/db/api.py`` does."""

import sqlalchemy as sa

from mininova import exception
from mininova.db import api as db
from mininova.db import models


def key_pair_create(context, values):
    """KeyPairExists (409) when the user has one of that name already."""
    with db.transaction(writer=True) as session:
        if session.scalars(sa.select(models.KeyPair).filter_by(
                user_id=values["user_id"], name=values["name"])).first():
            raise exception.KeyPairExists(key_name=values["name"])
        return db._saved(session, models.KeyPair(**db.attribute_values(models.KeyPair,
                                                                       values)))


def key_pair_get(context, user_id, name):
    with db.transaction() as session:
        key_pair = session.scalars(
            sa.select(models.KeyPair).filter_by(user_id=user_id, name=name)).first()
        if key_pair is None:
            raise exception.KeypairNotFound(user_id=user_id, name=name)
        return db.as_dict(key_pair)


def key_pair_get_all_by_user(context, user_id, limit=None, marker=None):
    """The user's key pairs sorted by name, as Nova pages them. ``marker``
    is the name of the last key pair of the previous page
    (MarkerNotFound if the user has none of that name)."""
    table = models.KeyPair.__table__
    query = sa.select(table).where(table.c.user_id == user_id).order_by(table.c.name)
    if marker is not None:
        with db.transaction() as session:
            if session.scalar(sa.select(table.c.id).where(table.c.user_id == user_id,
                                                          table.c.name == marker)) is None:
                raise exception.MarkerNotFound(marker=marker)
        query = query.where(table.c.name > marker)
    if limit is not None:
        query = query.limit(limit)
    return db._rows(query)


def key_pair_count_by_user(context, user_id):
    with db.transaction() as session:
        return session.scalar(sa.select(sa.func.count(models.KeyPair.id))
                              .filter_by(user_id=user_id))


def key_pair_destroy(context, user_id, name):
    with db.transaction(writer=True) as session:
        result = session.execute(sa.delete(models.KeyPair).filter_by(user_id=user_id,
                                                                     name=name))
        if result.rowcount != 1:
            raise exception.KeypairNotFound(user_id=user_id, name=name)
