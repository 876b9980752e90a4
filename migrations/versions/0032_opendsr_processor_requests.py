"""OpenDSR requests sent to processors

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 03:00:00

Issue 20, item 6: a processor the registry names with an OpenDSR endpoint receives erasure and access
requests in the OpenDSR 2.0 format and reports their status by signed callbacks. One row per request and
processor: the subject_request_id sent, and the status last reported. The processor's endpoint lives in the
organisation's record (its JSON `data`), so the organisation table is unchanged.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "dsar_processor_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("dsar_request.id"), nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column("subject_request_id", sa.String(length=36), nullable=False),
        sa.Column("request_type", sa.String(length=20), nullable=False),
        sa.Column("activities", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("controller_id", sa.String(length=200), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expected_completion_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("results_url", sa.String(length=1000), nullable=True),
        sa.Column("results_count", sa.Integer(), nullable=True),
        sa.Column("history", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("request_id", "organisation"),
        sa.UniqueConstraint("subject_request_id"),
    )
    op.create_index("ix_dsar_processor_request_request_id", "dsar_processor_request", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_dsar_processor_request_request_id", table_name="dsar_processor_request")
    op.drop_table("dsar_processor_request")
