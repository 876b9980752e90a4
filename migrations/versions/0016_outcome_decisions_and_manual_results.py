"""Each activity of a request carries the officer's decision and, outside the data map, the search by hand

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 09:00:00

Issue 15, items 1 and 2: approval was all-or-nothing, and approving turned every activity outside the data map
into "done" although nobody had searched it. Each outcome now records uphold or refuse (with a ground from a
closed list and reasons, who and when), and an activity outside the data map records what the search by hand
found (who and when); until then it is "not_checked".
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("decision", lambda: sqlmodel.sql.sqltypes.AutoString(length=10)),
    ("decision_ground", lambda: sqlmodel.sql.sqltypes.AutoString(length=30)),
    ("decision_reasons", lambda: sqlmodel.sql.sqltypes.AutoString(length=2000)),
    ("decided_by", lambda: sqlmodel.sql.sqltypes.AutoString(length=200)),
    ("decided_at", lambda: sa.DateTime(timezone=True)),
    ("manual_result", lambda: sqlmodel.sql.sqltypes.AutoString(length=20)),
    ("manual_records", lambda: sa.Integer()),
    ("manual_controller", lambda: sqlmodel.sql.sqltypes.AutoString(length=200)),
    ("manual_by", lambda: sqlmodel.sql.sqltypes.AutoString(length=200)),
    ("manual_at", lambda: sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("dsar_outcome") as batch:
        for name, kind in _COLUMNS:
            batch.add_column(sa.Column(name, kind(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dsar_outcome") as batch:
        for name, __ in reversed(_COLUMNS):
            batch.drop_column(name)
