"""The job-run ledger and leases: how scheduled work happens exactly once.

Two mechanisms, both plain rows so they work the same on SQLite and PostgreSQL:

* ``JobRun`` — one row per (job, period), e.g. ``digest`` / ``t1:2026-12-01``.
  Claiming a period inserts the row in the same transaction as the work; a
  second scheduler's insert hits the unique constraint (PostgreSQL makes it
  wait for the first transaction, SQLite's single writer serialises it) and
  skips. A failed run is recorded as ``failed`` and reclaimed by the next tick.
* ``JobLease`` — one row per sweep name with a holder and an expiry. Only the
  holder runs the sweep; a crashed holder's lease expires, or is broken at
  once by a scheduler on the same machine that sees the holder's process is gone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base

RUNNING, DONE, FAILED = "running", "done", "failed"
MAX_ATTEMPTS = 5  # a period that failed this often waits for an operator


class JobRun(Base):
    """One run of a job for one period (a day, a week, a school's day …)."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(50))
    period: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default=RUNNING)
    attempts: Mapped[int] = mapped_column(default=1)
    holder: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)


class JobLease(Base):
    """Who may run a sweep right now, until when."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[dt.datetime]
    last_run_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


def claim_period(session: Session, job: str, period: str, holder: str, now: dt.datetime) -> JobRun | None:
    """Claim (job, period) inside the caller's transaction; None if done or taken.

    The claim becomes visible when the caller commits the work with it, so a
    crash before the commit leaves the period unclaimed for the next tick.
    """
    row = JobRun(job=job, period=period, status=RUNNING, holder=holder, started_at=now)
    try:
        with session.begin_nested():
            session.add(row)
        return row
    except IntegrityError:
        pass
    # Only a failed run may be taken over; the conditional update is the claim.
    taken = session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.period == period, JobRun.status == FAILED,
               JobRun.attempts < MAX_ATTEMPTS)
        .values(status=RUNNING, holder=holder, started_at=now, attempts=JobRun.attempts + 1, error=None)
    ).rowcount
    if not taken:
        return None
    return session.scalar(
        select(JobRun).where(JobRun.job == job, JobRun.period == period).execution_options(populate_existing=True)
    )


def finish_period(run: JobRun, now: dt.datetime, result: str | None = None) -> None:
    """Mark a claimed run done."""
    run.status, run.finished_at, run.result = DONE, now, result


def record_failure(session: Session, job: str, period: str, holder: str, now: dt.datetime, error: str) -> None:
    """Record a failed run (after the work was rolled back) so it is retried and visible."""
    row = session.scalar(select(JobRun).where(JobRun.job == job, JobRun.period == period))
    if row is None:
        row = JobRun(job=job, period=period, holder=holder, started_at=now, attempts=0)
        session.add(row)
    elif row.status == DONE:
        return
    row.status, row.error, row.finished_at = FAILED, error[:4000], now
    row.attempts = (row.attempts or 0) + 1


def period_done(session: Session, job: str, period: str) -> bool:
    """Return whether (job, period) has completed."""
    status = session.scalar(select(JobRun.status).where(JobRun.job == job, JobRun.period == period))
    return status == DONE


def acquire_lease(session: Session, name: str, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
    """Take or renew the lease on ``name``; the caller commits at once.

    Succeeds when nobody holds it, the holder is us, or the lease expired.
    """
    taken = session.execute(
        update(JobLease)
        .where(JobLease.name == name, (JobLease.holder == holder) | (JobLease.expires_at <= now))
        .values(holder=holder, expires_at=now + ttl)
    ).rowcount
    if taken:
        return True
    if session.get(JobLease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(JobLease(name=name, holder=holder, expires_at=now + ttl))
        return True
    except IntegrityError:
        return False


def lease_holder(session: Session, name: str, now: dt.datetime) -> str | None:
    """Return who holds an unexpired lease on ``name``, if anyone."""
    lease = session.get(JobLease, name)
    return lease.holder if lease is not None and lease.expires_at > now else None


def break_lease(session: Session, name: str, holder: str, now: dt.datetime) -> bool:
    """End ``holder``'s lease now (its process is known to be dead); the caller commits."""
    return bool(session.execute(update(JobLease).where(JobLease.name == name, JobLease.holder == holder)
                                .values(expires_at=now)).rowcount)


def release_lease(session: Session, name: str, holder: str, now: dt.datetime, error: str | None = None) -> None:
    """Give the lease back (it expires now) and note how the run went."""
    session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder)
        .values(expires_at=now, last_run_at=now, last_error=error[:4000] if error else None)
    )
