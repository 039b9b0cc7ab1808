"""The reference video's motion notes and still keys, kept apart from the public analysis (which step 1 rewrites).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("reference_video", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.drop_column("reference_video")
