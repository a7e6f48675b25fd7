"""Schema migrations with Alembic (mirrors ``nova/db/migration.py``).

``mininova-manage db sync`` runs :func:`db_sync`: Alembic upgrades the
database named by ``[database] connection`` to the newest revision under
``mininova/db/migrations/versions``. Each revision file is one step a
student can read, including the data step that adds devstack's flavors.
"""

import os

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from mininova.db import api as db_api

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


def _alembic_config(connection):
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    config.attributes["connection"] = connection
    return config


def db_sync(version="head"):
    """Upgrade the database to ``version`` (default: the newest)."""
    engine = db_api.get_engine()
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), version)


def head_revision():
    """The newest revision there is (what db_sync upgrades to)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(MIGRATIONS_DIR).get_current_head()


def db_version():
    """The revision the database is at, or None for an empty database."""
    engine = db_api.get_engine()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
