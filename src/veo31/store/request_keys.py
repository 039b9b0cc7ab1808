"""Idempotency keys bound to the request they first came with.

A key is stored with a fingerprint of its request (a hash of what was asked) and the generation it answered
with. The same key with the same request finds that generation; with another request it is refused — a client
reusing a key by mistake learns of it instead of getting some other generation back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from veo31.errors import ConflictError
from veo31.store.tables import RequestKeyRow, utcnow

KEYS = RequestKeyRow.__table__
_FIND = select(KEYS.c.fingerprint, KEYS.c.generation_id).where(KEYS.c.key == bindparam("k"))


@dataclass(frozen=True)
class RequestKey:
    key: str
    fingerprint: str


def keyed(key: str | None, *parts: Any) -> RequestKey | None:
    """The client's key bound to the request made of `parts`; None when the client sent no key."""
    return RequestKey(key, fingerprint(*parts)) if key else None


def fingerprint(*parts: Any) -> str:
    """A stable hash of a request's parts (JSON-serialisable values)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def add(connection: Connection, request_key: RequestKey, generation_id: str) -> None:
    connection.execute(
        insert(KEYS),
        {
            "key": request_key.key,
            "fingerprint": request_key.fingerprint,
            "generation_id": generation_id,
            "created_at": utcnow(),
        },
    )


def bound_generation(engine: Engine, request_key: RequestKey) -> str | None:
    """The generation this key answered with, or None when it is new; a ConflictError when the key came first
    with another request."""
    with engine.connect() as connection:
        row = connection.execute(_FIND, {"k": request_key.key}).first()
    if row is None:
        return None
    if row.fingerprint != request_key.fingerprint:
        raise ConflictError(
            f"the Idempotency-Key {request_key.key[:80]!r} was already used for a different request; "
            "send a new key for a new request (the same key only repeats the same request)"
        )
    return str(row.generation_id)


def bind(engine: Engine, request_key: RequestKey, generation_id: str) -> None:
    """Bind the key to a generation that exists already (a retry or cancel that changed nothing new); a race
    with the same key is settled by the primary key, and a different request with it is refused."""
    try:
        with engine.begin() as connection:
            add(connection, request_key, generation_id)
    except IntegrityError:
        bound_generation(engine, request_key)
