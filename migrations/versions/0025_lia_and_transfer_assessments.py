"""Legitimate-interest assessments (Art. 6(1)(f)) and transfer assessments (Chapter V)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 02:40:00

DESIGN.md §7, Registers: one legitimate-interest assessment per activity relying on Art. 6(1)(f), one
assessment per transfer in an activity's record (keyed by the activity and a key derived from the transfer's
country and recipient); an activity or transfer nobody assessed has no row. The history is in the audit trail.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_STR = sqlmodel.sql.sqltypes.AutoString


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", _STR(length=200), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "lia_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity", _STR(length=64), nullable=False),
        sa.Column("public_task_processing", sa.Boolean(), nullable=False),
        sa.Column("interest", _STR(length=5000), nullable=False),
        sa.Column("interest_holder", _STR(length=20), nullable=False),
        sa.Column("interest_lawful", sa.Boolean(), nullable=False),
        sa.Column("interest_specific", sa.Boolean(), nullable=False),
        sa.Column("interest_present", sa.Boolean(), nullable=False),
        sa.Column("necessity", _STR(length=5000), nullable=True),
        sa.Column("alternatives", _STR(length=5000), nullable=True),
        sa.Column("reasonable_expectations", _STR(length=5000), nullable=True),
        sa.Column("data_nature", _STR(length=5000), nullable=True),
        sa.Column("impact", _STR(length=5000), nullable=True),
        sa.Column("safeguards", _STR(length=5000), nullable=True),
        sa.Column("conclusion", _STR(length=20), nullable=False),
        sa.Column("conclusion_reasons", _STR(length=5000), nullable=True),
        sa.Column("assessed_by", _STR(length=200), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("lia_assessment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lia_assessment_activity"), ["activity"], unique=True)
        batch_op.create_index(batch_op.f("ix_lia_assessment_conclusion"), ["conclusion"], unique=False)
    op.create_table(
        "transfer_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity", _STR(length=64), nullable=False),
        sa.Column("transfer_key", _STR(length=16), nullable=False),
        sa.Column("country", _STR(length=200), nullable=False),
        sa.Column("recipient", _STR(length=1000), nullable=False),
        sa.Column("safeguard", _STR(length=20), nullable=False),
        sa.Column("derogation_point", _STR(length=1), nullable=True),
        sa.Column("third_country_laws", _STR(length=5000), nullable=True),
        sa.Column("supplementary_measures", _STR(length=5000), nullable=True),
        sa.Column("tia_conclusion", _STR(length=20), nullable=True),
        sa.Column("assessed_by", _STR(length=200), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("activity", "transfer_key", name="uq_transfer_assessment_transfer"),
    )
    with op.batch_alter_table("transfer_assessment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transfer_assessment_activity"), ["activity"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("transfer_assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_assessment_activity"))
    op.drop_table("transfer_assessment")
    with op.batch_alter_table("lia_assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lia_assessment_conclusion"))
        batch_op.drop_index(batch_op.f("ix_lia_assessment_activity"))
    op.drop_table("lia_assessment")
