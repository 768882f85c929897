"""The scheduler's jobs: module-level functions APScheduler stores by reference.

Every job is a periodic sweep over the database, not one job per ticket or
student; each calls a core ``sweep_*``/``send_*`` service with an explicit
``now`` (tests call those directly) through :mod:`scheduler.runner`, which
makes the run happen exactly once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from scheduler import runtime
from scheduler.runner import RunReport, run_per_school, run_sweep

# Every job the scheduler runs, by name (``flask run-job NAME`` runs one now).
JOB_NAMES = ("drain_outbox", "process_inbox", "sync_kf", "sync_school_contacts", "sweep_deadlines", "sweep_callbacks",
             "sweep_reviews", "sweep_questions", "send_scheduled_notices", "remind_notices", "visit_reminders",
             "daily_digest", "weekly_report", "reception_sweep", "purge_media")

DRAIN_BATCHES = 20


def local_day(now: dt.datetime, tz: str) -> str:
    """Return the local date of ``now`` as ``YYYY-MM-DD`` (a daily period)."""
    return now.astimezone(ZoneInfo(tz)).date().isoformat()


def local_week(now: dt.datetime, tz: str) -> str:
    """Return the local ISO week of ``now`` as ``YYYY-Www`` (a weekly period)."""
    year, week, _ = now.astimezone(ZoneInfo(tz)).isocalendar()
    return f"{year}-W{week:02d}"


def _ext_now(ext: Any = None, now: dt.datetime | None = None) -> tuple[Any, dt.datetime]:
    ext = ext or runtime.current()
    return ext, now or ext.now()


def drain(session: Any, settings: Any, now: dt.datetime, sender: Any) -> int:
    """Recover rows a crashed sender left in ``sending``, then send every due row; return how many were sent."""
    sender.recover(session, now)
    total = 0
    for _ in range(DRAIN_BATCHES):
        ids = sender.due_ids(session, now)
        if not ids:
            break
        total += sender.send_ids(session, ids, now)
        session.commit()
    return total


def drain_outbox(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """Deliver due outbox rows (quiet hours are applied by the sender's hold policy)."""
    ext, now = _ext_now(ext, now)
    return run_sweep(ext, "drain_outbox", lambda s, st, n: drain(s, st, n, ext.sender), now)


INBOX_GRACE = dt.timedelta(seconds=30)


def handle_inbox(session: Any, settings: Any, now: dt.datetime, ext: Any) -> int:
    """Handle stored messages that no webhook worker handled; return how many.

    A webhook stores a message, answers the platform and handles it right
    after in its inbox thread; a message still ``new`` after ``INBOX_GRACE``
    was left by a crash, a restart or a full queue. Each is handled in its own
    transaction (the claim makes a race with a late inbox thread harmless),
    and the replies are sent by the next ``drain_outbox``.
    """
    from bot.sweeps import fetch_media
    from handlers.pipeline import process_next
    from models.inbound import forget_signatures

    forget_signatures(session, now)
    fetch_media(ext, session, now)  # media the inbox worker never downloaded (its retries come due here too)
    handled = 0
    while process_next(session=session, settings=settings, registry=ext.registry, now=now,
                       received_before=now - INBOX_GRACE) is not None:
        session.commit()
        handled += 1
    return handled


def process_inbox(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """Handle webhook messages that were stored but never handled."""
    ext, now = _ext_now(ext, now)
    return run_sweep(ext, "process_inbox", lambda s, st, n: handle_inbox(s, st, n, ext), now)


def sync_kf(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """Pull 微信客服 messages that a missed or failed callback left on the platform.

    The kf callback only says "there are messages"; the adapter pulls them with
    a persisted cursor right after answering. This sweep repeats the pull for
    every school with kf configured, so a failed pull is retried; messages are
    deduplicated on their kf msgid, so pulling twice stores nothing twice.
    """
    from bot.sweeps import pull_kf as pull

    ext, now = _ext_now(ext, now)
    codes = [code for code, creds in ext.settings.platforms.items() if creds.wecom_kf is not None]
    return run_sweep(ext, "sync_kf", lambda s, st, n: sum(pull(ext, code) for code in codes), now)


def sync_school_contacts(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """Read each school's 家校通讯录 again when a change event's read failed or never ran.

    The WeCom app callback stores a ``change_school_contact`` request and reads
    the directory after answering; this sweep repeats the read for every school
    whose request is still pending (the read is idempotent).
    """
    from bot.sweeps import contact_syncs_due, sync_contacts

    ext, now = _ext_now(ext, now)
    return run_sweep(ext, "sync_school_contacts",
                     lambda s, st, n: sum(sync_contacts(ext, code) for code in contact_syncs_due(ext, n)), now)


def sweep_deadlines(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """Remind assignees before respond-by/resolve-by; escalate overdue tickets."""
    from models.deadline_sweep import sweep_deadlines as sweep

    ext, now = _ext_now(ext, now)
    return run_sweep(ext, "sweep_deadlines", sweep, now)


def sweep_callbacks(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """Ask, remind and expire 回访 callbacks of resolved tickets."""
    from models.callback_sweep import sweep_callbacks as sweep

    ext, now = _ext_now(ext, now)
    return run_sweep(ext, "sweep_callbacks", sweep, now)


def sweep_reviews(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """Escalate 疑似紧急 tickets nobody confirmed or dismissed within tickets.review_minutes."""
    from models.review import sweep_reviews as sweep

    ext, now = _ext_now(ext, now)
    return run_sweep(ext, "sweep_reviews", sweep, now)


def sweep_questions(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """Settle "which child?" questions nobody answered within ``tickets.question_ttl_hours``."""
    from handlers.child_questions import expire_questions

    ext, now = _ext_now(ext, now)
    return run_sweep(ext, "sweep_questions", expire_questions, now)


def purge_media(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """Purge attachments of tickets closed more than ``media.retention_days`` ago (logs counts, never bodies)."""
    from models.media import purge_expired

    ext, now = _ext_now(ext, now)
    return run_sweep(ext, "purge_media", lambda s, st, n: purge_expired(s, st, n)["attachments"], now)


def send_scheduled_notices(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """Send the notices queued for a time that has come."""
    from models.notices import send_due_notices

    ext, now = _ext_now(ext, now)
    return run_sweep(ext, "send_scheduled_notices", send_due_notices, now)


def remind_notices(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """Tell head teachers which families have not acknowledged an important notice (once per notice)."""
    from models.notice_acks import remind_unacknowledged

    ext, now = _ext_now(ext, now)
    return run_sweep(ext, "remind_notices", remind_unacknowledged, now)


def visit_reminders(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """Weekly: each teacher gets the families still due a contact this month."""
    from models.visit_reminders import remind_visits

    ext, now = _ext_now(ext, now)
    period = local_week(now, ext.settings.scheduler.timezone)
    return run_per_school(ext, "visit_reminders", period,
                          lambda s, st, school, p, n: remind_visits(s, st, school.id, p, n), now)


def daily_digest(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """Send each school's directors and principals today's digest."""
    from models.digest_send import send_digest

    ext, now = _ext_now(ext, now)
    period = local_day(now, ext.settings.scheduler.timezone)
    return run_per_school(ext, "daily_digest", period, send_digest, now)


def weekly_report(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """Write each school's 周调度 workbook and tell its directors where it is."""
    from models.weekly import send_weekly_report

    ext, now = _ext_now(ext, now)
    period = local_week(now, ext.settings.scheduler.timezone)
    return run_per_school(ext, "weekly_report", period, send_weekly_report, now)


def reception_sweep(ext: Any = None, now: dt.datetime | None = None) -> RunReport:
    """校长接待日: parents' reminders the day before, the reception group's list that morning."""
    from models.reception_notify import reception_sweep as sweep

    ext, now = _ext_now(ext, now)
    return run_sweep(ext, "reception_sweep", sweep, now)
