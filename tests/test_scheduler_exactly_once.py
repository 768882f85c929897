"""Exactly once: two schedulers on separate connections send each message once; restarts resend nothing.

These tests commit for real, so each gets a fresh database of its own
(SQLite file or PostgreSQL schema) and two apps — two scheduler processes —
each with its own engine and connections.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from app import create_app, lianxin
from models import jobs as ledger
from models.jobs import JobRun
from models.outbox import OutboxMessage
from models.tickets import TicketEvent
from scheduler import jobs
from tests.conftest import FIXED_NOW, _make_db
from tests.scheduler_helpers import bound_school, open_ticket

H = dt.timedelta(hours=1)


@pytest.fixture
def fresh(db_engine, tmp_path_factory, settings_overrides):  # the db_engine param picks the kind
    kind = db_engine.dialect.name
    gen = _make_db("sqlite" if kind == "sqlite" else "postgresql", tmp_path_factory)
    engine = next(gen)
    url = engine.url.render_as_string(hide_password=False)
    apps = []
    for _ in range(2):
        app = create_app({**settings_overrides, "database": {"url": url}})
        ext = lianxin(app)
        ext.clock = lambda: FIXED_NOW
        apps.append(ext)
    yield kind, apps
    for ext in apps:
        ext.engine.dispose()
    with contextlib.suppress(StopIteration):
        next(gen)


def _count(ext, model, *where) -> int:
    with ext.sessionmaker() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_lease_lets_one_scheduler_sweep_at_a_time(fresh):
    _, (a, b) = fresh
    ttl = dt.timedelta(minutes=5)
    with a.sessionmaker() as sa, b.sessionmaker() as sb:
        assert ledger.acquire_lease(sa, "sweep_deadlines", "A", FIXED_NOW, ttl)
        sa.commit()
        assert not ledger.acquire_lease(sb, "sweep_deadlines", "B", FIXED_NOW, ttl)
        sb.commit()
        # A crashed holder's lease expires; the other scheduler takes over.
        assert ledger.acquire_lease(sb, "sweep_deadlines", "B", FIXED_NOW + ttl, ttl)
        sb.commit()
        assert not ledger.acquire_lease(sa, "sweep_deadlines", "A", FIXED_NOW + ttl, ttl)


def test_two_schedulers_send_deadline_reminders_once(fresh):
    kind, (a, b) = fresh
    with a.sessionmaker() as session:
        ts, bot = bound_school(a, session, FIXED_NOW)
        ticket = open_ticket(session, ts, bot, FIXED_NOW)
        session.commit()
        ticket_id = ticket.id
    at = FIXED_NOW + 23 * H + dt.timedelta(minutes=10)
    if kind == "postgresql":
        barrier = threading.Barrier(2)

        def tick(ext, holder):
            barrier.wait()
            from models.deadline_sweep import sweep_deadlines
            from scheduler.runner import run_sweep

            run_sweep(ext, "sweep_deadlines", sweep_deadlines, at, holder=holder)

        threads = [threading.Thread(target=tick, args=(e, h)) for e, h in ((a, "A"), (b, "B"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    else:  # SQLite has one writer: the two ticks interleave instead of overlapping
        jobs.sweep_deadlines(a, at)
        jobs.sweep_deadlines(b, at)
    # A restart (or the other scheduler's next tick) later in the same window changes nothing.
    jobs.sweep_deadlines(b, at + dt.timedelta(minutes=5))
    assert _count(a, TicketEvent, TicketEvent.ticket_id == ticket_id, TicketEvent.action == "reminded_respond") == 1
    assert _count(a, OutboxMessage, OutboxMessage.dedupe_key.like("reminded_respond:%")) == 1


def test_periodic_job_runs_once_per_period_across_schedulers_and_restarts(fresh):
    _, (a, b) = fresh
    with a.sessionmaker() as session:
        bound_school(a, session, FIXED_NOW)
    first = jobs.visit_reminders(a, FIXED_NOW)
    assert first.ran and not first.errors
    sent = _count(a, OutboxMessage, OutboxMessage.title == "家访提醒")
    assert sent >= 1
    again = jobs.visit_reminders(b, FIXED_NOW + dt.timedelta(minutes=1))
    assert not again.ran and again.skipped == ["t1:2026-W48"]
    assert _count(a, OutboxMessage, OutboxMessage.title == "家访提醒") == sent
    assert _count(a, JobRun, JobRun.job == "visit_reminders", JobRun.status == "done") == 1


def test_a_failing_school_is_recorded_and_retried_while_others_go_on(fresh, monkeypatch):
    _, (a, b) = fresh
    from models.directory import School
    from scheduler.runner import run_per_school

    with a.sessionmaker() as session:
        session.add_all([School(code="ok", name="好学校"), School(code="bad", name="坏学校")])
        session.commit()

    def work(session, settings, school, period, now):
        if school.code == "bad":
            raise RuntimeError("template missing")
        return "done"

    report = run_per_school(a, "daily_digest", "2026-11-23", work, FIXED_NOW)
    assert report.results == {"ok:2026-11-23": "done"}
    assert "RuntimeError: template missing" in report.errors["bad:2026-11-23"]
    with a.sessionmaker() as s:
        failed = s.scalar(select(JobRun).where(JobRun.period == "bad:2026-11-23"))
        assert failed.status == "failed" and "template missing" in failed.error
    # Next tick: only the failed school runs again, and now succeeds.
    retry = run_per_school(b, "daily_digest", "2026-11-23", lambda *args: "fixed", FIXED_NOW + H)
    assert retry.results == {"bad:2026-11-23": "fixed"} and retry.skipped == ["ok:2026-11-23"]


def test_two_schedulers_starting_together_on_a_fresh_database_both_start(db_engine, tmp_path_factory):
    """The job store's table is created once; the other scheduler finds it (it never crashes)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from config.settings import SchedulerSettings
    from scheduler.build import build_scheduler

    kind = "sqlite" if db_engine.dialect.name == "sqlite" else "postgresql"
    for _ in range(6 if kind == "sqlite" else 2):  # a race: try it on several fresh databases (SQLite loses ~1 in 3)
        gen = _make_db(kind, tmp_path_factory)
        url = next(gen).url.render_as_string(hide_password=False)
        barrier, errors, started = threading.Barrier(2), [], []

        def start(url=url, barrier=barrier, errors=errors, started=started) -> None:
            barrier.wait()
            try:
                scheduler = build_scheduler(url, SchedulerSettings(), BackgroundScheduler)
                scheduler.start(paused=True)
                started.append(sorted(job.id for job in scheduler.get_jobs()))
                scheduler.shutdown(wait=False)
            except Exception as exc:  # the test reports any crash
                errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=start) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        with contextlib.suppress(StopIteration):
            next(gen)
        assert errors == [] and len(started) == 2 and started[0] == started[1]


def test_a_lease_held_by_a_killed_scheduler_on_this_host_is_taken_over_at_once(fresh):
    """kill -9 leaves the lease; waiting lease_seconds would hold every reply back for minutes."""
    import socket
    import subprocess
    import sys

    from scheduler.runner import run_sweep

    _, (a, _b) = fresh
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    ttl = dt.timedelta(seconds=a.settings.scheduler.lease_seconds)
    with a.sessionmaker() as session:
        assert ledger.acquire_lease(session, "drain_outbox", f"{socket.gethostname()}:{gone.pid}", FIXED_NOW, ttl)
        assert ledger.acquire_lease(session, "sweep_deadlines", f"other-host:{gone.pid}", FIXED_NOW, ttl)
        session.commit()
    assert run_sweep(a, "drain_outbox", lambda s, st, n: 0, FIXED_NOW + dt.timedelta(seconds=5)).ran
    report = run_sweep(a, "sweep_deadlines", lambda s, st, n: 0, FIXED_NOW + dt.timedelta(seconds=5))
    assert not report.ran and report.skipped == ["sweep_deadlines"]  # another machine's holder may be alive
