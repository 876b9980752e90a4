"""A person and her identifiers

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 06:00:00

Issue 21: one person, many identifiers. A person row and one row per identifier (e-mail, national identity
number as a keyed hash, a portal's own user id with its client), with how it was proved. A verified
identifier belongs to one person at most (partial unique index).
"""

from alembic import op
import sqlalchemy as sa


revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "person_identifier",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=254), nullable=False),
        sa.Column("verified_by", sa.String(length=20), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("login", sa.String(length=20), nullable=True),
        sa.Column("linked_by", sa.String(length=200), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "uq_person_identifier_verified",
        "person_identifier",
        ["kind", "client", "value"],
        unique=True,
        postgresql_where=sa.text("verified_by IS NOT NULL"),
        sqlite_where=sa.text("verified_by IS NOT NULL"),
    )
    op.create_index("ix_person_identifier_person", "person_identifier", ["person_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_person_identifier_person", table_name="person_identifier")
    op.drop_index("uq_person_identifier_verified", table_name="person_identifier")
    op.drop_table("person_identifier")
    op.drop_table("person")
