"""Brand kits as stored: each change makes a new version (the logo of every version kept under its own key), so a
deliverable made with version 3 can always say what it was made with."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from veo31.errors import NotFoundError
from veo31.store.tables import BrandKitRow, utcnow

KITS = BrandKitRow.__table__
K = KITS.c


@dataclass(frozen=True)
class StoredKit:
    id: str
    name: str
    version: int
    settings: dict[str, Any]
    logo_key: str | None
    created_at: datetime
    updated_at: datetime
    music_key: str | None = None


@dataclass(frozen=True)
class KitFiles:
    """The files a change brings (blob keys): a new logo or music; None keeps the kit's own."""

    logo_key: str | None = None
    music_key: str | None = None
    drop_music: bool = False  # the kit's music taken away


def new_kit_id() -> str:
    return secrets.token_hex(16)


def create_kit(engine: Engine, kit_id: str, settings: dict[str, Any], files: KitFiles) -> StoredKit:
    now = utcnow()
    row = dict(
        id=kit_id,
        name=settings["name"],
        version=1,
        settings=settings,
        logo_key=files.logo_key,
        created_at=now,
        updated_at=now,
        music_key=files.music_key,
    )
    with engine.begin() as connection:
        connection.execute(insert(KITS), row)
    return StoredKit(**row)


def update_kit(engine: Engine, kit_id: str, settings: dict[str, Any], files: KitFiles) -> StoredKit:
    """The kit's next version; the logo and music it had are kept unless `files` brings others (or drops the music)."""
    with engine.begin() as connection:
        current = connection.execute(select(KITS).where(K.id == kit_id).with_for_update()).first()
        if current is None:
            raise NotFoundError(f"no brand kit {kit_id!r}")
        values = dict(
            name=settings["name"],
            version=current.version + 1,
            settings=settings,
            logo_key=files.logo_key or current.logo_key,
            music_key=None if files.drop_music else files.music_key or current.music_key,
            updated_at=utcnow(),
        )
        connection.execute(update(KITS).where(K.id == kit_id), values)
    return get_kit(engine, kit_id)


def get_kit(engine: Engine, kit_id: str) -> StoredKit:
    with engine.connect() as connection:
        row = connection.execute(select(KITS).where(K.id == kit_id)).first()
    if row is None:
        raise NotFoundError(f"no brand kit {kit_id!r}; GET /v1/brand-kits lists them")
    return StoredKit(**row._mapping)


def list_kits(engine: Engine) -> list[StoredKit]:
    with engine.connect() as connection:
        return [StoredKit(**row._mapping) for row in connection.execute(select(KITS).order_by(K.created_at, K.id))]
