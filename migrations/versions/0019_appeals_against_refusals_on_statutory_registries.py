"""Appeals against refusals on statutory health registries, registered on the request

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-05 11:30:00

Issue 15, item 6: a refusal on a statutory health registry (NPR, KPR) is an individual decision that can be
appealed (forvaltningsloven §§ 28–34), and no appeal was tracked. An appeal records the refusals it concerns,
when it was received (late or not), its steps (received, prepared, sent to the appeal body, decided) with who and
when, and the deadlines: the controller's to prepare it, and the appeal body's expected decision.
Written beside 0018 (another branch); the merge lines the chain up.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "dsar_appeal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("activities", _JSON, nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("appeal_deadline", sa.Date(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("prepare_by", sa.Date(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=True),
        sa.Column("decision_expected_on", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("steps", _JSON, nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["dsar_request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dsar_appeal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dsar_appeal_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dsar_appeal_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_dsar_appeal_prepare_by"), ["prepare_by"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dsar_appeal_decision_expected_on"), ["decision_expected_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dsar_appeal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsar_appeal_decision_expected_on"))
        batch_op.drop_index(batch_op.f("ix_dsar_appeal_prepare_by"))
        batch_op.drop_index(batch_op.f("ix_dsar_appeal_status"))
        batch_op.drop_index(batch_op.f("ix_dsar_appeal_request_id"))
    op.drop_table("dsar_appeal")
