"""What the compute API clients call needs: private flavors and the
projects that may use them, key pairs (and the public key a server was
booted with), per-project quotas and the default quota class.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _timestamps():
    return [sa.Column("created_at", sa.DateTime), sa.Column("updated_at", sa.DateTime)]


def _limits_table(name, owner_column, unique_name):
    """``quotas`` and ``quota_classes`` have one shape: owner, resource, limit."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(owner_column, sa.String(255), nullable=False, index=True),
        sa.Column("resource", sa.String(255), nullable=False),
        sa.Column("hard_limit", sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint(owner_column, "resource", name=unique_name),
    )


def upgrade():
    op.create_table(
        "flavor_projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("flavor_id", sa.Integer,
                  sa.ForeignKey("flavors.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("project_id", sa.String(255), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("flavor_id", "project_id",
                            name="uniq_flavor_projects0flavor_id0project_id"),
    )
    op.create_table(
        "key_pairs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False, index=True),
        sa.Column("fingerprint", sa.String(255), nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("type", sa.String(255), nullable=False, server_default="ssh"),
        *_timestamps(),
        sa.UniqueConstraint("user_id", "name", name="uniq_key_pairs0user_id0name"),
    )
    _limits_table("quotas", "project_id", "uniq_quotas0project_id0resource")
    _limits_table("quota_classes", "class_name", "uniq_quota_classes0class_name0resource")
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("key_data", sa.Text))


def downgrade():
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("key_data")
    op.drop_table("quota_classes")
    op.drop_table("quotas")
    op.drop_table("key_pairs")
    op.drop_table("flavor_projects")
