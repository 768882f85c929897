"""Engine and session factory, built once per application."""

from __future__ import annotations

import sqlite3
import time

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# How long a SQLite writer waits for the write lock before giving up (as the 30 s timeout did).
SQLITE_LOCK_WAIT = 30.0


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create the engine; SQLite gets foreign keys, WAL and a busy timeout.

    Parameters are hidden from errors and echo logs: they are parents' words,
    names and phone numbers, which must never reach a log file.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, hide_parameters=True,
                               connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    return create_engine(url, echo=echo, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy, not pysqlite, issue BEGIN, so SAVEPOINTs work (SQLAlchemy's pysqlite recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # From here on SQLite's own busy handler waits at most 5 ms; _begin_immediate waits for
    # the write lock in finer steps (its sleeps grow 1, 2, 5 … 100 ms, which adds up to
    # hundreds of milliseconds behind a busy writer).
    cursor.execute("PRAGMA busy_timeout=5")
    cursor.close()


def _begin_immediate(conn) -> None:
    """Start every transaction as a writer (no lock upgrade deadlocks), waiting for the lock in 1 ms steps."""
    deadline = time.monotonic() + SQLITE_LOCK_WAIT
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except Exception as exc:  # sqlalchemy wraps sqlite3.OperationalError("database is locked")
            cause = getattr(exc, "orig", exc)
            if not (isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause)):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.001)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return the one session factory of the application."""
    return sessionmaker(bind=engine, expire_on_commit=False)
