"""Catalogue batches and their products, webhook endpoints with their events, deliveries and attempts, and the
workers' heartbeats.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from veo31.store.tables import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("skipped", sa.JSON, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("file_name", sa.String(300)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_batches_created", "batches", ["created_at", "id"])
    op.create_table(
        "batch_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("batch_id", sa.String(32), sa.ForeignKey("batches.id", ondelete="CASCADE"), nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("product_id", sa.String(300), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("images", sa.JSON, nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("sync_key", sa.String(100)),
        sa.Column("generation_id", sa.String(32)),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_batch_items_batch_row", "batch_items", ["batch_id", "row"])
    op.create_index("ix_batch_items_generation", "batch_items", ["generation_id"])
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("secrets", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("deleted_at", UTCDateTime),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("topic", sa.String(200), nullable=False, unique=True),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("type", sa.String(40)),
        sa.Column("payload", sa.JSON),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("dispatched_at", UTCDateTime),
    )
    op.create_index("ix_events_undispatched", "events", ["dispatched_at", "created_at"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("endpoint_id", sa.String(32), primary_key=True),
        sa.Column("event_id", sa.String(40), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("endpoint_id", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("manual", sa.Boolean, nullable=False),
    )
    op.create_index("ix_webhook_attempts_endpoint", "webhook_attempts", ["endpoint_id", "id"])
    op.create_table(
        "workers",
        sa.Column("executor_id", sa.String(100), primary_key=True),
        sa.Column("heartbeat_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("taken_over_at", UTCDateTime),
        sa.Column("taken_over_by", sa.String(100)),
    )


def downgrade() -> None:
    for table in ("workers", "webhook_attempts", "webhook_deliveries", "events", "webhook_endpoints"):
        op.drop_table(table)
    op.drop_table("batch_items")
    op.drop_table("batches")
