"""Block devices: the ``block_device_mapping`` table, one row per disk or
volume of a server (Nova's columns, less its encryption ones).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "block_device_mapping",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36)),
        sa.Column("instance_uuid", sa.String(36), nullable=False),
        sa.Column("source_type", sa.String(255)),
        sa.Column("destination_type", sa.String(255)),
        sa.Column("guest_format", sa.String(255)),
        sa.Column("device_type", sa.String(255)),
        sa.Column("disk_bus", sa.String(255)),
        sa.Column("boot_index", sa.Integer),
        sa.Column("device_name", sa.String(255)),
        sa.Column("delete_on_termination", sa.Boolean, nullable=False,
                  server_default=sa.false()),
        sa.Column("snapshot_id", sa.String(36)),
        sa.Column("volume_id", sa.String(36)),
        sa.Column("volume_size", sa.Integer),
        sa.Column("volume_type", sa.String(255)),
        sa.Column("image_id", sa.String(36)),
        sa.Column("no_device", sa.Boolean),
        sa.Column("connection_info", sa.Text),
        sa.Column("tag", sa.String(255)),
        sa.Column("attachment_id", sa.String(36)),
        sa.Column("deleted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("deleted_at", sa.DateTime),
        sa.Column("created_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime),
        sa.UniqueConstraint("uuid", name="uniq_block_device_mapping0uuid"),
    )
    op.create_index("block_device_mapping_instance_uuid_idx", "block_device_mapping",
                    ["instance_uuid"])
    op.create_index("block_device_mapping_instance_uuid_volume_id_idx",
                    "block_device_mapping", ["instance_uuid", "volume_id"])
    op.create_index("volume_id", "block_device_mapping", ["volume_id"])


def downgrade():
    op.drop_table("block_device_mapping")
