"""A consent receipt kept in both languages

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 03:00:00

Issue 20 (item 5): the receipt PDF is read in the reader's language, bokmål or English, and a receipt is
kept as issued, never rebuilt from a registry that may have changed since. So the event keeps, beside the
receipt in the language the consent was given in, the same receipt in the other language (`translations`).
Events recorded before have none; their PDF stays in the language they were issued in.

The lead re-chains this migration at merge (another may take 0031).
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # A plain ALTER TABLE on both engines: a batch copy on SQLite would drop the append-only triggers (0003).
    op.add_column("consent_event", sa.Column("translations", JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("consent_event", "translations")
