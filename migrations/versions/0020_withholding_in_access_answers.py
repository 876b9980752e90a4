"""Withholding: data an officer keeps out of an access or portability answer, with its ground and reasons

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 11:30:00

Issue 15, item 3: a table, a column or listed rows can be withheld from an access answer under Art. 15(4) or
the Personal Data Act § 16(1)(a)–(f); the letter says what was withheld and why, the ZIP leaves it out.
Written beside 0018 and 0019 (other branches); it follows 0019 in the merged chain.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql


revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "dsar_withholding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("activity", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("system", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("table", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("column", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("row_keys", _JSON, nullable=True),
        sa.Column("ground", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("reasons", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["dsar_request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dsar_withholding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dsar_withholding_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dsar_withholding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsar_withholding_request_id"))
    op.drop_table("dsar_withholding")
