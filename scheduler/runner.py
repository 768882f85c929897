"""Run a job exactly once: leases for sweeps, (job, period) claims for periodic work.

The runner owns the unit of work (the services only flush). A sweep runs
under a lease so two scheduler processes never sweep at once; each school's
periodic work (digest, weekly report, visit reminders) claims its own period
in its own transaction, so one school's failure is logged and recorded while
the others go on, and the failed period is retried at the next tick.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.logs import scrub
from models import jobs
from models.directory import School

log = logging.getLogger(__name__)

HOLDER = f"{socket.gethostname()}:{os.getpid()}"

Sweep = Callable[[Session, Any, dt.datetime], Any]
SchoolWork = Callable[[Session, Any, School, str, dt.datetime], Any]


@dataclasses.dataclass
class RunReport:
    """What one tick of a job did."""

    job: str
    ran: bool = False
    results: dict[str, Any] = dataclasses.field(default_factory=dict)
    skipped: list[str] = dataclasses.field(default_factory=list)
    errors: dict[str, str] = dataclasses.field(default_factory=dict)


def holder_is_dead(holder: str) -> bool:
    """Tell whether a lease holder (``host:pid``) was a process on this machine that no longer runs.

    A holder on another machine is never declared dead: only its lease's expiry frees it.
    """
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _break_if_dead(session: Session, name: str, holder: str, now: dt.datetime) -> None:
    """Free a sweep's lease at once when its holder was killed on this machine (kill -9, OOM)."""
    current = jobs.lease_holder(session, name, now)
    if current is not None and current != holder and holder_is_dead(current):
        if jobs.break_lease(session, name, current, now):
            log.warning("job %s: lease of %s, no longer running, taken over", name, current)
        session.commit()


def run_sweep(ext: Any, name: str, sweep: Sweep, now: dt.datetime, holder: str = HOLDER) -> RunReport:
    """Run ``sweep(session, settings, now)`` under the lease ``name``; skip if someone holds it."""
    report = RunReport(name)
    ttl = dt.timedelta(seconds=ext.settings.scheduler.lease_seconds)
    with ext.sessionmaker() as session:
        _break_if_dead(session, name, holder, now)
        if not jobs.acquire_lease(session, name, holder, now, ttl):
            session.rollback()
            report.skipped.append(name)
            return report
        session.commit()
        error = None
        try:
            report.results[name] = sweep(session, ext.settings, now)
            session.commit()
            report.ran = True
        except Exception as exc:  # logged with its cause; the next tick retries
            session.rollback()
            error = scrub(f"{type(exc).__name__}: {exc}")  # stored and shown: never a secret
            report.errors[name] = error
            log.exception("job %s failed", name)
        jobs.release_lease(session, name, holder, now, error)
        session.commit()
    return report


def run_per_school(ext: Any, job: str, period: str, work: SchoolWork, now: dt.datetime,
                   holder: str = HOLDER, school_codes: list[str] | None = None) -> RunReport:
    """Run ``work`` once per school for ``period`` (e.g. ``2026-12-01``), each school on its own.

    The period recorded is ``<school code>:<period>``; a school whose period
    is done is skipped, one that fails is rolled back, recorded as failed
    with its cause, and retried at the next tick.
    """
    report = RunReport(job)
    with ext.sessionmaker() as session:
        query = select(School.id, School.code).order_by(School.id)
        if school_codes:
            query = query.where(School.code.in_(school_codes))
        schools = session.execute(query).all()
    for school_id, code in schools:
        key = f"{code}:{period}"
        with ext.sessionmaker() as session:
            try:
                run = jobs.claim_period(session, job, key, holder, now)
                if run is None:
                    session.rollback()
                    report.skipped.append(key)
                    continue
                school = session.get(School, school_id)
                result = work(session, ext.settings, school, period, now)
                jobs.finish_period(run, now, None if result is None else str(result)[:2000])
                session.commit()
                report.results[key] = result
                report.ran = True
            except Exception as exc:  # one school's failure never stops the others
                session.rollback()
                error = scrub(f"{type(exc).__name__}: {exc}")
                report.errors[key] = error
                log.exception("job %s failed for %s", job, key)
                try:
                    jobs.record_failure(session, job, key, holder, now, error)
                    session.commit()
                except Exception:  # the database itself is failing; the log has the cause
                    session.rollback()
                    log.exception("could not record the failure of %s for %s", job, key)
    return report
