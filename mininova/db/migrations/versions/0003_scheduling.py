"""What the full filter scheduler needs: flavor extra specs, host
aggregates (and so availability zones), server groups, and the record of
each scheduling decision.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _timestamps():
    return [sa.Column("created_at", sa.DateTime), sa.Column("updated_at", sa.DateTime)]


def _parent(table):
    return sa.ForeignKey(f"{table}.id", ondelete="CASCADE")


def upgrade():
    op.create_table(
        "flavor_extra_specs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("flavor_id", sa.Integer, _parent("flavors"), nullable=False, index=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.String(255)),
        sa.UniqueConstraint("flavor_id", "key", name="uniq_flavor_extra_specs0key"),
    )
    op.create_table(
        "aggregates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        *_timestamps(),
    )
    op.create_table(
        "aggregate_hosts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("aggregate_id", sa.Integer, _parent("aggregates"), nullable=False,
                  index=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.UniqueConstraint("aggregate_id", "host", name="uniq_aggregate_hosts0host"),
    )
    op.create_table(
        "aggregate_metadata",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("aggregate_id", sa.Integer, _parent("aggregates"), nullable=False,
                  index=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.UniqueConstraint("aggregate_id", "key", name="uniq_aggregate_metadata0key"),
    )
    op.create_table(
        "instance_groups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255)),
        sa.Column("project_id", sa.String(255), index=True),
        sa.Column("policy", sa.String(255), nullable=False),
        *_timestamps(),
    )
    op.create_table(
        "instance_group_member",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("group_id", sa.Integer, _parent("instance_groups"), nullable=False,
                  index=True),
        sa.Column("instance_uuid", sa.String(36), nullable=False, index=True),
        *_timestamps(),
        sa.UniqueConstraint("group_id", "instance_uuid",
                            name="uniq_instance_group_member0instance"),
    )
    op.create_table(
        "scheduling_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("instance_uuid", sa.String(36), nullable=False, index=True),
        sa.Column("request_id", sa.String(255)),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime),
        sa.Column("hosts", sa.JSON, nullable=False),
        sa.Column("filters", sa.JSON, nullable=False),
        sa.Column("weights", sa.JSON, nullable=False),
        sa.Column("selected_host", sa.String(255)),
        sa.Column("selected_node", sa.String(255)),
    )
