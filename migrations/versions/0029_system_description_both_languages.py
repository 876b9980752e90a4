"""A data system's description in bokmål and English

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 23:00:00

Issue 19: the data-map page is read in bokmål and in English, so systems.yaml gives each system's description
as {nb, en} (a plain text from before is still accepted). The column becomes JSON: a plain text is kept as a
JSON string, a description in both languages as an object.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _copy(source: str, target: str, source_type: sa.types.TypeEngine, target_type: sa.types.TypeEngine) -> None:
    bind = op.get_bind()
    table = sa.table("data_system", sa.column("id"), sa.column(source, source_type), sa.column(target, target_type))
    for row_id, value in bind.execute(sa.select(table.c.id, table.c[source])).all():
        bind.execute(table.update().where(table.c.id == row_id).values({target: value}))


def upgrade() -> None:
    with op.batch_alter_table("data_system", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description_both", JSON, nullable=True))
    _copy("description", "description_both", sa.String(500), JSON)
    with op.batch_alter_table("data_system", schema=None) as batch_op:
        batch_op.drop_column("description")
        batch_op.alter_column("description_both", new_column_name="description", existing_type=JSON, nullable=False)


def downgrade() -> None:
    bind = op.get_bind()
    table = sa.table("data_system", sa.column("name", sa.String), sa.column("description", JSON))
    both = [name for name, value in bind.execute(sa.select(table.c.name, table.c.description)) if isinstance(value, dict)]
    if both:
        raise RuntimeError(
            f"{len(both)} data systems have a description in two languages ({', '.join(sorted(both))}): "
            "give each one plain text first."
        )
    with op.batch_alter_table("data_system", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description_text", sa.String(500), nullable=True))
    _copy("description", "description_text", JSON, sa.String(500))
    with op.batch_alter_table("data_system", schema=None) as batch_op:
        batch_op.drop_column("description")
        batch_op.alter_column(
            "description_text", new_column_name="description", existing_type=sa.String(500), nullable=False
        )
