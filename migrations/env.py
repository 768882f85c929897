"""Alembic environment: the URL comes from Lianxin's settings or the caller."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

import models
from config.settings import load_settings
from models.db import make_engine

config = context.config
target_metadata = models.Base.metadata


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave tables that others own (APScheduler's job store) out of autogenerate."""
    return not (type_ == "table" and name == "apscheduler_jobs")


def _url() -> str:
    return config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or load_settings().database.url


def run_migrations_offline() -> None:
    """Emit SQL without a connection."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations on a live connection (given by the caller, or made here)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    engine.pool = pool.NullPool(engine.pool._creator)  # one-off connection
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
