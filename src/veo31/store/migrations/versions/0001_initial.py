"""Generations, their status history, references, provider tasks and API tokens.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from veo31.store.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "generations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), unique=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("provider", sa.String(20)),
        sa.Column("mode", sa.String(20)),
        sa.Column("prompt", sa.Text),
        sa.Column("negative_prompt", sa.Text),
        sa.Column("prompt_writer", sa.String(20)),
        sa.Column("provider_task_id", sa.String(200), index=True),
        sa.Column("provider_video_url", sa.Text),
        sa.Column("video_key", sa.String(300)),
        sa.Column("poster_key", sa.String(300)),
        sa.Column("video_info", sa.JSON),
        sa.Column("error_kind", sa.String(50)),
        sa.Column("error_message", sa.Text),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("parent_id", sa.String(32), index=True),
        sa.Column("callback_token", sa.String(64), nullable=False, unique=True),
        sa.Column("fetch_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("deadline_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_generations_created", "generations", ["created_at", "id"])
    op.create_table(
        "status_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "generation_id",
            sa.String(32),
            sa.ForeignKey("generations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "references",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "generation_id",
            sa.String(32),
            sa.ForeignKey("generations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("mime_type", sa.String(50), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("blob_key", sa.String(300), nullable=False),
        sa.Column("source_url", sa.Text),
    )
    op.create_table(
        "provider_tasks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "generation_id",
            sa.String(32),
            sa.ForeignKey("generations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("task_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("provider", "task_id", name="uq_provider_task"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
    )


def downgrade() -> None:
    for table in ("api_tokens", "provider_tasks", "references", "status_history", "generations"):
        op.drop_table(table)
