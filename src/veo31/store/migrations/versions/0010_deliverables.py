"""Deliverables: a channel's version of a finished video (reframed, encoded for its preset) is a generation of its
own, naming its source and its preset; and when a person approved a video the quality gate failed (a deliverable of
such a video is made only once it was).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("deliverable_of", sa.String(32)))
        batch.add_column(sa.Column("preset", sa.String(40)))
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True)))
        batch.create_index("ix_generations_deliverable_of", ["deliverable_of"])


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.drop_index("ix_generations_deliverable_of")
        batch.drop_column("approved_at")
        batch.drop_column("preset")
        batch.drop_column("deliverable_of")
