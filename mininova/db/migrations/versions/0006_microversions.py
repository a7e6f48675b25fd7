"""What the microversions up to 2.79 need in the database: a server's
description (2.19) and lock (2.9, with its reason from 2.73), server tags
(2.26), uuids for services and compute nodes (2.53) and migrations (2.59),
and a server group's rules (2.64).

Rows that exist already get a fresh uuid each, as Nova's online data
migrations gave old services and compute nodes theirs.

Revision ID: 0006
Revises: 0005
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The tables whose rows are named by a uuid from now on.
_UUID_TABLES = ("services", "compute_nodes", "migrations")


def upgrade():
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("display_description", sa.Text))
        batch.add_column(sa.Column("locked", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("locked_by", sa.String(255)))
        batch.add_column(sa.Column("locked_reason", sa.String(255)))
    op.create_table(
        "tags",
        sa.Column("resource_id", sa.String(36), primary_key=True),
        sa.Column("tag", sa.String(60), primary_key=True),
    )
    for table in _UUID_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("uuid", sa.String(36)))
        _fill_uuids(table)
        with op.batch_alter_table(table) as batch:
            batch.create_unique_constraint(f"uniq_{table}0uuid", ["uuid"])
    with op.batch_alter_table("instance_groups") as batch:
        batch.add_column(sa.Column("rules", sa.JSON))


def _fill_uuids(table_name):
    table = sa.table(table_name, sa.column("id", sa.Integer), sa.column("uuid", sa.String))
    connection = op.get_bind()
    for (row_id,) in connection.execute(sa.select(table.c.id)).all():
        connection.execute(sa.update(table).where(table.c.id == row_id)
                           .values(uuid=str(uuid.uuid4())))


def downgrade():
    with op.batch_alter_table("instance_groups") as batch:
        batch.drop_column("rules")
    for table in reversed(_UUID_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uniq_{table}0uuid", type_="unique")
            batch.drop_column("uuid")
    op.drop_table("tags")
    with op.batch_alter_table("instances") as batch:
        for column in ("locked_reason", "locked_by", "locked", "display_description"):
            batch.drop_column(column)
