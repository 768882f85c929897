"""Quiet hours hold parents' messages overnight and release them in the morning; the job wiring."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.message import USER, Recipient
from models import outbox
from models.quiet_hours import hold_until, window_end
from scheduler.build import JOBSTORE_TABLE, build_scheduler, job_specs
from tests.scheduler_helpers import bound_school, identity_of

TZ = ZoneInfo("Asia/Shanghai")
PARENT_WINDOW = (dt.time(21, 30), dt.time(7, 30))
STAFF_WINDOW = (dt.time(22, 0), dt.time(7, 0))


def bj(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=TZ).astimezone(dt.UTC)


@pytest.mark.parametrize(("at", "end"), [
    (bj(23, 21, 29), None),
    (bj(23, 21, 30), bj(24, 7, 30)),
    (bj(23, 23, 59), bj(24, 7, 30)),
    (bj(24, 0, 0), bj(24, 7, 30)),
    (bj(24, 7, 29), bj(24, 7, 30)),
    (bj(24, 7, 30), None),
    (bj(24, 12, 0), None),
])
def test_parent_window_wraps_midnight(at, end):
    assert window_end(at, *PARENT_WINDOW, TZ) == end


def test_policy_exceptions():
    late = bj(23, 22, 15)
    kw = {"parent_window": PARENT_WINDOW, "staff_window": STAFF_WINDOW, "tz": TZ}
    assert hold_until("parent", False, late, **kw) == bj(24, 7, 30)
    assert hold_until("group", False, late, **kw) == bj(24, 7, 30)
    assert hold_until("parent", True, late, **kw) is None, "urgent-ticket messages go at once"
    assert hold_until("staff", False, late, **kw) == bj(24, 7, 0)
    assert hold_until("staff", False, bj(23, 21, 45), **kw) is None, "staff window starts later"
    assert hold_until("parent", False, late, last_inbound_at=late - dt.timedelta(minutes=2), **kw) is None
    assert hold_until("parent", False, late, last_inbound_at=late - dt.timedelta(hours=2), **kw) == bj(24, 7, 30)


def test_parent_message_held_overnight_and_released_in_the_morning(ext, db_session, now):
    ts, bot = bound_school(ext, db_session, now)
    identity = identity_of(db_session, bot, "张小明妈妈")
    to = Recipient("simulator", USER, identity.external_id, ts.school.id, identity_id=identity.id)
    night = bj(23, 22, 0)
    outbox.enqueue(db_session, to, "明天春游，请带水", now=night)
    outbox.enqueue(db_session, to, "【紧急】孩子受伤已送医", now=night, urgent=True)
    db_session.commit()
    bot.deliver(night)
    assert bot.pop("张小明妈妈") == ["【紧急】孩子受伤已送医"]
    bot.deliver(bj(24, 7, 0))
    assert bot.pop("张小明妈妈") == []
    bot.deliver(bj(24, 7, 30))
    assert bot.pop("张小明妈妈") == ["明天春游，请带水"]


def test_parent_writing_at_night_still_gets_an_answer(ext, db_session, now):
    ts, bot = bound_school(ext, db_session, now)
    lines = bot.say("张小明妈妈", "帮助", now=bj(23, 23, 0))
    bot.deliver(bj(23, 23, 0))
    assert lines or bot.pop("张小明妈妈"), "a parent talking to the bot at night is answered"


def test_scheduler_has_one_job_per_sweep_with_fixed_ids(ext):
    cfg = ext.settings.scheduler
    sched = build_scheduler("sqlite://", cfg)
    jobs = {j.id: j for j in sched.get_jobs()}
    assert set(jobs) == {s.id for s in job_specs(cfg)} == {
        "drain_outbox", "process_inbox", "sync_kf", "sync_school_contacts", "sweep_deadlines", "sweep_callbacks",
        "sweep_reviews", "sweep_questions",
        "send_scheduled_notices", "remind_notices", "visit_reminders", "daily_digest", "weekly_report",
        "reception_sweep", "purge_media"}
    digest = jobs["daily_digest"]
    assert str(digest.trigger) == "cron[day_of_week='*', hour='17', minute='30']"
    assert str(jobs["weekly_report"].trigger) == "cron[day_of_week='thu', hour='17', minute='0']"
    assert str(digest.trigger.timezone) == "Asia/Shanghai"
    assert digest.func_ref == "scheduler.jobs:daily_digest", "jobs are stored by reference"
    assert sched._jobstores["default"].jobs_t.name == JOBSTORE_TABLE


def test_restarting_the_scheduler_replaces_jobs_in_the_store(ext, tmp_path):
    from apscheduler.schedulers.background import BackgroundScheduler

    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    cfg = ext.settings.scheduler
    for _ in range(2):  # two starts of the process against the same job store
        sched = build_scheduler(url, cfg, cls=BackgroundScheduler)
        sched.start(paused=True)
        ids = sorted(j.id for j in sched.get_jobs())
        sched.shutdown(wait=False)
    assert ids == sorted(s.id for s in job_specs(cfg)), "same ids, never duplicated"


def test_group_ack_to_a_parent_who_just_wrote_is_not_held(ext, db_session, now):
    from bot.message import GROUP

    ts, bot = bound_school(ext, db_session, now)
    night = bj(23, 22, 40)
    acks = bot.say("张小明妈妈", "@连心 孩子说今天午饭的菜是馊的，吃了肚子不舒服", where="group", now=night)
    assert any("已收到" in line for line in acks), "the parent sees the group ack at once"
    # A group broadcast at night (nobody's reply) still waits for the morning.
    group = bot.person("张小明妈妈").group_id
    outbox.enqueue(db_session, Recipient("simulator", GROUP, group, ts.school.id), "明天降温，注意添衣", now=night)
    db_session.commit()
    bot.deliver(night)
    assert bot.pop("张小明妈妈", "group") == []
    bot.deliver(bj(24, 7, 30))
    assert bot.pop("张小明妈妈", "group") == ["明天降温，注意添衣"]


def test_run_job_offers_every_scheduled_job(ext):
    from scheduler.jobs import JOB_NAMES

    assert set(JOB_NAMES) == {s.id for s in job_specs(ext.settings.scheduler)}
