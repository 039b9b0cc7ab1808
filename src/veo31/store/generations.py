"""All SQL about generations: create (idempotently), read, list, and move through statuses with history.

A status change and its history row are written in one transaction, and a generation that reached a final
status (completed, failed, canceled) never leaves it — so a late step cannot overwrite a cancel.
Functions are synchronous; the pipeline calls them from worker threads.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from veo31.domain import (
    Generation,
    GenerationSpec,
    InputError,
    NotFoundError,
    ReferenceImage,
    Status,
    StatusChange,
)
from veo31.store.tables import GenerationRow, ProviderTaskRow, ReferenceRow, StatusChangeRow, utcnow

TERMINAL = [status.value for status in Status if status.terminal]
GENERATIONS = GenerationRow.__table__
HISTORY = StatusChangeRow.__table__


def new_generation_id() -> str:
    return secrets.token_hex(16)


def create_generation(
    engine: Engine,
    *,
    spec: GenerationSpec,
    references: Sequence[ReferenceImage],
    provider: str,
    mode: str,
    idempotency_key: str | None = None,
    parent_id: str | None = None,
    warnings: Sequence[str] = (),
    deadline_at: datetime | None = None,
    reference_video: dict[str, Any] | None = None,
    upgrade_of: str | None = None,
    prompt: str | None = None,
    negative_prompt: str | None = None,
    cost_estimate_usd: float | None = None,
    cost_basis: str | None = None,
    notes: Sequence[str] = (),
) -> tuple[Generation, bool]:
    """Insert a queued generation. With an idempotency key already used, return that one instead (created False).

    The unique index on the key decides, so two racing requests with one key get one generation.
    """
    generation_id = new_generation_id()
    now = utcnow()
    row = GenerationRow(
        id=generation_id,
        idempotency_key=idempotency_key,
        status=Status.QUEUED.value,
        spec=spec.model_dump(mode="json"),
        provider=provider,
        mode=mode,
        warnings=list(warnings),
        parent_id=parent_id,
        upgrade_of=upgrade_of,
        prompt=prompt,
        negative_prompt=negative_prompt,
        callback_token=secrets.token_urlsafe(32),
        deadline_at=deadline_at,
        reference_video=reference_video,
        created_at=now,
        updated_at=now,
        fetch_attempts=0,
        cost_estimate_usd=cost_estimate_usd,
        cost_basis=cost_basis,
    )
    try:
        with Session(engine) as session, session.begin():
            session.add(row)
            session.flush()
            session.add_all(
                ReferenceRow(
                    generation_id=generation_id,
                    position=index,
                    sha256=ref.sha256,
                    mime_type=ref.mime_type,
                    width=ref.width,
                    height=ref.height,
                    blob_key=ref.blob_key,
                    source_url=ref.source_url,
                )
                for index, ref in enumerate(references)
            )
            detail = "; ".join(notes) or None  # why the providers before this one were passed over
            session.add(StatusChangeRow(generation_id=generation_id, status=Status.QUEUED.value, at=now, detail=detail))
    except IntegrityError:
        if idempotency_key is None:
            raise
        existing = find_by_idempotency_key(engine, idempotency_key)
        if existing is None:
            raise
        return existing, False
    return get_generation(engine, generation_id), True


def get_generation(engine: Engine, generation_id: str, *, history: bool = True) -> Generation:
    """The generation; with `history=False` its history is left empty (one query fewer, for the pipeline's steps,
    which never read it)."""
    with Session(engine) as session:
        return _get(session, generation_id, history=history)


def _get(session: Session, generation_id: str, *, history: bool = True) -> Generation:
    row = session.get(GenerationRow, generation_id)
    if row is None:
        raise NotFoundError(f"no generation with id {generation_id!r}")
    return _load(session, [row], history=history)[0]


def find_by_idempotency_key(engine: Engine, key: str) -> Generation | None:
    return _find_one(engine, GenerationRow.idempotency_key == key)


class CallbackTarget(NamedTuple):
    """What answering a provider's callback needs to know of its generation."""

    id: str
    provider: str | None
    provider_task_id: str | None
    status: Status


def find_callback_target(engine: Engine, token: str) -> CallbackTarget | None:
    """The generation a callback token belongs to, in one small query: callbacks come in bursts, when a batch
    finishes together, and each one only needs these four columns."""
    columns = (GenerationRow.id, GenerationRow.provider, GenerationRow.provider_task_id, GenerationRow.status)
    with Session(engine) as session:
        row = session.execute(select(*columns).where(GenerationRow.callback_token == token).limit(1)).first()
    return CallbackTarget(row[0], row[1], row[2], Status(row[3])) if row else None


def find_by_task_id(engine: Engine, task_id: str, provider: str | None = None) -> Generation | None:
    """The generation that owns a provider task id (the newest, if a task id was ever reused)."""
    with Session(engine) as session:
        query = select(ProviderTaskRow.generation_id).where(ProviderTaskRow.task_id == task_id)
        if provider:
            query = query.where(ProviderTaskRow.provider == provider)
        generation_id = session.scalars(query.order_by(ProviderTaskRow.id.desc()).limit(1)).first()
    return get_generation(engine, generation_id) if generation_id else None


def get_with_upgrades(engine: Engine, generation_id: str) -> tuple[Generation, list[Generation]]:
    """A generation and its 1080p / 4K renditions, read in one session (one trip to a thread for a status read)."""
    with Session(engine) as session:
        return _get(session, generation_id), _upgrades(session, [generation_id])[generation_id]


def upgrades_of(engine: Engine, generation_ids: Sequence[str]) -> dict[str, list[Generation]]:
    """The 1080p / 4K renditions made from each of these generations, oldest first."""
    with Session(engine) as session:
        return _upgrades(session, generation_ids)


def _upgrades(session: Session, generation_ids: Sequence[str]) -> dict[str, list[Generation]]:
    found: dict[str, list[Generation]] = {generation_id: [] for generation_id in generation_ids}
    if not generation_ids:
        return found
    rows = session.scalars(
        select(GenerationRow)
        .where(GenerationRow.upgrade_of.in_(list(generation_ids)))
        .order_by(GenerationRow.created_at, GenerationRow.id)
    )
    for generation in _load(session, rows):
        found[generation.upgrade_of or ""].append(generation)
    return found


def _find_one(engine: Engine, condition: Any) -> Generation | None:
    with Session(engine) as session:
        row = session.scalars(select(GenerationRow).where(condition).limit(1)).first()
        return _load(session, [row])[0] if row else None


def list_generations(
    engine: Engine,
    *,
    status: Status | None = None,
    limit: int = 20,
    cursor: str | None = None,
    include_upgrades: bool = True,
) -> tuple[list[Generation], str | None]:
    """Newest first; `cursor` (from the previous page) continues where that page ended."""
    query = select(GenerationRow)
    if status is not None:
        query = query.where(GenerationRow.status == status.value)
    if not include_upgrades:
        query = query.where(GenerationRow.upgrade_of.is_(None))
    if cursor:
        created, last_id = decode_cursor(cursor)
        query = query.where(
            or_(
                GenerationRow.created_at < created,
                and_(GenerationRow.created_at == created, GenerationRow.id < last_id),
            )
        )
    query = query.order_by(GenerationRow.created_at.desc(), GenerationRow.id.desc()).limit(limit + 1)
    with Session(engine) as session:
        rows = list(session.scalars(query))
        page = _load(session, rows[:limit])
    following = encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit and page else None
    return page, following


def spend_usd(engine: Engine, status: Status | None = None) -> float:
    """What generations have cost (or, where no cost is known yet, may cost): the reported cost where there is one;
    nothing for one that ended before any task; the estimate for the rest (in flight, or never reported)."""
    counted = case(
        (GenerationRow.cost_usd.is_not(None), GenerationRow.cost_usd),
        (
            and_(
                GenerationRow.status.in_((Status.FAILED.value, Status.CANCELED.value)),
                GenerationRow.provider_task_id.is_(None),
            ),
            0.0,
        ),
        else_=func.coalesce(GenerationRow.cost_estimate_usd, 0.0),
    )
    query = select(func.coalesce(func.sum(counted), 0.0))
    if status is not None:
        query = query.where(GenerationRow.status == status.value)
    with Session(engine) as session:
        return round(float(session.scalar(query) or 0.0), 4)


def encode_cursor(created_at: datetime, generation_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{generation_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, generation_id = text.split("|", 1)
        return datetime.fromisoformat(created), generation_id
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InputError("cursor is not one this server gave out; start from the first page", field="cursor") from None


def record_status(engine: Engine, generation_id: str, status: Status, detail: str | None = None, **fields: Any) -> bool:
    """Move to `status` (with a history row) unless the generation already ended or is there. True if it moved."""
    guard = (GenerationRow.status.not_in(TERMINAL), GenerationRow.status != status.value)
    return _transition(engine, generation_id, status, detail, guard, fields)


def _transition(
    engine: Engine,
    generation_id: str,
    status: Status,
    detail: str | None,
    guard: tuple[Any, ...],
    fields: dict[str, Any],
) -> bool:
    """Change the status where `guard` holds, and write the history row, in one transaction."""
    now = utcnow()
    # SQLAlchemy Core, not the ORM: every step of every generation writes here, and the ORM's session and
    # unit of work cost more CPU than the two statements themselves.
    with engine.begin() as connection:
        result = connection.execute(
            update(GENERATIONS)
            .where(GENERATIONS.c.id == generation_id, *guard)
            .values(status=status.value, updated_at=now, **fields)
        )
        if result.rowcount == 0:
            return False
        connection.execute(
            insert(HISTORY).values(generation_id=generation_id, status=status.value, detail=detail, at=now)
        )
    return True


def update_fields(engine: Engine, generation_id: str, **fields: Any) -> None:
    """Change fields without a status change (prompt written, provider URL learnt, …)."""
    with engine.begin() as connection:
        connection.execute(
            update(GENERATIONS).where(GENERATIONS.c.id == generation_id).values(updated_at=utcnow(), **fields)
        )


def add_note(engine: Engine, generation_id: str, detail: str) -> None:
    """A history line that is not a status change (a retry, a fallback, a refreshed link): status repeated."""
    with Session(engine) as session, session.begin():
        row = session.get(GenerationRow, generation_id)
        if row is not None:
            session.add(StatusChangeRow(generation_id=generation_id, status=row.status, detail=detail, at=utcnow()))


def add_provider_task(engine: Engine, generation_id: str, provider: str, task_id: str, kind: str = "generate") -> None:
    with Session(engine) as session, session.begin():
        exists = session.scalars(
            select(ProviderTaskRow.id).where(ProviderTaskRow.provider == provider, ProviderTaskRow.task_id == task_id)
        ).first()
        if exists is None:
            session.add(ProviderTaskRow(generation_id=generation_id, provider=provider, task_id=task_id, kind=kind))


MAX_FETCH_ATTEMPTS = 12


def overdue_generations(engine: Engine, now: datetime, base_interval: float) -> list[Generation]:
    """Generations that failed by running out of time but kept their task, due for another look.

    Looks back off: after n looks the next comes `base_interval * 2**n` after the last, so with the default
    5 minutes, 12 looks span about two weeks — as long as Kie keeps its records.
    """
    with Session(engine) as session:
        rows = list(
            session.scalars(
                select(GenerationRow)
                .where(
                    GenerationRow.status == Status.FAILED.value,
                    GenerationRow.error_kind == "timed_out",
                    GenerationRow.provider_task_id.is_not(None),
                    GenerationRow.fetch_attempts < MAX_FETCH_ATTEMPTS,
                )
                .order_by(GenerationRow.updated_at)
                .limit(200)
            )
        )
        due = [row for row in rows if (now - row.updated_at).total_seconds() >= base_interval * 2**row.fetch_attempts]
        return _load(session, due[:100])


def unfinished_generations(engine: Engine, limit: int = 500) -> list[Generation]:
    """Generations not yet completed, failed or canceled (to make sure each still has a workflow)."""
    with Session(engine) as session:
        rows = list(
            session.scalars(
                select(GenerationRow)
                .where(GenerationRow.status.not_in(TERMINAL))
                .order_by(GenerationRow.created_at)
                .limit(limit)
            )
        )
        return _load(session, rows)


def count_by_status(engine: Engine) -> list[tuple[str, str, int]]:
    """(status, provider, count) for every pair that has generations."""
    with Session(engine) as session:
        rows = session.execute(
            select(GenerationRow.status, GenerationRow.provider, func.count()).group_by(
                GenerationRow.status, GenerationRow.provider
            )
        )
        return [(status, provider or "", int(count)) for status, provider, count in rows]


def bump_fetch_attempts(engine: Engine, generation_id: str) -> int:
    with Session(engine) as session, session.begin():
        row = session.get(GenerationRow, generation_id)
        if row is None:
            raise NotFoundError(f"no generation with id {generation_id!r}")
        row.fetch_attempts += 1
        return row.fetch_attempts


def reopen_for_fetch(engine: Engine, generation_id: str, detail: str) -> bool:
    """Let a generation that failed by timing out be retrieved after all (the provider finished late)."""
    guard = (GenerationRow.status == Status.FAILED.value, GenerationRow.provider_task_id.is_not(None))
    return _transition(
        engine, generation_id, Status.GENERATING, detail, guard, {"error_kind": None, "error_message": None}
    )


# Built once: constructing a statement costs more CPU than SQLite takes to run one of these.
_HISTORY_OF = (
    select(StatusChangeRow)
    .where(StatusChangeRow.generation_id.in_(bindparam("ids", expanding=True)))
    .order_by(StatusChangeRow.id)
)
_REFERENCES_OF = (
    select(ReferenceRow)
    .where(ReferenceRow.generation_id.in_(bindparam("ids", expanding=True)))
    .order_by(ReferenceRow.position)
)


def _load(session: Session, rows: Iterable[GenerationRow], *, history: bool = True) -> list[Generation]:
    rows = list(rows)
    ids = [row.id for row in rows]
    changes: dict[str, list[StatusChange]] = {generation_id: [] for generation_id in ids}
    references: dict[str, list[ReferenceImage]] = {generation_id: [] for generation_id in ids}
    if ids and history:
        for change in session.scalars(_HISTORY_OF, {"ids": ids}):
            changes[change.generation_id].append(StatusChange(Status(change.status), change.at, change.detail))
    if ids:
        for ref in session.scalars(_REFERENCES_OF, {"ids": ids}):
            references[ref.generation_id].append(
                ReferenceImage(ref.sha256, ref.mime_type, ref.width, ref.height, ref.blob_key, ref.source_url)
            )
    return [_to_domain(row, changes[row.id], references[row.id]) for row in rows]


def _to_domain(row: GenerationRow, history: list[StatusChange], references: list[ReferenceImage]) -> Generation:
    return Generation(
        id=row.id,
        status=Status(row.status),
        spec=GenerationSpec.model_validate(row.spec),
        created_at=row.created_at,
        updated_at=row.updated_at,
        callback_token=row.callback_token,
        history=tuple(history),
        references=tuple(references),
        provider=row.provider,
        mode=row.mode,
        prompt=row.prompt,
        negative_prompt=row.negative_prompt,
        prompt_writer=row.prompt_writer,
        provider_task_id=row.provider_task_id,
        provider_video_url=row.provider_video_url,
        video_key=row.video_key,
        poster_key=row.poster_key,
        video_info=row.video_info,
        error_kind=row.error_kind,
        error_message=row.error_message,
        warnings=tuple(row.warnings or ()),
        parent_id=row.parent_id,
        upgrade_of=row.upgrade_of,
        idempotency_key=row.idempotency_key,
        deadline_at=row.deadline_at,
        submit_started_at=row.submit_started_at,
        fetch_attempts=row.fetch_attempts,
        analysis=row.analysis,
        reference_video=row.reference_video,
        cost_estimate_usd=row.cost_estimate_usd,
        cost_usd=row.cost_usd,
        cost_basis=row.cost_basis,
    )
