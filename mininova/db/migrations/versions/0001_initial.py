"""The initial schema: services, compute nodes, flavors, instances, and the
instance faults, actions and action events.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamps():
    return [sa.Column("created_at", sa.DateTime), sa.Column("updated_at", sa.DateTime)]


def upgrade():
    op.create_table(
        "services",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("binary", sa.String(255), nullable=False),
        sa.Column("topic", sa.String(255)),
        sa.Column("report_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("disabled_reason", sa.String(255)),
        sa.Column("last_seen_up", sa.DateTime),
        sa.Column("forced_down", sa.Boolean, nullable=False, server_default=sa.false()),
        *_timestamps(),
        sa.UniqueConstraint("host", "binary", name="uniq_services0host0binary"),
    )
    op.create_table(
        "compute_nodes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id")),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("hypervisor_hostname", sa.String(255), nullable=False),
        sa.Column("hypervisor_type", sa.String(255), nullable=False),
        sa.Column("hypervisor_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("vcpus", sa.Integer, nullable=False),
        sa.Column("memory_mb", sa.Integer, nullable=False),
        sa.Column("local_gb", sa.Integer, nullable=False),
        sa.Column("vcpus_used", sa.Integer, nullable=False, server_default="0"),
        sa.Column("memory_mb_used", sa.Integer, nullable=False, server_default="0"),
        sa.Column("local_gb_used", sa.Integer, nullable=False, server_default="0"),
        sa.Column("free_ram_mb", sa.Integer, nullable=False, server_default="0"),
        sa.Column("free_disk_gb", sa.Integer, nullable=False, server_default="0"),
        sa.Column("running_vms", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cpu_info", sa.JSON),
        sa.Column("ram_allocation_ratio", sa.Float, nullable=False),
        sa.Column("disk_allocation_ratio", sa.Float, nullable=False),
        sa.Column("cpu_allocation_ratio", sa.Float, nullable=False),
        sa.Column("stats", sa.JSON),
        *_timestamps(),
        sa.UniqueConstraint("host", "hypervisor_hostname", name="uniq_compute_nodes0host0node"),
    )
    op.create_table(
        "flavors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("flavorid", sa.String(255), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("memory_mb", sa.Integer, nullable=False),
        sa.Column("vcpus", sa.Integer, nullable=False),
        sa.Column("root_gb", sa.Integer, nullable=False, server_default="0"),
        sa.Column("ephemeral_gb", sa.Integer, nullable=False, server_default="0"),
        sa.Column("swap", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rxtx_factor", sa.Float, nullable=False, server_default="1.0"),
        sa.Column("is_public", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("description", sa.Text),
        *_timestamps(),
    )
    op.create_table(
        "instances",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("display_name", sa.String(255)),
        sa.Column("hostname", sa.String(255)),
        sa.Column("user_id", sa.String(255)),
        sa.Column("project_id", sa.String(255), index=True),
        sa.Column("image_ref", sa.String(255)),
        sa.Column("flavor", sa.JSON, nullable=False),
        sa.Column("host", sa.String(255), index=True),
        sa.Column("node", sa.String(255)),
        sa.Column("launched_on", sa.String(255)),
        sa.Column("availability_zone", sa.String(255)),
        sa.Column("vm_state", sa.String(255)),
        sa.Column("task_state", sa.String(255)),
        sa.Column("power_state", sa.Integer),
        sa.Column("launched_at", sa.DateTime),
        sa.Column("terminated_at", sa.DateTime),
        sa.Column("key_name", sa.String(255)),
        sa.Column("user_data", sa.Text),
        sa.Column("metadata", sa.JSON),
        sa.Column("config_drive", sa.String(255)),
        sa.Column("launch_index", sa.Integer),
        sa.Column("reservation_id", sa.String(255)),
        sa.Column("progress", sa.Integer),
        sa.Column("deleted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("deleted_at", sa.DateTime),
        *_timestamps(),
    )
    op.create_table(
        "instance_faults",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("instance_uuid", sa.String(36), nullable=False, index=True),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("message", sa.String(255)),
        sa.Column("details", sa.Text),
        sa.Column("host", sa.String(255)),
        sa.Column("created_at", sa.DateTime),
    )
    op.create_table(
        "instance_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("action", sa.String(255), nullable=False),
        sa.Column("instance_uuid", sa.String(36), nullable=False, index=True),
        sa.Column("request_id", sa.String(255), index=True),
        sa.Column("user_id", sa.String(255)),
        sa.Column("project_id", sa.String(255)),
        sa.Column("start_time", sa.DateTime),
        sa.Column("finish_time", sa.DateTime),
        sa.Column("message", sa.String(255)),
        *_timestamps(),
    )
    op.create_table(
        "instance_actions_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("action_id", sa.Integer, sa.ForeignKey("instance_actions.id"),
                  nullable=False, index=True),
        sa.Column("event", sa.String(255), nullable=False),
        sa.Column("start_time", sa.DateTime),
        sa.Column("finish_time", sa.DateTime),
        sa.Column("result", sa.String(255)),
        sa.Column("traceback", sa.Text),
        sa.Column("host", sa.String(255)),
        *_timestamps(),
    )
