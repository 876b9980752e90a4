"""Deposits wait for the archive's receipt: the extract, the rows it holds, and the receipt or rejection

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 12:40:00

Issue 16, item 1: a deposit rule writes an ADDML extract and records it here; the rows stay in the data
system until an officer records the National Archives' receipt, and only the keys listed are deleted then.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "retention_deposit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("activity", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("system", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("table_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("keys", _JSON, nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("files", _JSON, nullable=False),
        sa.Column("remade_from", sa.Integer(), nullable=True),
        sa.Column("archive_reference", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("received_at", _TS, nullable=True),
        sa.Column("received_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("rejected_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("rejected_at", _TS, nullable=True),
        sa.Column("deleted_rows", sa.Integer(), nullable=True),
        sa.Column("deleted_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["retention_run.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("retention_deposit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retention_deposit_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_retention_deposit_activity"), ["activity"], unique=False)
        batch_op.create_index(batch_op.f("ix_retention_deposit_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("retention_deposit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_deposit_status"))
        batch_op.drop_index(batch_op.f("ix_retention_deposit_activity"))
        batch_op.drop_index(batch_op.f("ix_retention_deposit_run_id"))
    op.drop_table("retention_deposit")
