"""The SQL tables. Alembic migrations in `migrations/` create them; this module describes them for queries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Datetimes stored as UTC and read back timezone-aware, on SQLite (which forgets zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if dialect.name != "sqlite" else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


TALLIED = ("id", "status", "cost_usd", "cost_estimate_usd", "earlier_cost_usd", "provider_task_id")


def _not_null_index(column: str) -> Index:
    where = text(f"{column} IS NOT NULL")
    return Index(f"ix_generations_{column}", column, sqlite_where=where, postgresql_where=where)


class GenerationRow(Base):
    __tablename__ = "generations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    spec: Mapped[dict[str, Any]]
    provider: Mapped[str | None] = mapped_column(String(20))
    mode: Mapped[str | None] = mapped_column(String(20))
    prompt: Mapped[str | None] = mapped_column(Text)
    negative_prompt: Mapped[str | None] = mapped_column(Text)
    prompt_writer: Mapped[str | None] = mapped_column(Text)
    provider_task_id: Mapped[str | None] = mapped_column(String(200), index=True)
    provider_video_url: Mapped[str | None] = mapped_column(Text)
    video_key: Mapped[str | None] = mapped_column(String(300))
    poster_key: Mapped[str | None] = mapped_column(String(300))
    video_info: Mapped[dict[str, Any] | None]
    error_kind: Mapped[str | None] = mapped_column(String(50))
    error_message: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    parent_id: Mapped[str | None] = mapped_column(String(32), index=True)
    upgrade_of: Mapped[str | None] = mapped_column(String(32))
    callback_token: Mapped[str] = mapped_column(String(64), unique=True)
    fetch_attempts: Mapped[int] = mapped_column(Integer, default=0)
    submit_started_at: Mapped[datetime | None]
    analysis: Mapped[dict[str, Any] | None]
    reference_video: Mapped[dict[str, Any] | None]
    deadline_at: Mapped[datetime | None]
    cost_estimate_usd: Mapped[float | None] = mapped_column(Float)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    cost_basis: Mapped[str | None] = mapped_column(Text)
    quality: Mapped[dict[str, Any] | None]
    quality_frame_key: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[list[Any] | None]
    earlier_cost_usd: Mapped[float | None] = mapped_column(Float)
    deliverable_of: Mapped[str | None] = mapped_column(String(32))
    preset: Mapped[str | None] = mapped_column(String(40))
    approved_at: Mapped[datetime | None]
    branding: Mapped[dict[str, Any] | None]  # a deliverable's brand kit (as it was) and price
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_generations_created", "created_at", "id"),
        # a batch's counts (store/batches.status) and what all generations cost (store/listing.spend_usd, on the
        # gallery's every page) read from this index alone
        Index("ix_generations_tally", *TALLIED),
        # the gallery filtered by status, newest first, read from the index in order
        Index("ix_generations_status_created", "status", "created_at", "id"),
        # Only the few rows that are an upgrade or a deliverable: indexing the NULLs too made SQLite's planner pick
        # these for the gallery's "IS NULL" and sort every generation, rather than walk ix_generations_created.
        *(_not_null_index(column) for column in ("upgrade_of", "deliverable_of")),
    )


class BrandKitRow(Base):
    __tablename__ = "brand_kits"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    settings: Mapped[dict[str, Any]]
    logo_key: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    music_key: Mapped[str | None] = mapped_column(String(300))


class StatusChangeRow(Base):
    __tablename__ = "status_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    generation_id: Mapped[str] = mapped_column(ForeignKey("generations.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferenceRow(Base):
    __tablename__ = "references"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    generation_id: Mapped[str] = mapped_column(ForeignKey("generations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    mime_type: Mapped[str] = mapped_column(String(50))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    blob_key: Mapped[str] = mapped_column(String(300))
    source_url: Mapped[str | None] = mapped_column(Text)


class ProviderTaskRow(Base):
    __tablename__ = "provider_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    generation_id: Mapped[str] = mapped_column(ForeignKey("generations.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    task_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="generate")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("provider", "task_id", name="uq_provider_task"),)


class RequestKeyRow(Base):
    """An Idempotency-Key and the request it first came with (a hash), bound to the generation it answered with."""

    __tablename__ = "request_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    generation_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class BatchRow(Base):
    """A catalogue run: the export's format, the spec every product shares, the rows it skipped and why."""

    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    format: Mapped[str] = mapped_column(String(20))
    spec: Mapped[dict[str, Any]]
    skipped: Mapped[list[Any]]
    state: Mapped[str] = mapped_column(String(20))
    round: Mapped[int] = mapped_column(Integer, default=0)  # one more each time its failed products are retried
    file_name: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_batches_created", "created_at", "id"),)


class BatchItemRow(Base):
    """One product of a batch: what the export said, and once started, its sync key and generation (or why it
    could not start)."""

    __tablename__ = "batch_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    row: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(Text)
    images: Mapped[list[Any]]
    settings: Mapped[dict[str, Any]]
    sync_key: Mapped[str | None] = mapped_column(String(100))
    generation_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_batch_items_batch_row", "batch_id", "row"),
        Index("ix_batch_items_generation", "generation_id"),
        Index("ix_batch_items_tally", "batch_id", "generation_id", "error"),
    )


class WebhookEndpointRow(Base):
    """A receiver of signed webhooks. Its secrets sign every message (the newest, and an older one until its
    overlap ends); they are shown once, when made."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[Any]]
    secrets: Mapped[list[Any]]  # [{"secret": "whsec_…", "until": iso time or None}], newest first
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]


class EventRow(Base):
    """Something that happened (a generation ended, a batch finished), written in the same transaction as the
    change itself — so no event is lost between the change and its announcement — then dispatched to the
    endpoints that want it. `topic` makes one event per happening."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200), unique=True)
    subject_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20))
    type: Mapped[str | None] = mapped_column(String(40))
    payload: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_events_undispatched", "dispatched_at", "created_at"),)


class WebhookDeliveryRow(Base):
    __tablename__ = "webhook_deliveries"

    endpoint_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookAttemptRow(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
    manual: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (Index("ix_webhook_attempts_endpoint", "endpoint_id", "id"),)


class WorkerRow(Base):
    """A worker's heartbeat; a live worker takes over the unfinished work of one silent too long."""

    __tablename__ = "workers"

    executor_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    heartbeat_at: Mapped[datetime]
    started_at: Mapped[datetime]
    taken_over_at: Mapped[datetime | None]
    taken_over_by: Mapped[str | None] = mapped_column(String(100))
