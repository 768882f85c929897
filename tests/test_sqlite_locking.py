"""SQLite (the embedded default): writers queue for the write lock instead of failing or stalling."""

from __future__ import annotations

import threading

from sqlalchemy import text

from models.db import make_engine


def test_a_writer_waits_for_the_lock_and_then_commits(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)"))
    holding, release, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        with engine.begin() as conn:  # BEGIN IMMEDIATE: holds the write lock
            conn.execute(text("INSERT INTO t (who) VALUES ('first')"))
            holding.set()
            release.wait(10)

    def second() -> None:
        try:
            with engine.begin() as conn:  # must wait for the lock, not fail with "database is locked"
                conn.execute(text("INSERT INTO t (who) VALUES ('second')"))
        except BaseException as exc:  # reported below
            errors.append(exc)
        done.set()

    a = threading.Thread(target=first)
    a.start()
    assert holding.wait(10)
    b = threading.Thread(target=second)
    b.start()
    assert not done.wait(0.2), "the second writer cannot commit while the first holds the lock"
    release.set()
    a.join(10)
    b.join(10)
    assert errors == []
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT who FROM t ORDER BY id"))] == ["first", "second"]
    engine.dispose()
