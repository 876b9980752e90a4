"""The DPIA register: one assessment per processing activity (GDPR Art. 35/36)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 02:10:00

DESIGN.md §7, Registers: an activity nobody assessed has no row and reads as not_assessed; the history of
every change is in the audit trail.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql


revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TS = sa.DateTime(timezone=True)
_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "dpia_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity", _STR(length=64), nullable=False),
        sa.Column("status", _STR(length=20), nullable=False),
        sa.Column("listed_items", _JSON, nullable=False),
        sa.Column("criteria", _JSON, nullable=False),
        sa.Column("screening_reasons", _STR(length=5000), nullable=True),
        sa.Column("dpo_advice", _STR(length=5000), nullable=True),
        sa.Column("dpo_advice_on", sa.Date(), nullable=True),
        sa.Column("residual_risk", _STR(length=10), nullable=True),
        sa.Column("consultation_on", sa.Date(), nullable=True),
        sa.Column("consultation_reference", _STR(length=200), nullable=True),
        sa.Column("consultation_outcome", _STR(length=5000), nullable=True),
        sa.Column("document_reference", _STR(length=300), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", _STR(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dpia_assessment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dpia_assessment_activity"), ["activity"], unique=True)
        batch_op.create_index(batch_op.f("ix_dpia_assessment_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dpia_assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dpia_assessment_status"))
        batch_op.drop_index(batch_op.f("ix_dpia_assessment_activity"))
    op.drop_table("dpia_assessment")
