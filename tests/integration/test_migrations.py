"""The database the migrations build is the one tables.py describes — on the suite's database (SQLite, or
PostgreSQL with VEO31_TEST_DATABASE=postgresql), where types and lengths are really enforced."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event

from tests.databases import KIND, database_for
from veo31.config import load_settings
from veo31.domain import Status
from veo31.store import listing
from veo31.store.db import create_db_engine, migrate
from veo31.store.tables import Base


def test_migrations_build_the_schema_the_code_uses(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url=database_for(tmp_path))
    engine = create_db_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == [], "a change to tables.py without its migration (or the other way round)"


@pytest.mark.skipif(KIND != "sqlite", reason="SQLite's planner, which has no statistics to go by")
@pytest.mark.parametrize("status", [None, Status.COMPLETED])
def test_the_gallery_page_is_read_in_order_from_an_index(tmp_path: Path, status: Status | None) -> None:
    """The newest page, as the page asks for it, is read from an index in creation order — not every generation
    sorted (with ten thousand, that sort was most of the page's time)."""
    engine = create_db_engine(load_settings(data_dir=tmp_path).resolved_database_url)
    statements: list[tuple[str, object]] = []

    def seen(_connection: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        statements.append((statement, parameters))

    try:
        migrate(engine)
        event.listen(engine, "before_cursor_execute", seen)
        listing.list_generations(engine, status=status, limit=12, include_upgrades=False)
        event.remove(engine, "before_cursor_execute", seen)
        statement, parameters = next((s, p) for s, p in statements if "ORDER BY generations.created_at DESC" in s)
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = " / ".join(row[-1] for row in rows)
    finally:
        engine.dispose()
    assert "TEMP B-TREE" not in plan and "USING INDEX ix_generations_" in plan, plan
