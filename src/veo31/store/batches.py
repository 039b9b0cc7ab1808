"""SQL about catalogue batches: a batch and its products stored in one transaction, the products still to start,
what each became, and the batch's counts and cost read straight from its generations."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, case, func, insert, select, text, update

from veo31.domain import Status
from veo31.errors import NotFoundError
from veo31.store.generations import GENERATIONS, G
from veo31.store.tables import BatchItemRow, BatchRow, utcnow

BATCHES = BatchRow.__table__
ITEMS = BatchItemRow.__table__
B, P = BATCHES.c, ITEMS.c  # P: a batch's products
SETTLED_OR_ENDED = frozenset(status.value for status in Status if status.terminal or status.settled)


class BatchState(StrEnum):
    RUNNING = "running"  # products still being started (their photos fetched, their generation made)
    STARTED = "started"  # every product has its generation, or the reason it has none
    CANCELED = "canceled"


@dataclass(frozen=True)
class Batch:
    id: str
    format: str
    spec: dict[str, Any]
    skipped: list[dict[str, Any]]
    state: BatchState
    round: int
    file_name: str | None
    created_at: datetime


@dataclass(frozen=True)
class NewItem:
    row: int
    product_id: str
    title: str
    images: list[str]
    settings: dict[str, str]


@dataclass(frozen=True)
class Item:
    id: int
    row: int
    product_id: str
    title: str
    images: list[str]
    settings: dict[str, Any]
    sync_key: str | None
    generation_id: str | None
    error: str | None


@dataclass(frozen=True)
class ItemView:
    """A product as the batch's results show it: the item and what its generation is now."""

    item: Item
    status: str | None
    video_key: str | None
    quality: dict[str, Any] | None
    error_message: str | None
    cost_usd: float | None


def new_batch_id() -> str:
    return "b" + secrets.token_hex(15)


def create(
    engine: Engine,
    *,
    format: str,
    spec: dict[str, Any],
    skipped: list[dict[str, Any]],
    items: Sequence[NewItem],
    file_name: str | None,
) -> str:
    batch_id = new_batch_id()
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            insert(BATCHES),
            {
                "id": batch_id,
                "format": format,
                "spec": spec,
                "skipped": skipped,
                "state": BatchState.RUNNING.value,
                "round": 0,
                "file_name": file_name,
                "created_at": now,
                "updated_at": now,
            },
        )
        if items:
            connection.execute(
                insert(ITEMS),
                [
                    {
                        "batch_id": batch_id,
                        "row": item.row,
                        "product_id": item.product_id,
                        "title": item.title,
                        "images": item.images,
                        "settings": item.settings,
                    }
                    for item in items
                ],
            )
    return batch_id


def _batch(row: Any) -> Batch:
    return Batch(
        row.id, row.format, dict(row.spec), list(row.skipped), BatchState(row.state), row.round, row.file_name,
        row.created_at,
    )  # fmt: skip


def get(engine: Engine, batch_id: str) -> Batch:
    with engine.connect() as connection:
        return _get(connection, batch_id)


def _get(connection: Connection, batch_id: str) -> Batch:
    row = connection.execute(select(BATCHES).where(B.id == batch_id)).first()
    if row is None:
        raise NotFoundError(f"no batch with id {batch_id!r}")
    return _batch(row)


def list_recent(engine: Engine, limit: int = 20) -> list[Batch]:
    with engine.connect() as connection:
        rows = connection.execute(select(BATCHES).order_by(B.created_at.desc(), B.id).limit(limit)).all()
    return [_batch(row) for row in rows]


def set_state(engine: Engine, batch_id: str, state: BatchState, *, unless: BatchState | None = None) -> bool:
    statement = update(BATCHES).where(B.id == batch_id)
    if unless is not None:
        statement = statement.where(B.state != unless.value)
    with engine.begin() as connection:
        return connection.execute(statement.values(state=state.value, updated_at=utcnow())).rowcount > 0


def next_round(engine: Engine, batch_id: str) -> int:
    with engine.begin() as connection:
        connection.execute(
            update(BATCHES)
            .where(B.id == batch_id)
            .values(round=B.round + 1, state=BatchState.RUNNING.value, updated_at=utcnow())
        )
        return int(connection.scalar(select(B.round).where(B.id == batch_id)) or 0)


def _item(row: Any) -> Item:
    return Item(
        row.id,
        row.row,
        row.product_id,
        row.title,
        list(row.images),
        dict(row.settings),
        row.sync_key,
        row.generation_id,
        row.error,
    )


def waiting(engine: Engine, batch_id: str, after_row: int, limit: int) -> list[Item]:
    """Products past `after_row` with neither a generation nor a reason they have none, in the file's order."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(ITEMS)
            .where(P.batch_id == batch_id, P.row > after_row, P.generation_id.is_(None), P.error.is_(None))
            .order_by(P.row)
            .limit(limit)
        ).all()
    return [_item(row) for row in rows]


def settle_item(
    engine: Engine, item_id: int, *, generation_id: str | None = None, sync_key: str | None = None, error: str | None
) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(ITEMS).where(P.id == item_id).values(generation_id=generation_id, sync_key=sync_key, error=error)
        )


def reopen_failed(engine: Engine, batch_id: str) -> int:
    """Products that could not start get another go (their reason cleared); how many."""
    with engine.begin() as connection:
        return connection.execute(
            update(ITEMS)
            .where(P.batch_id == batch_id, P.generation_id.is_(None), P.error.is_not(None))
            .values(error=None)
        ).rowcount


def views(engine: Engine, batch_id: str, *, after_row: int = 0, limit: int | None = None) -> list[ItemView]:
    """Every product of the batch in the file's order, with its generation as it stands."""
    statement = (
        select(ITEMS, G.status, G.video_key, G.quality, G.error_message, G.cost_usd, G.cost_estimate_usd)
        .select_from(ITEMS.outerjoin(GENERATIONS, G.id == P.generation_id))
        .where(P.batch_id == batch_id, P.row > after_row)
        .order_by(P.row)
    )
    if limit is not None:
        statement = statement.limit(limit)
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    return [
        ItemView(_item(row), row.status, row.video_key, row.quality, row.error_message, row.cost_usd) for row in rows
    ]


@dataclass(frozen=True)
class Tally:
    counts: dict[str, int]  # generation status → products; `queued` also holds those not started yet
    spent_usd: float
    estimated_usd: float  # what the generations under way are expected to cost
    not_started: int

    def stopped(self) -> Tally:
        """The tally of a batch that will start nothing more: its waiting products are canceled."""
        counts = dict(self.counts)
        counts["canceled"] = counts.get("canceled", 0) + self.not_started
        counts["queued"] = counts.get("queued", 0) - self.not_started
        if counts["queued"] <= 0:
            del counts["queued"]
        return Tally(counts, self.spent_usd, self.estimated_usd, 0)


def status(engine: Engine, batch_id: str) -> tuple[Batch, Tally]:
    """The batch and its counts, read together (a status read is one trip to the database)."""
    with engine.connect() as connection:
        return _get(connection, batch_id), _tally(connection, batch_id)


# One statement, told on SQLite which index to read: its planner takes the primary key's and reads every wide
# generation row beside it (three times slower at 10,000 products), and SQLAlchemy renders no SQLite index hint.
_BY_STATUS = (
    "SELECT g.status, count(*) AS n, sum(coalesce(g.cost_usd, 0.0)) AS spent,"
    " sum(coalesce(g.cost_estimate_usd, 0.0)) AS estimated"
    " FROM batch_items AS p JOIN generations AS g {index} ON g.id = p.generation_id"
    " WHERE p.batch_id = :batch_id GROUP BY g.status"
)
BY_STATUS = text(_BY_STATUS.format(index=""))
BY_STATUS_SQLITE = text(_BY_STATUS.format(index="INDEXED BY ix_generations_tally"))
UNSTARTED = select(
    func.sum(case((and_(P.generation_id.is_(None), P.error.is_(None)), 1), else_=0)),
    func.sum(case((and_(P.generation_id.is_(None), P.error.is_not(None)), 1), else_=0)),
).where(P.batch_id == bindparam("batch_id"))


def _tally(connection: Connection, batch_id: str) -> Tally:
    """Counts by status over covering indexes (on SQLite a status read of a 10,000-product batch reads no product's
    or generation's row), and the products not started yet or refused."""
    params = {"batch_id": batch_id}
    counts: dict[str, int] = {}
    spent = estimated = 0.0
    by_status = BY_STATUS_SQLITE if connection.dialect.name == "sqlite" else BY_STATUS
    for row in connection.execute(by_status, params):
        counts[row.status] = int(row.n)
        spent += float(row.spent or 0)
        if row.status not in SETTLED_OR_ENDED:
            estimated += float(row.estimated or 0)
    waiting_count, refused = connection.execute(UNSTARTED, params).one()
    if waiting_count:
        counts["queued"] = counts.get("queued", 0) + int(waiting_count)
    if refused:
        counts["failed"] = counts.get("failed", 0) + int(refused)
    return Tally(counts, round(spent, 4), round(estimated, 4), int(waiting_count or 0))


def any_unsettled(engine: Engine, batch_id: str) -> bool:
    """Whether a product of the batch is still to start or under way (stops at the first one found: cheap while
    the batch runs, which is when it is asked most)."""
    waiting = and_(P.generation_id.is_(None), P.error.is_(None))
    statement = (
        select(P.id)
        .select_from(ITEMS.outerjoin(GENERATIONS, G.id == P.generation_id))
        .where(P.batch_id == batch_id, waiting | (P.generation_id.is_not(None) & G.status.not_in(SETTLED_OR_ENDED)))
        .limit(1)
    )
    with engine.connect() as connection:
        return connection.scalar(statement) is not None


def queued_on(engine: Engine, provider: str) -> int:
    """How many generations wait on the provider's queue, not started yet (the work a batch has queued ahead)."""
    statement = select(func.count()).where(G.status == Status.QUEUED.value, G.provider == provider)
    with engine.connect() as connection:
        return int(connection.scalar(statement) or 0)


def batch_of(engine: Engine, generation_id: str) -> tuple[str, Item] | None:
    """The batch a generation was made for, and its product."""
    with engine.connect() as connection:
        row = connection.execute(select(ITEMS).where(P.generation_id == generation_id).limit(1)).first()
    return (row.batch_id, _item(row)) if row else None


def replace_generation(engine: Engine, batch_id: str, old: str, new: str) -> None:
    """A retried product now follows its retry."""
    with engine.begin() as connection:
        connection.execute(
            update(ITEMS).where(P.batch_id == batch_id, P.generation_id == old).values(generation_id=new)
        )


def generation_ids(engine: Engine, batch_id: str) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.scalars(select(P.generation_id).where(P.batch_id == batch_id, P.generation_id.is_not(None)))
        )
