"""The record of processing carried out as a processor (GDPR Art. 30(2))

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 02:30:00

One row per processing Helsedirektoratet or Helsedataservice carries out on behalf of other controllers: the
controllers (organisation slugs), the data processing agreement, the categories of processing for each
controller, sub-processors, transfers to third countries with their Chapter V tool, the general description of
the security measures (Art. 32(1)), the processor's DPO, status and dates.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TS = sa.DateTime(timezone=True)


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "processor_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", _text(64), nullable=True),
        sa.Column("processor", _text(64), nullable=False),
        sa.Column("controllers", _JSON, nullable=False),
        sa.Column("agreement_ref", _text(500), nullable=False),
        sa.Column("agreement_date", sa.Date(), nullable=True),
        sa.Column("categories", _JSON, nullable=False),
        sa.Column("sub_processors", _JSON, nullable=False),
        sa.Column("transfers", _JSON, nullable=False),
        sa.Column("security_measures", _JSON, nullable=False),
        sa.Column("dpo", _JSON, nullable=True),
        sa.Column("status", _text(10), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", _text(200), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", _text(200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("processor_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processor_record_processor"), ["processor"], unique=False)
        batch_op.create_index(batch_op.f("ix_processor_record_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("processor_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processor_record_status"))
        batch_op.drop_index(batch_op.f("ix_processor_record_processor"))
    op.drop_table("processor_record")
