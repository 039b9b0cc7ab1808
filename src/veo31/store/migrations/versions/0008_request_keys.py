"""Idempotency keys bound to the request they came with: the same key with another request is refused (409)
instead of answering with the first request's generation. Create, retry, upgrade and cancel share them.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from veo31.store.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("generation_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("request_keys")
