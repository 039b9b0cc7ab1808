"""The quality gate: the report on a generation's video, the picture of its worst frame beside the photo, and the
earlier paid attempts a `retry` policy set aside (their videos are kept; what they cost stays counted).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("quality", sa.JSON))
        batch.add_column(sa.Column("quality_frame_key", sa.String(300)))
        batch.add_column(sa.Column("attempts", sa.JSON))
        batch.add_column(sa.Column("earlier_cost_usd", sa.Float))


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.drop_column("earlier_cost_usd")
        batch.drop_column("attempts")
        batch.drop_column("quality_frame_key")
        batch.drop_column("quality")
