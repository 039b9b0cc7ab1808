"""The SQL engine and schema migrations. SQLite (the embedded default) is tuned for a busy single box."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x7E031  # any fixed number: the advisory lock every veo31 process takes to migrate


def create_db_engine(url: str) -> Engine:
    """An engine for `url`; on SQLite with WAL, a busy timeout and foreign keys, usable from many threads."""
    if url.startswith("sqlite"):
        database = sqlite_file(url)
        if database is not None:
            database.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def sqlite_file(url: str) -> Path | None:
    """The file of a `sqlite:///…` URL; None for another database or an in-memory one."""
    if not url.startswith("sqlite"):
        return None
    database = url.split("///", 1)[-1]
    return Path(database) if database and database != ":memory:" else None


def write_ahead_log(url: str) -> None:
    """Put the SQLite database at `url` (created if missing) in write-ahead-log mode, which it keeps for good.

    For DBOS's checkpoints, whose engine DBOS builds itself on SQLite's default rollback journal: there a commit
    shuts readers out until it ends, and they wait in SQLite's busy handler, sleeping 1 to 100 ms between tries.
    In WAL readers and the writer do not wait for each other, and a commit costs one sync of the log instead of
    a journal file's creation, sync and removal (docs/performance.md); it still reaches the disk before it
    returns (DBOS's connections keep synchronous=FULL).
    """
    database = sqlite_file(url)
    if database is None:
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


# Pages a SQLite connection keeps in its own cache (KiB). SQLite's default, 2 MiB, is per connection: with veo31's and
# DBOS's pools that was tens of MB that filled as a catalogue grew the databases — memory growing with the queue
# (bench/catalogue.py). Pages beyond it are read from the OS's file cache, which every connection shares.
PAGE_CACHE_KIB = 512


@event.listens_for(Engine, "connect")
def _small_page_cache(connection: Any, _: Any) -> None:
    """Every SQLite connection this process opens, ours and DBOS's, with a small page cache of its own."""
    if isinstance(connection, sqlite3.Connection):
        connection.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (safe to run at every start, and from several processes)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # API and worker processes starting together: one migrates, the others wait and find it done.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def database_problem(engine: Engine) -> str | None:
    """None when the database answers; otherwise what went wrong, in a few words."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return f"unreachable ({type(exc).__name__})"
    return None


def database_check(url: str) -> str | None:
    """None when the database at `url` answers; otherwise what went wrong (for `veo31 doctor`)."""
    try:
        engine = create_db_engine(url)
    except OSError as exc:
        return f"cannot open it ({exc.strerror})"
    try:
        return database_problem(engine)
    finally:
        engine.dispose()
