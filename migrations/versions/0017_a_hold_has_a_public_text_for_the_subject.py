"""A hold has a public text for the subject, separate from its internal basis

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 09:00:00

Issue 15, item 4: a hold's internal case note ("Tvist om brukerstøtte, sak 26/1234 — bevis sikres") was printed
in the data subject's letter. The basis stays internal; letters and mails use `public_text` ({"nb", "en"}), or
the kind's standard wording where it is null. Rebase onto 0016 at merge (written in parallel).
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_text", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.drop_column("public_text")
