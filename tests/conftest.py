"""Test kit: the app on SQLite and PostgreSQL, savepoint isolation, a fixed clock, no network."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

import models
from app import create_app, lianxin
from models.db import make_engine

PG_URL = os.environ.get("LIANXIN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("LIANXIN_REQUIRE_PG") == "1"
# Monday 2026-11-23 10:00 in Beijing.
FIXED_NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach a host other than this machine."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address) -> None:
        host = address[0] if isinstance(address, tuple) else address
        remote = isinstance(host, str) and not (host.startswith("127.") or host in ("::1", "localhost"))
        if remote and self.family in (socket.AF_INET, socket.AF_INET6):
            raise RuntimeError(f"test tried to reach {host}: tests stay on 127.0.0.1")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # the reason is shown in the skip message
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"


@contextmanager
def pg_schema_engine(prefix: str = "lx_test") -> Iterator[Engine]:
    """Yield an engine on a fresh PostgreSQL schema, dropped afterwards.

    Skips with the reason when PostgreSQL does not answer, or fails when
    ``LIANXIN_REQUIRE_PG=1`` (CI), so PostgreSQL tests never skip silently.
    """
    reason = _pg_available()
    if reason is not None:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required (LIANXIN_REQUIRE_PG=1) but unavailable: {reason}")
        pytest.skip(f"PostgreSQL not available at {PG_URL}: {reason}")
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        _drop_schema(admin, schema)
        admin.dispose()


def _drop_schema(admin: Engine, schema: str, attempts: int = 5) -> None:
    """Drop a test schema; PostgreSQL may pick the DROP as a deadlock victim while a worker thread of the
    test (an inbox thread finishing its last message) still holds row locks in it: try again then (the
    new DROP waits on those locks until the thread's transaction ends)."""
    for attempt in range(attempts):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            return
        except OperationalError:
            if attempt == attempts - 1:
                raise


def _make_db(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        models.Base.metadata.create_all(engine)
        yield engine
        engine.dispose()
        return
    with pg_schema_engine() as engine:
        models.Base.metadata.create_all(engine)
        yield engine


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A database of each kind with the models' schema, shared by the session.

    Tests build the schema from the models; ``test_migrations`` proves that
    the Alembic migrations produce exactly the same schema.
    """
    yield from _make_db(request.param, tmp_path_factory)


@pytest.fixture
def settings_overrides(tmp_path) -> dict:
    """Settings every test app gets; tests may extend the dict."""
    return {"app": {"secret_key": "test-secret-key-0123456789", "instance_path": str(tmp_path / "instance"),
                    "inbox": "inline"}}  # handle webhook messages in the request thread: sessions share one connection


@pytest.fixture
def app(db_engine: Engine, settings_overrides: dict) -> Iterator:
    """The app bound to one outer transaction that is rolled back afterwards."""
    overrides = {**settings_overrides, "database": {"url": db_engine.url.render_as_string(hide_password=False)}}
    application = create_app(overrides)
    ext = lianxin(application)
    ext.engine.dispose()
    ext.engine = db_engine
    ext.clock = lambda: FIXED_NOW
    connection = db_engine.connect()
    outer = connection.begin()
    ext.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield application
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def ext(app):
    """The app's Lianxin extension (settings, sessionmaker, registry, sender)."""
    return lianxin(app)


@pytest.fixture
def db_session(ext):
    """A session inside the test's rolled-back transaction."""
    session = ext.sessionmaker()
    yield session
    session.close()


@pytest.fixture
def client(app):
    """A Flask test client that reads and closes every response, as a WSGI server does.

    Closing runs the work a webhook does after its answer (handling the stored
    message, sending the replies) before the test looks at the database.
    """
    app.test_client_class = ClosingClient
    return app.test_client()


class ClosingClient(FlaskClient):
    """``buffered=True`` by default: the body is read and the response closed."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def runner(app):
    """A Flask CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def now() -> dt.datetime:
    """The fixed time of the test clock."""
    return FIXED_NOW


@pytest.fixture
def school(db_session, now):
    """The committed test school of ``tests/factories.build_school``."""
    from tests.factories import build_school

    ts = build_school(db_session, now)
    db_session.commit()
    return ts
