"""Changes to a stored generation: a status move with its history row, the task recorded with the move to
submitted, fields learnt on the way, notes, and a late fetch's reopening. Every move is guarded: a generation that
ended is never moved again, so a late or repeated change cannot undo an outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Update, bindparam, insert, select, update

from veo31.domain import Status
from veo31.errors import NotFoundError
from veo31.store import events
from veo31.store.generations import ADD_HISTORY, GENERATIONS, TASKS, TERMINAL, G
from veo31.store.tables import utcnow

_SET_FIELDS = update(GENERATIONS).where(G.id == bindparam("g_id"))
_MOVE = _SET_FIELDS.where(*(G.status != value for value in TERMINAL), G.status != bindparam("to_status"))
_REOPEN = _SET_FIELDS.where(G.status == Status.FAILED.value, G.provider_task_id.is_not(None))


def record_status(engine: Engine, generation_id: str, status: Status, detail: str | None = None, **fields: Any) -> bool:
    """Move to `status` (with a history row) unless the generation already ended or is there. True if it moved."""
    return _transition(engine, _MOVE, generation_id, status, detail, fields, to_status=status.value)


def _transition(
    engine: Engine,
    statement: Update,
    generation_id: str,
    status: Status,
    detail: str | None,
    fields: dict[str, Any],
    **guard: Any,
) -> bool:
    """Change the status where `statement`'s guard holds, and write the history row, in one transaction."""
    with engine.begin() as connection:
        return _move(connection, statement, generation_id, status, detail, fields, utcnow(), **guard)


def _move(
    connection: Connection,
    statement: Update,
    generation_id: str,
    status: Status,
    detail: str | None,
    fields: dict[str, Any],
    now: datetime,
    **guard: Any,
) -> bool:
    values = {**_columns(fields), "status": status.value, "updated_at": now}
    if connection.execute(statement, {"g_id": generation_id, **guard, **values}).rowcount == 0:
        return False
    connection.execute(
        ADD_HISTORY, {"generation_id": generation_id, "status": status.value, "detail": detail, "at": now}
    )
    events.generation_ended(connection, generation_id, status, now)
    return True


def record_submission(
    engine: Engine,
    generation_id: str,
    *,
    provider: str,
    task_id: str,
    detail: str,
    deadline_at: datetime,
    generating: bool,
) -> bool:
    """The provider task is ours: the generation moves to submitted with its task id and deadline, the task is
    listed, and (with `generating`) the wait begins — in one transaction. False if it ended meanwhile."""
    now = utcnow()
    with engine.begin() as connection:
        fields = {"provider_task_id": task_id, "deadline_at": deadline_at}
        moved = _move(
            connection, _MOVE, generation_id, Status.SUBMITTED, detail, fields, now, to_status=Status.SUBMITTED.value
        )
        _add_task(connection, generation_id, provider, task_id, "generate")
        if moved and generating:
            _move(connection, _MOVE, generation_id, Status.GENERATING, None, {}, now, to_status=Status.GENERATING.value)
    return moved


def update_fields(engine: Engine, generation_id: str, **fields: Any) -> None:
    """Change fields without a status change (prompt written, provider URL learnt, …)."""
    with engine.begin() as connection:
        connection.execute(_SET_FIELDS, {"g_id": generation_id, **_columns(fields), "updated_at": utcnow()})


def _columns(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields`, checked to be columns: an UPDATE whose SET comes from its values would skip a misspelt one."""
    unknown = fields.keys() - GENERATIONS.c.keys()
    if unknown:
        raise ValueError(f"generations has no column {', '.join(sorted(unknown))}")
    return fields


_STATUS_OF = select(G.status).where(G.id == bindparam("g_id"))


def add_note(engine: Engine, generation_id: str, detail: str) -> None:
    """A history line that is not a status change (a retry, a fallback, a refreshed link): status repeated."""
    with engine.begin() as connection:
        status = connection.scalar(_STATUS_OF, {"g_id": generation_id})
        if status is not None:
            connection.execute(
                ADD_HISTORY, {"generation_id": generation_id, "status": status, "detail": detail, "at": utcnow()}
            )


_TASK_KNOWN = select(TASKS.c.id).where(TASKS.c.provider == bindparam("p"), TASKS.c.task_id == bindparam("t"))


def _add_task(connection: Connection, generation_id: str, provider: str, task_id: str, kind: str) -> None:
    if connection.scalar(_TASK_KNOWN, {"p": provider, "t": task_id}) is None:
        connection.execute(
            insert(TASKS), {"generation_id": generation_id, "provider": provider, "task_id": task_id, "kind": kind}
        )


def bump_fetch_attempts(engine: Engine, generation_id: str) -> int:
    with engine.begin() as connection:
        attempts = connection.scalar(
            update(GENERATIONS)
            .where(G.id == generation_id)
            .values(fetch_attempts=G.fetch_attempts + 1)
            .returning(G.fetch_attempts)
        )
    if attempts is None:
        raise NotFoundError(f"no generation with id {generation_id!r}")
    return int(attempts)


def reopen_for_fetch(engine: Engine, generation_id: str, detail: str) -> bool:
    """Let a generation that failed by timing out be retrieved after all (the provider finished late)."""
    fields = {"error_kind": None, "error_message": None}
    return _transition(engine, _REOPEN, generation_id, Status.GENERATING, detail, fields)
