"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import models
from models.db import make_engine
from models.migrate import upgrade
from tests.conftest import PG_URL, REQUIRE_PG, _pg_available


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
    reason = _pg_available()
    if reason:
        if REQUIRE_PG:
            pytest.fail(reason)
        pytest.skip(f"PostgreSQL not available: {reason}")
    schema = f"lx_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        upgrade(engine)
        assert _diff(engine) == []
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
