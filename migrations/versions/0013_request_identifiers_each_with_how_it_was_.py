"""Request identifiers each with how it was proved; wrong codes counted per address and day

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 19:20:00

Requests already verified keep searching as they did: an e-mail check proved the address, a portal's login
the national identity number (or the address when none was given), and an officer both identifiers given.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel



revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dsar_request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_verified_by", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )
        batch_op.add_column(sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("national_id_verified_by", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )
        batch_op.add_column(sa.Column("national_id_verified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("submitter_verified", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("dsar_challenge", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("address_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_dsar_challenge_address_key"), ["address_key"], unique=False)
    op.create_table(
        "dsar_code_failures",
        sa.Column("address_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address_key", "day"),
    )
    op.execute("UPDATE dsar_request SET identity_method = 'email_code' WHERE identity_method = 'email'")
    op.execute("UPDATE dsar_request SET identity_method = 'portal_verified' WHERE identity_method = 'portal'")
    op.execute(
        "UPDATE dsar_request SET email_verified_by = identity_method, email_verified_at = identity_arrived_at "
        "WHERE identity_status = 'verified' AND subject_email IS NOT NULL AND (identity_method IN "
        "('email_code', 'officer') OR (identity_method = 'portal_verified' AND subject_national_id IS NULL))"
    )
    op.execute(
        "UPDATE dsar_request SET national_id_verified_by = identity_method, "
        "national_id_verified_at = identity_arrived_at WHERE identity_status = 'verified' "
        "AND subject_national_id IS NOT NULL AND identity_method IN ('officer', 'portal_verified')"
    )
    op.execute("UPDATE dsar_request SET submitter_verified = true WHERE identity_method = 'portal_verified'")


def downgrade() -> None:
    op.drop_table("dsar_code_failures")
    with op.batch_alter_table("dsar_challenge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsar_challenge_address_key"))
        batch_op.drop_column("address_key")
    with op.batch_alter_table("dsar_request", schema=None) as batch_op:
        batch_op.drop_column("submitter_verified")
        batch_op.drop_column("national_id_verified_at")
        batch_op.drop_column("national_id_verified_by")
        batch_op.drop_column("email_verified_at")
        batch_op.drop_column("email_verified_by")
