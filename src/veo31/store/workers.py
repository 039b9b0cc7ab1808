"""Workers' heartbeats, and the claim on a silent one's work: a conditional UPDATE, so of the live workers that
see it silent at once exactly one wins."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from veo31.store.tables import WorkerRow, utcnow

WORKERS = WorkerRow.__table__
K = WORKERS.c


def beat(engine: Engine, executor_id: str) -> None:
    """This worker is alive now (a worker back under an id that was taken over starts afresh)."""
    now = utcnow()
    with engine.begin() as connection:
        moved = connection.execute(
            update(WORKERS)
            .where(K.executor_id == executor_id)
            .values(heartbeat_at=now, taken_over_at=None, taken_over_by=None)
        ).rowcount
    if moved:
        return
    try:
        with engine.begin() as connection:
            connection.execute(insert(WORKERS), {"executor_id": executor_id, "heartbeat_at": now, "started_at": now})
    except IntegrityError:
        beat(engine, executor_id)  # another process with this id wrote it first


def silent(engine: Engine, executor_id: str, silence_seconds: float) -> list[str]:
    """Workers (not this one) silent longer than `silence_seconds`, not yet taken over."""
    cutoff = utcnow() - timedelta(seconds=silence_seconds)
    with engine.connect() as connection:
        return list(
            connection.scalars(
                select(K.executor_id).where(
                    K.heartbeat_at < cutoff, K.taken_over_at.is_(None), K.executor_id != executor_id
                )
            )
        )


def claim(engine: Engine, silent_id: str, taker: str, silence_seconds: float) -> bool:
    """Take the silent worker's work: True for exactly one taker."""
    now = utcnow()
    cutoff = now - timedelta(seconds=silence_seconds)
    with engine.begin() as connection:
        return (
            connection.execute(
                update(WORKERS)
                .where(K.executor_id == silent_id, K.taken_over_at.is_(None), K.heartbeat_at < cutoff)
                .values(taken_over_at=now, taken_over_by=taker)
            ).rowcount
            == 1
        )


def taken_over(engine: Engine, executor_id: str) -> str | None:
    """Who took this worker's work over, if anyone."""
    with engine.connect() as connection:
        return connection.scalar(select(K.taken_over_by).where(K.executor_id == executor_id))
