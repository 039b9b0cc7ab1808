"""The database the migrations build is the one tables.py describes — on the suite's database (SQLite, or
PostgreSQL with VEO31_TEST_DATABASE=postgresql), where types and lengths are really enforced."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.databases import database_for
from veo31.config import load_settings
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
