"""Generations in lists: the gallery's pages and what they cost, the sweeper's overdue and unfinished ones, the
metrics' counts. Synchronous, like the rest of `store`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, and_, case, func, or_, select

from veo31.domain import Generation, Status
from veo31.errors import InputError
from veo31.store.generations import GENERATIONS, G, load

SETTLED = [status.value for status in Status if status.settled]


def list_generations(
    engine: Engine,
    *,
    status: Status | None = None,
    limit: int = 20,
    cursor: str | None = None,
    include_upgrades: bool = True,
) -> tuple[list[Generation], str | None]:
    """Newest first; `cursor` (from the previous page) continues where that page ended."""
    query = select(GENERATIONS).where(G.deliverable_of.is_(None))  # a deliverable is listed with its source
    if status is not None:
        query = query.where(G.status == status.value)
    if not include_upgrades:
        query = query.where(G.upgrade_of.is_(None))
    if cursor:
        created, last_id = decode_cursor(cursor)
        query = query.where(or_(G.created_at < created, and_(G.created_at == created, G.id < last_id)))
    query = query.order_by(G.created_at.desc(), G.id.desc()).limit(limit + 1)
    with engine.connect() as connection:
        rows = list(connection.execute(query))
        page = load(connection, rows[:limit])
    following = encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit and page else None
    return page, following


def spend_usd(engine: Engine, status: Status | None = None) -> float:
    """What generations have cost (or, where no cost is known yet, may cost): the reported cost where there is one;
    nothing for one that ended before any task; the estimate for the rest (in flight, or never reported)."""
    counted = func.coalesce(G.earlier_cost_usd, 0.0) + case(
        (G.cost_usd.is_not(None), G.cost_usd),
        (and_(G.status.in_((Status.FAILED.value, Status.CANCELED.value)), G.provider_task_id.is_(None)), 0.0),
        else_=func.coalesce(G.cost_estimate_usd, 0.0),
    )
    query = select(func.coalesce(func.sum(counted), 0.0))
    if status is not None:
        query = query.where(G.status == status.value)
    with engine.connect() as connection:
        return round(float(connection.scalar(query) or 0.0), 4)


def encode_cursor(created_at: datetime, generation_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{generation_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, generation_id = text.split("|", 1)
        return datetime.fromisoformat(created), generation_id
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InputError("cursor is not one this server gave out; start from the first page", field="cursor") from None


def overdue_generations(
    engine: Engine, now: datetime, wait_after: Callable[[int], float], *, looks: int, limit: int
) -> list[Generation]:
    """Generations that failed by running out of time but kept their task and had fewer than `looks` looks, due
    for another: `wait_after(n)` is how long after the last of n looks the next is due. The longest waiting first."""
    query = (
        select(GENERATIONS)
        .where(
            G.status == Status.FAILED.value,
            G.error_kind == "timed_out",
            G.provider_task_id.is_not(None),
            G.fetch_attempts < looks,
        )
        .order_by(G.updated_at)
        .limit(limit * 2)
    )
    with engine.connect() as connection:
        rows = list(connection.execute(query))
        due = [row for row in rows if (now - row.updated_at).total_seconds() >= wait_after(row.fetch_attempts)]
        return load(connection, due[:limit])


def unfinished_generations(engine: Engine, limit: int = 500) -> list[Generation]:
    """Generations still in the pipeline's hands — not ended, nor waiting for a person's review (to make sure each
    still has a workflow)."""
    query = select(GENERATIONS).where(G.status.not_in(SETTLED)).order_by(G.created_at).limit(limit)
    with engine.connect() as connection:
        return load(connection, list(connection.execute(query)))


def count_by_status(engine: Engine) -> list[tuple[str, str, int]]:
    """(status, provider, count) for every pair that has generations."""
    with engine.connect() as connection:
        rows = connection.execute(select(G.status, G.provider, func.count()).group_by(G.status, G.provider))
        return [(status, provider or "", int(count)) for status, provider, count in rows]
