"""Resize and cold migration: the ``migrations`` table and the flavors an
instance keeps while a resize waits for confirm or revert.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "migrations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("instance_uuid", sa.String(36), nullable=False, index=True),
        sa.Column("migration_type", sa.String(255), nullable=False),
        sa.Column("status", sa.String(255), nullable=False),
        sa.Column("source_compute", sa.String(255)),
        sa.Column("source_node", sa.String(255)),
        sa.Column("dest_compute", sa.String(255)),
        sa.Column("dest_node", sa.String(255)),
        sa.Column("old_instance_type_id", sa.Integer),
        sa.Column("new_instance_type_id", sa.Integer),
        sa.Column("old_vm_state", sa.String(255)),
        sa.Column("created_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime),
    )
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("old_flavor", sa.JSON))
        batch.add_column(sa.Column("new_flavor", sa.JSON))


def downgrade():
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("new_flavor")
        batch.drop_column("old_flavor")
    op.drop_table("migrations")
