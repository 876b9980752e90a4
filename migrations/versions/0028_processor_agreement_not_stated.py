"""A processor record's agreement reference may be unknown

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 22:20:00

Issue 19: where the privacy statements do not give the data processing agreement's reference, the record
holds none (NULL) and says "ikke oppgitt" / "not stated" in the reader's language, instead of a text that
said it in both languages at once.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processor_record", schema=None) as batch_op:
        batch_op.alter_column(
            "agreement_ref", existing_type=sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True
        )


def downgrade() -> None:
    unknown = op.get_bind().scalar(sa.text("SELECT count(*) FROM processor_record WHERE agreement_ref IS NULL"))
    if unknown:
        raise RuntimeError(f"{unknown} processor records have no agreement reference: give them one first.")
    with op.batch_alter_table("processor_record", schema=None) as batch_op:
        batch_op.alter_column(
            "agreement_ref", existing_type=sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False
        )
