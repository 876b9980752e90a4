"""An organisation's number may be unknown

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 04:10:00

Issue 17: processors the privacy statements name without an organisation number (Make AS, Everbridge, ExorLive…)
belong in the Art. 28 list like any other; their number is recorded as not stated (NULL) and the record says so,
rather than leaving them out or inventing one.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.alter_column(
            "org_number", existing_type=sqlmodel.sql.sqltypes.AutoString(length=9), nullable=True
        )


def downgrade() -> None:
    unknown = op.get_bind().scalar(sa.text("SELECT count(*) FROM organisation WHERE org_number IS NULL"))
    if unknown:
        raise RuntimeError(f"{unknown} organisations have no organisation number: give them one first.")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.alter_column(
            "org_number", existing_type=sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False
        )
