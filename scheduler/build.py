"""Build the one BlockingScheduler with its database job store."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from config.settings import SchedulerSettings
from scheduler import jobs, runtime

log = logging.getLogger(__name__)

JOBSTORE_TABLE = "apscheduler_jobs"


@dataclasses.dataclass(frozen=True)
class JobSpec:
    """One job: its stable id, function and trigger."""

    id: str
    func: Callable[..., Any]
    trigger: Any


def job_specs(cfg: SchedulerSettings) -> list[JobSpec]:
    """Return every job with its trigger, in the scheduler's time zone."""
    tz = cfg.timezone
    every = IntervalTrigger(minutes=cfg.sweep_minutes, timezone=tz)

    def at(time: Any, day: str = "*") -> CronTrigger:
        return CronTrigger(day_of_week=day, hour=time.hour, minute=time.minute, timezone=tz)

    return [
        JobSpec("drain_outbox", jobs.drain_outbox, IntervalTrigger(seconds=cfg.drain_seconds, timezone=tz)),
        JobSpec("process_inbox", jobs.process_inbox, IntervalTrigger(seconds=cfg.drain_seconds, timezone=tz)),
        JobSpec("sync_kf", jobs.sync_kf, IntervalTrigger(minutes=1, timezone=tz)),
        JobSpec("sync_school_contacts", jobs.sync_school_contacts, every),
        JobSpec("sweep_deadlines", jobs.sweep_deadlines, every),
        JobSpec("sweep_callbacks", jobs.sweep_callbacks, every),
        # every minute: a 疑似紧急 ticket escalates within a minute of tickets.review_minutes
        JobSpec("sweep_reviews", jobs.sweep_reviews, IntervalTrigger(minutes=1, timezone=tz)),
        JobSpec("sweep_questions", jobs.sweep_questions, every),
        JobSpec("send_scheduled_notices", jobs.send_scheduled_notices, IntervalTrigger(minutes=1, timezone=tz)),
        JobSpec("remind_notices", jobs.remind_notices, every),
        JobSpec("reception_sweep", jobs.reception_sweep, every),
        JobSpec("visit_reminders", jobs.visit_reminders, at(cfg.visit_reminder_time, cfg.visit_reminder_day)),
        JobSpec("daily_digest", jobs.daily_digest, at(cfg.digest_time)),
        JobSpec("weekly_report", jobs.weekly_report, at(cfg.weekly_time, cfg.weekly_day)),
        JobSpec("purge_media", jobs.purge_media, CronTrigger(hour=3, minute=10, timezone=tz)),  # a quiet hour
    ]


def add_jobs(scheduler: BaseScheduler, cfg: SchedulerSettings) -> None:
    """Add (or replace) every job by its fixed id, so restarts never duplicate them."""
    for spec in job_specs(cfg):
        scheduler.add_job(
            spec.func, spec.trigger, id=spec.id, name=spec.id, replace_existing=True,
            coalesce=True, max_instances=1, misfire_grace_time=cfg.misfire_grace_seconds,
        )


def ensure_table(store: SQLAlchemyJobStore) -> None:
    """Create the job store's table, tolerating another scheduler creating it at the same moment.

    APScheduler checks and then creates; two schedulers started together on a
    fresh database both see no table and one of them fails (SQLite: "already
    exists", PostgreSQL: a unique violation in the catalog). The loser's error
    comes after the winner committed, so finding the table then means all is well.
    """
    try:
        store.jobs_t.create(store.engine, checkfirst=True)
    except SQLAlchemyError:
        if not inspect(store.engine).has_table(store.jobs_t.name, schema=store.jobs_t.schema):
            raise


def build_scheduler(database_url: str, cfg: SchedulerSettings, cls: type[BaseScheduler] = BlockingScheduler
                    ) -> BaseScheduler:
    """Return the scheduler with the job store in the app's database and every job added."""
    store = SQLAlchemyJobStore(url=database_url, tablename=JOBSTORE_TABLE)
    ensure_table(store)
    scheduler = cls(jobstores={"default": store}, timezone=cfg.timezone,
                    job_defaults={"coalesce": True, "max_instances": 1})
    add_jobs(scheduler, cfg)
    return scheduler


def run_scheduler(ext: Any) -> None:
    """Bind the app and run the one blocking scheduler until interrupted."""
    runtime.bind(ext)
    url = ext.engine.url.render_as_string(hide_password=False)
    scheduler = build_scheduler(url, ext.settings.scheduler)
    log.info("scheduler starting with jobs: %s", ", ".join(j.id for j in scheduler.get_jobs()))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
