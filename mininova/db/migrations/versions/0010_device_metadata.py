"""Device role tagging: the tagged devices of an instance with the addresses
its guest sees them at (Nova's ``instance_extra.device_metadata``, kept here
as a column of the instance, as its network info is).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("device_metadata", sa.JSON))


def downgrade():
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("device_metadata")
