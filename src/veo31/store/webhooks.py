"""Webhook endpoints (their URL, the events they want, their signing secrets), and each delivery of an event to
one of them with every attempt made."""

from __future__ import annotations

import secrets as random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from veo31.errors import NotFoundError
from veo31.store.events import EVENTS
from veo31.store.tables import WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow, utcnow

ENDPOINTS = WebhookEndpointRow.__table__
DELIVERIES = WebhookDeliveryRow.__table__
ATTEMPTS = WebhookAttemptRow.__table__
W, D, A = ENDPOINTS.c, DELIVERIES.c, ATTEMPTS.c


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    events: list[str]
    secrets: list[dict[str, Any]]  # newest first; never leaves the pipeline but to sign
    created_at: datetime

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets that sign now: the newest, and older ones until their overlap ends."""
        return [
            item["secret"]
            for item in self.secrets
            if item.get("until") is None or datetime.fromisoformat(item["until"]) > now
        ]


@dataclass(frozen=True)
class Attempt:
    event_id: str
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    manual: bool


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(row.id, row.url, list(row.events), list(row.secrets), row.created_at)


def add_endpoint(engine: Engine, url: str, events: list[str], secret: str) -> Endpoint:
    endpoint_id = "wh_" + random.token_hex(12)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            insert(ENDPOINTS),
            {
                "id": endpoint_id,
                "url": url,
                "events": events,
                "secrets": [{"secret": secret, "until": None}],
                "created_at": now,
            },
        )
    return get_endpoint(engine, endpoint_id)


def get_endpoint(engine: Engine, endpoint_id: str) -> Endpoint:
    with engine.connect() as connection:
        row = connection.execute(select(ENDPOINTS).where(W.id == endpoint_id, W.deleted_at.is_(None))).first()
    if row is None:
        raise NotFoundError(f"no webhook endpoint with id {endpoint_id!r}")
    return _endpoint(row)


def endpoints(engine: Engine, event_type: str | None = None) -> list[Endpoint]:
    """Every live endpoint; with `event_type`, those that want it."""
    with engine.connect() as connection:
        rows = connection.execute(select(ENDPOINTS).where(W.deleted_at.is_(None)).order_by(W.created_at)).all()
    found = [_endpoint(row) for row in rows]
    return [item for item in found if event_type is None or event_type in item.events]


def rotate(engine: Engine, endpoint_id: str, secret: str, overlap_until: datetime) -> None:
    """A new secret signs from now on; the ones before it still sign until `overlap_until` (receivers switch)."""
    endpoint = get_endpoint(engine, endpoint_id)
    now = utcnow()
    older = [
        {"secret": item["secret"], "until": min(overlap_until.isoformat(), item.get("until") or "9999")}
        for item in endpoint.secrets
        if item.get("until") is None or datetime.fromisoformat(item["until"]) > now
    ]
    with engine.begin() as connection:
        connection.execute(
            update(ENDPOINTS).where(W.id == endpoint_id).values(secrets=[{"secret": secret, "until": None}, *older])
        )


def delete_endpoint(engine: Engine, endpoint_id: str) -> None:
    get_endpoint(engine, endpoint_id)
    with engine.begin() as connection:
        connection.execute(update(ENDPOINTS).where(W.id == endpoint_id).values(deleted_at=utcnow()))


def open_delivery(engine: Engine, endpoint_id: str, event_id: str) -> None:
    """The delivery's row (once: a second dispatcher of the same event finds it there)."""
    now = utcnow()
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(DELIVERIES),
                {
                    "endpoint_id": endpoint_id,
                    "event_id": event_id,
                    "state": "pending",
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                },
            )
    except IntegrityError:
        return


def record_attempt(
    engine: Engine,
    endpoint_id: str,
    event_id: str,
    *,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
    state: str,
    manual: bool = False,
) -> None:
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            insert(ATTEMPTS),
            {
                "endpoint_id": endpoint_id,
                "event_id": event_id,
                "at": now,
                "status_code": status_code,
                "error": error,
                "duration_ms": duration_ms,
                "manual": manual,
            },
        )
        # A failed attempt by hand leaves the delivery as it stood (delivered stays delivered).
        kept = D.state if manual and state != "delivered" else state
        connection.execute(
            update(DELIVERIES)
            .where(D.endpoint_id == endpoint_id, D.event_id == event_id)
            .values(state=kept, attempts=D.attempts + 1, updated_at=now)
        )


@dataclass(frozen=True)
class Delivery:
    event_id: str
    event_type: str | None
    state: str
    attempts: list[Attempt]
    created_at: datetime
    updated_at: datetime


def deliveries(engine: Engine, endpoint_id: str, limit: int = 100) -> list[Delivery]:
    """The endpoint's latest deliveries, newest first, each with its attempts in order."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(DELIVERIES, EVENTS.c.type.label("event_type"))
            .select_from(DELIVERIES.outerjoin(EVENTS, EVENTS.c.id == D.event_id))
            .where(D.endpoint_id == endpoint_id)
            .order_by(D.created_at.desc(), D.event_id)
            .limit(limit)
        ).all()
        ids = [row.event_id for row in rows]
        tried = connection.execute(
            select(ATTEMPTS).where(A.endpoint_id == endpoint_id, A.event_id.in_(ids)).order_by(A.id)
        ).all()
    by_event: dict[str, list[Attempt]] = {}
    for item in tried:
        by_event.setdefault(item.event_id, []).append(
            Attempt(item.event_id, item.at, item.status_code, item.error, item.duration_ms, item.manual)
        )
    return [
        Delivery(
            row.event_id, row.event_type, row.state, by_event.get(row.event_id, []), row.created_at, row.updated_at
        )
        for row in rows
    ]


def manual_attempts(engine: Engine, endpoint_id: str, event_id: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count())
                .select_from(ATTEMPTS)
                .where(A.endpoint_id == endpoint_id, A.event_id == event_id, A.manual.is_(True))
            )
            or 0
        )


def delivery_exists(engine: Engine, endpoint_id: str, event_id: str) -> bool:
    with engine.connect() as connection:
        found = connection.scalar(select(D.state).where(D.endpoint_id == endpoint_id, D.event_id == event_id))
    return found is not None
