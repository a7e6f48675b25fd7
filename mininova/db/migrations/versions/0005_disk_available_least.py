"""``compute_nodes.disk_available_least``: the free disk a hypervisor really
has, as its driver measures it (Nova's column of the same name).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("compute_nodes") as batch:
        batch.add_column(sa.Column("disk_available_least", sa.Integer))


def downgrade():
    with op.batch_alter_table("compute_nodes") as batch:
        batch.drop_column("disk_available_least")
