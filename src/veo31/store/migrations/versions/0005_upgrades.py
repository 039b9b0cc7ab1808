"""Upgrades (1080p / 4K renditions) are generations of their own that point at the generation they re-render.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("upgrade_of", sa.String(32)))
        batch.create_index("ix_generations_upgrade_of", ["upgrade_of"])


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.drop_index("ix_generations_upgrade_of")
        batch.drop_column("upgrade_of")
