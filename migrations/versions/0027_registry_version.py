"""The registry's version counter, and the index the activity list orders by

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 18:45:00

Issue 18 item 3: lists and single activities are served from a per-process cache keyed by the registry's
version. `registry_version` is one row whose counter every change to the registry bumps in the same
transaction (ropa/models.py), so each worker learns of a change, made by any process, with one cheap read.
The list orders by (service, slug): without an index every page sorted all the rows (3.9 ms on PostgreSQL
for 5,000 activities).
"""

from alembic import op
import sqlalchemy as sa


revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_registry_version_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO registry_version (id, version) VALUES (1, 0)")
    with op.batch_alter_table("processing_activity", schema=None) as batch_op:
        batch_op.create_index("ix_processing_activity_service_slug", ["service", "slug"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("processing_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_processing_activity_service_slug")
    op.drop_table("registry_version")
