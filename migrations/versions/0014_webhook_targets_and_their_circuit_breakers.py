"""Webhook targets: each subscription names its receiving host, and each client's host has a circuit breaker

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 08:00:00
"""

from urllib.parse import urlsplit

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _target(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return ""
    host = parts.hostname or ""
    return f"{parts.scheme}://{'[' + host + ']' if ':' in host else host}:{port}"


def upgrade() -> None:
    op.create_table('webhook_target',
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('open_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('client', 'target')
    )
    with op.batch_alter_table('webhook_subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_webhook_subscription_target'), ['target'], unique=False)
    subs = sa.table(
        'webhook_subscription',
        sa.column('id', sa.Integer), sa.column('url', sa.String), sa.column('target', sa.String),
        sa.column('active', sa.Boolean),
    )
    conn = op.get_bind()
    for sub_id, url in conn.execute(sa.select(subs.c.id, subs.c.url)).all():
        conn.execute(subs.update().where(subs.c.id == sub_id).values(target=_target(url)))
    # a subscription with a user name or password in its URL is ended (webhooks.py would refuse each delivery)
    conn.execute(subs.update().where(subs.c.url.like('%@%')).values(active=False))


def downgrade() -> None:
    with op.batch_alter_table('webhook_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_subscription_target'))
        batch_op.drop_column('target')
    op.drop_table('webhook_target')
