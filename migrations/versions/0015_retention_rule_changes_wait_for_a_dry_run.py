"""Retention rule changes wait for a dry run and a confirmation by someone who may run retention

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:00:00

Issue 14, item 5: a registry key could set a one-day period and an every-minute schedule, and the scheduler
deleted the table. A rule change now needs retention:run and is kept here, pending, until it is applied.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "rule_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("rules", _JSON, nullable=False),
        sa.Column("before", _JSON, nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("proposed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("dry_run_id", sa.Integer(), nullable=True),
        sa.Column("dry_run_version", sa.Integer(), nullable=True),
        sa.Column("dry_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dry_run_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("dry_run_result", _JSON, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rule_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rule_change_activity"), ["activity"], unique=False)
        batch_op.create_index(batch_op.f("ix_rule_change_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rule_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rule_change_status"))
        batch_op.drop_index(batch_op.f("ix_rule_change_activity"))
    op.drop_table("rule_change")
