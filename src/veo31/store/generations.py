"""SQL about generations: create (idempotently) and read; lists of them are in `listing`, changes to one in
`changes`.

Functions are synchronous; the pipeline calls them from worker threads.

SQLAlchemy Core throughout, not the ORM, and the statements every step runs are built once: each generation
passes here a dozen times, and the ORM's session and unit of work, or building a statement afresh, cost more CPU
than SQLite takes to run it (figures in docs/performance.md).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Row, bindparam, insert, or_, select
from sqlalchemy.exc import IntegrityError

from veo31.domain import Generation, GenerationSpec, ReferenceImage, Status, StatusChange
from veo31.errors import NotFoundError
from veo31.store import request_keys
from veo31.store.request_keys import RequestKey
from veo31.store.tables import GenerationRow, ProviderTaskRow, ReferenceRow, StatusChangeRow, utcnow

TERMINAL = [status.value for status in Status if status.terminal]
GENERATIONS = GenerationRow.__table__
HISTORY = StatusChangeRow.__table__
REFERENCES = ReferenceRow.__table__
TASKS = ProviderTaskRow.__table__
G = GENERATIONS.c

# Bound parameters that name no column, so that an UPDATE's SET clause can come from the values given with it.
_BY_ID = select(GENERATIONS).where(G.id == bindparam("g_id"))
_FAMILY = (
    select(GENERATIONS)
    .where(or_(G.id == bindparam("g_id"), G.upgrade_of == bindparam("g_id"), G.deliverable_of == bindparam("g_id")))
    .order_by(G.created_at, G.id)
)
ADD_HISTORY = insert(HISTORY)
_HISTORY_OF = (
    select(HISTORY).where(HISTORY.c.generation_id.in_(bindparam("ids", expanding=True))).order_by(HISTORY.c.id)
)
_REFERENCES_OF = (
    select(REFERENCES)
    .where(REFERENCES.c.generation_id.in_(bindparam("ids", expanding=True)))
    .order_by(REFERENCES.c.position)
)


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
    deliverable: tuple[str, str] | None = None,  # (its source's id, its preset)
    branding: dict[str, Any] | None = None,
    prompt: str | None = None,
    negative_prompt: str | None = None,
    cost_estimate_usd: float | None = None,
    cost_basis: str | None = None,
    notes: Sequence[str] = (),
    request_key: RequestKey | None = None,
) -> tuple[Generation, bool]:
    """Insert a queued generation. With an idempotency key already used, return that one instead (created False).

    The unique indexes on the keys decide, so two racing requests with one key get one generation: the client's
    `request_key` (bound to its request: another request with it is a ConflictError), and `idempotency_key`, a
    key veo31 derives itself (one live retry of a generation, one rendition per resolution).
    """
    generation_id = new_generation_id()
    now = utcnow()
    row = dict(
        id=generation_id,
        idempotency_key=idempotency_key,
        status=Status.QUEUED.value,
        spec=spec.model_dump(mode="json"),
        provider=provider,
        mode=mode,
        warnings=list(warnings),
        parent_id=parent_id,
        upgrade_of=upgrade_of,
        deliverable_of=deliverable[0] if deliverable else None,
        preset=deliverable[1] if deliverable else None,
        branding=branding,
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
    detail = "; ".join(notes) or None  # why the providers before this one were passed over
    try:
        with engine.begin() as connection:
            connection.execute(insert(GENERATIONS), row)
            if references:
                connection.execute(
                    insert(REFERENCES),
                    [
                        dict(
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
                    ],
                )
            connection.execute(
                ADD_HISTORY, dict(generation_id=generation_id, status=Status.QUEUED.value, at=now, detail=detail)
            )
            if request_key is not None:
                request_keys.add(connection, request_key, generation_id)
    except IntegrityError:
        existing = find_keyed(engine, request_key, idempotency_key)
        if existing is None:
            raise
        return existing, False
    return get_generation(engine, generation_id), True


def get_generation(engine: Engine, generation_id: str, *, history: bool = True) -> Generation:
    """The generation; with `history=False` its history is left empty (one query fewer, for the pipeline's steps,
    which never read it)."""
    with engine.connect() as connection:
        return _get(connection, generation_id, history=history)


def _get(connection: Connection, generation_id: str, *, history: bool = True) -> Generation:
    row = connection.execute(_BY_ID, {"g_id": generation_id}).first()
    if row is None:
        raise NotFoundError(f"no generation with id {generation_id!r}")
    return load(connection, [row], history=history)[0]


def find_by_idempotency_key(engine: Engine, key: str) -> Generation | None:
    return _find_one(engine, G.idempotency_key == key)


def find_keyed(engine: Engine, request_key: RequestKey | None, idempotency_key: str | None = None) -> Generation | None:
    """The generation a client's key (checked against its request) or a derived key already answered with."""
    if request_key is not None:
        bound = request_keys.bound_generation(engine, request_key)
        if bound is not None:
            return get_generation(engine, bound)
        legacy = find_by_idempotency_key(engine, request_key.key)  # keyed before keys were bound to requests
        if legacy is not None:
            return legacy
    return find_by_idempotency_key(engine, idempotency_key) if idempotency_key else None


# Callers pass hex digits only (no LIKE wildcards to escape).
_BY_PREFIX = select(G.id).where(G.id.startswith(bindparam("prefix"))).limit(2)


def ids_starting_with(engine: Engine, prefix: str) -> list[str]:
    """At most two generation ids that start with `prefix` (two say it is ambiguous)."""
    with engine.connect() as connection:
        return [row.id for row in connection.execute(_BY_PREFIX, {"prefix": prefix})]


_CHILDREN = select(G.id, G.status).where(G.parent_id == bindparam("p")).order_by(G.created_at)


def children(engine: Engine, parent_id: str) -> list[tuple[str, Status]]:
    """The retries of a generation, oldest first: (id, status)."""
    with engine.connect() as connection:
        return [(row.id, Status(row.status)) for row in connection.execute(_CHILDREN, {"p": parent_id})]


class CallbackTarget(NamedTuple):
    """What answering a provider's callback needs to know of its generation."""

    id: str
    provider: str | None
    provider_task_id: str | None
    status: Status


_CALLBACK_TARGET = (
    select(G.id, G.provider, G.provider_task_id, G.status).where(G.callback_token == bindparam("token")).limit(1)
)


def find_callback_target(engine: Engine, token: str) -> CallbackTarget | None:
    """The generation a callback token belongs to, in one small query: callbacks come in bursts, when a batch
    finishes together, and each one only needs these four columns."""
    with engine.connect() as connection:
        row = connection.execute(_CALLBACK_TARGET, {"token": token}).first()
    return CallbackTarget(row[0], row[1], row[2], Status(row[3])) if row else None


def find_by_task_id(engine: Engine, task_id: str, provider: str | None = None) -> Generation | None:
    """The generation that owns a provider task id (the newest, if a task id was ever reused)."""
    query = select(TASKS.c.generation_id).where(TASKS.c.task_id == task_id)
    if provider:
        query = query.where(TASKS.c.provider == provider)
    with engine.connect() as connection:
        generation_id = connection.scalars(query.order_by(TASKS.c.id.desc()).limit(1)).first()
    return get_generation(engine, generation_id) if generation_id else None


def get_with_children(engine: Engine, generation_id: str) -> tuple[Generation, list[Generation], list[Generation]]:
    """A generation, its 1080p / 4K renditions and its deliverables (oldest first): three queries for the family's
    rows, histories and photos, as a status read is answered most often and each query under load waits for the
    interpreter's lock again."""
    with engine.connect() as connection:
        family = load(connection, connection.execute(_FAMILY, {"g_id": generation_id}))
    generation = next((member for member in family if member.id == generation_id), None)
    if generation is None:
        raise NotFoundError(f"no generation with id {generation_id!r}")
    renditions = [member for member in family if member.upgrade_of == generation_id]
    return generation, renditions, [member for member in family if member.deliverable_of == generation_id]


def upgrades_of(engine: Engine, generation_ids: Sequence[str]) -> dict[str, list[Generation]]:
    """The 1080p / 4K renditions made from each of these generations, oldest first."""
    with engine.connect() as connection:
        return _children(connection, G.upgrade_of, generation_ids)


def deliverables_of(engine: Engine, generation_ids: Sequence[str]) -> dict[str, list[Generation]]:
    """The deliverables made from each of these generations, oldest first."""
    with engine.connect() as connection:
        return _children(connection, G.deliverable_of, generation_ids)


def _children(connection: Connection, parent: Any, generation_ids: Sequence[str]) -> dict[str, list[Generation]]:
    found: dict[str, list[Generation]] = {generation_id: [] for generation_id in generation_ids}
    if generation_ids:
        query = select(GENERATIONS).where(parent.in_(list(generation_ids))).order_by(G.created_at, G.id)
        for generation in load(connection, connection.execute(query)):
            found[getattr(generation, parent.key)].append(generation)
    return found


def _find_one(engine: Engine, condition: Any) -> Generation | None:
    with engine.connect() as connection:
        row = connection.execute(select(GENERATIONS).where(condition).limit(1)).first()
        return load(connection, [row])[0] if row else None


def load(connection: Connection, rows: Iterable[Row[Any]], *, history: bool = True) -> list[Generation]:
    """Generations from their rows, with their photos and (unless `history=False`) their histories: two queries
    for all of them together, whatever their number."""
    rows = list(rows)
    ids = [row.id for row in rows]
    changes: dict[str, list[StatusChange]] = {generation_id: [] for generation_id in ids}
    references: dict[str, list[ReferenceImage]] = {generation_id: [] for generation_id in ids}
    if ids and history:
        for change in connection.execute(_HISTORY_OF, {"ids": ids}):
            changes[change.generation_id].append(StatusChange(Status(change.status), change.at, change.detail))
    if ids:
        for ref in connection.execute(_REFERENCES_OF, {"ids": ids}):
            references[ref.generation_id].append(
                ReferenceImage(ref.sha256, ref.mime_type, ref.width, ref.height, ref.blob_key, ref.source_url)
            )
    return [_to_domain(row, changes[row.id], references[row.id]) for row in rows]


def _to_domain(row: Row[Any], history: list[StatusChange], references: list[ReferenceImage]) -> Generation:
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
        quality=row.quality,
        quality_frame_key=row.quality_frame_key,
        attempts=tuple(row.attempts or ()),
        earlier_cost_usd=row.earlier_cost_usd or 0.0,
        deliverable_of=row.deliverable_of,
        preset=row.preset,
        approved_at=row.approved_at,
        branding=row.branding,
    )
