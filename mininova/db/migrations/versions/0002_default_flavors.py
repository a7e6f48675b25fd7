"""Devstack's default flavors, so a fresh cloud can boot at once.

The ids are devstack's: m1.tiny..m1.xlarge are 1..5, m1.nano is 42 and
m1.micro is 84. A data migration runs once: a flavor an operator deletes
later is not re-created by the next ``db sync``.

Revision ID: 0002
Revises: 0001
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#            name,        id,   RAM MB, disk GB, vCPUs
FLAVORS = [
    ("m1.nano", "42", 64, 0, 1),
    ("m1.micro", "84", 128, 0, 1),
    ("m1.tiny", "1", 512, 1, 1),
    ("m1.small", "2", 2048, 20, 1),
    ("m1.medium", "3", 4096, 40, 2),
    ("m1.large", "4", 8192, 80, 4),
    ("m1.xlarge", "5", 16384, 160, 8),
]


def upgrade():
    flavors = sa.table(
        "flavors",
        sa.column("name", sa.String),
        sa.column("flavorid", sa.String),
        sa.column("memory_mb", sa.Integer),
        sa.column("root_gb", sa.Integer),
        sa.column("vcpus", sa.Integer),
        sa.column("created_at", sa.DateTime),
    )
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(
        flavors,
        [
            {"name": name, "flavorid": flavorid, "memory_mb": ram, "root_gb": disk,
             "vcpus": vcpus, "created_at": now}
            for name, flavorid, ram, disk, vcpus in FLAVORS
        ],
    )
