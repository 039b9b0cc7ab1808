"""The outbox: what happened, written in the same transaction as the change it tells of, then dispatched.

A generation that ends (completed, failed, held for review) gets its event row inside the status move's own
transaction; a process killed right after the move still leaves the event behind for any worker to dispatch. One
row per topic (`generation:<id>:<status>`, `batch:<id>:completed:<round>`), so telling twice tells once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from veo31.domain import Status
from veo31.store.tables import EventRow, utcnow

EVENTS = EventRow.__table__
E = EVENTS.c
# The statuses another system wants to hear of: a video to pick up, a failure to act on, one to look at.
ANNOUNCED = frozenset({Status.COMPLETED, Status.FAILED, Status.NEEDS_REVIEW})
_KNOWN = select(E.id).where(E.topic == bindparam("topic"))


@dataclass(frozen=True)
class Event:
    id: str
    topic: str
    subject_id: str
    status: str
    type: str | None
    payload: dict[str, Any] | None
    created_at: datetime
    dispatched_at: datetime | None


def new_event_id() -> str:
    return "msg_" + secrets.token_hex(16)


def add(connection: Connection, topic: str, subject_id: str, status: str, now: datetime | None = None) -> bool:
    """The event of `topic`, unless it is there already (inside the caller's transaction). True if added."""
    if connection.scalar(_KNOWN, {"topic": topic}) is not None:
        return False
    connection.execute(
        insert(EVENTS),
        {
            "id": new_event_id(),
            "topic": topic,
            "subject_id": subject_id,
            "status": status,
            "created_at": now or utcnow(),
        },
    )
    return True


def generation_ended(connection: Connection, generation_id: str, status: Status, now: datetime) -> None:
    if status in ANNOUNCED:
        add(connection, f"generation:{generation_id}:{status.value}", generation_id, status.value, now)


def add_alone(engine: Engine, topic: str, subject_id: str, status: str) -> bool:
    """An event in a transaction of its own (a batch that finished); racing writers add it once."""
    try:
        with engine.begin() as connection:
            return add(connection, topic, subject_id, status)
    except IntegrityError:
        return False


_UNDISPATCHED = select(EVENTS).where(E.dispatched_at.is_(None)).order_by(E.created_at, E.id).limit(bindparam("n"))


def undispatched(engine: Engine, limit: int = 200) -> list[Event]:
    with engine.connect() as connection:
        return [Event(**row._mapping) for row in connection.execute(_UNDISPATCHED, {"n": limit})]


def settle(engine: Engine, event_id: str, event_type: str | None, payload: dict[str, Any] | None) -> Event:
    """Give the event its type and body once (the first dispatcher's stay: every attempt sends the same bytes)."""
    with engine.begin() as connection:
        connection.execute(
            update(EVENTS).where(E.id == event_id, E.payload.is_(None)).values(type=event_type, payload=payload)
        )
        row = connection.execute(select(EVENTS).where(E.id == event_id)).one()
    return Event(**row._mapping)


def mark_dispatched(engine: Engine, event_ids: Sequence[str]) -> None:
    if event_ids:
        with engine.begin() as connection:
            connection.execute(update(EVENTS).where(E.id.in_(event_ids)).values(dispatched_at=utcnow()))


def get(engine: Engine, event_id: str) -> Event | None:
    with engine.connect() as connection:
        row = connection.execute(select(EVENTS).where(E.id == event_id)).first()
    return Event(**row._mapping) if row else None
