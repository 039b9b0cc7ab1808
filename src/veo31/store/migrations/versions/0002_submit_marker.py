"""When a submission was started, so a restart can tell "never sent" from "sent, outcome unknown".

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from veo31.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("submit_started_at", UTCDateTime))


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.drop_column("submit_started_at")
