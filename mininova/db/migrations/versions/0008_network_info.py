"""Networking: the network info an instance's compute cached about its
ports (Nova's ``instance_info_caches.network_info``, kept here as a column
of the instance, as its flavor is).

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("network_info", sa.JSON))


def downgrade():
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("network_info")
