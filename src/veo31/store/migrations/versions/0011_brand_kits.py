"""Brand kits (a logo, colours, a call to action, the end card's length), versioned: a deliverable keeps the version
it was made with (`branding` on the generation, with the price it showed).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "brand_kits",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("logo_key", sa.String(300)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("branding", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.drop_column("branding")
    op.drop_table("brand_kits")
