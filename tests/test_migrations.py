"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import models
from models.db import make_engine
from models.migrate import upgrade
from tests.conftest import pg_schema_engine


def _diff(engine) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, models.Base.metadata)


def test_sqlite_migrations_match_models(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    upgrade(engine)
    upgrade(engine)  # idempotent: running init-db twice is harmless
    assert _diff(engine) == []


def test_postgresql_migrations_match_models() -> None:
    with pg_schema_engine("lx_mig") as engine:
        upgrade(engine)
        assert _diff(engine) == []
