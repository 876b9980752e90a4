"""The breach register: personal data breaches, their assessment and notifications (GDPR Art. 33 and 34)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 02:00:00

A breach has a reference AVVIK-YYYY-NNNN numbered per year, the deadline to notify Datatilsynet (discovery plus
72 hours, stored in UTC), the risk assessment, the notification to Datatilsynet (with the reasons for a delay)
and to the data subjects (the count of mails, never the addresses), or the Art. 34(3) ground for not telling them.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql


revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TS = sa.DateTime(timezone=True)


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "breach",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", _text(20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", _text(200), nullable=False),
        sa.Column("description", _text(5000), nullable=False),
        sa.Column("discovered_at", _TS, nullable=False),
        sa.Column("occurred_at", _TS, nullable=True),
        sa.Column("notify_authority_by", _TS, nullable=False),
        sa.Column("data_categories", _JSON, nullable=False),
        sa.Column("subject_categories", _JSON, nullable=False),
        sa.Column("approx_subjects", sa.Integer(), nullable=True),
        sa.Column("approx_records", sa.Integer(), nullable=True),
        sa.Column("activities", _JSON, nullable=False),
        sa.Column("consequences", _text(5000), nullable=False),
        sa.Column("measures", _text(5000), nullable=False),
        sa.Column("status", _text(10), nullable=False),
        sa.Column("risk_level", _text(10), nullable=True),
        sa.Column("risk_reasons", _text(5000), nullable=True),
        sa.Column("assessed_at", _TS, nullable=True),
        sa.Column("authority_notified_at", _TS, nullable=True),
        sa.Column("authority_reference", _text(100), nullable=True),
        sa.Column("delay_reasons", _text(5000), nullable=True),
        sa.Column("subject_text", _JSON, nullable=True),
        sa.Column("subjects_notified_at", _TS, nullable=True),
        sa.Column("subjects_sent_count", sa.Integer(), nullable=True),
        sa.Column("subjects_not_required", _text(10), nullable=True),
        sa.Column("subjects_not_required_reason", _text(5000), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", _text(200), nullable=False),
        sa.Column("closed_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "number"),
    )
    with op.batch_alter_table("breach", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_breach_reference"), ["reference"], unique=True)
        batch_op.create_index(batch_op.f("ix_breach_notify_authority_by"), ["notify_authority_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_breach_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("breach", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_breach_status"))
        batch_op.drop_index(batch_op.f("ix_breach_notify_authority_by"))
        batch_op.drop_index(batch_op.f("ix_breach_reference"))
    op.drop_table("breach")
