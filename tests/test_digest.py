"""The daily digest: figures match the tickets of the day; staff complaints only for the principal."""

from __future__ import annotations

import datetime as dt

import pytest

from models import ticket_notify, ticket_service
from models.digest import build_digest
from models.digest_render import render_markdown, render_text
from models.visits import record_visit
from scheduler import jobs
from tests.scheduler_helpers import bound_school, open_ticket

H = dt.timedelta(hours=1)


@pytest.fixture
def day(ext, db_session, now):
    ts, bot = bound_school(ext, db_session, now)
    w = ts.staff["王芳"]
    t1 = open_ticket(db_session, ts, bot, now, text="食堂饭菜是凉的")
    t2 = open_ticket(db_session, ts, bot, now, text="校门口有人打架", category="safety", urgency="urgent")
    t3 = open_ticket(db_session, ts, bot, now, text="作业太多", category="homework", parent="陈大宝妈妈",
                     student="陈大宝")
    t4 = open_ticket(db_session, ts, bot, now, text="李强老师体罚孩子", category="teacher_conduct",
                     about="李强", assignee="赵校长", parent="陈大宝妈妈", student="陈大宝")
    for t, answer in ((t1, "satisfied"), (t3, "unsatisfied")):
        ticket_service.accept(db_session, t, w, now + H)
        ticket_service.resolve(db_session, t, w, "已处理", now + 2 * H)
        ticket_notify.ask_callback(db_session, t, now + 3 * H, ttl=dt.timedelta(days=3))
        ticket_service.record_callback_answer(db_session, t, answer, t.identity_id, now + 4 * H)
    record_visit(db_session, w, ts.students["张小明"], "phone", "孩子作息规律", now=now)
    db_session.commit()
    return ts, bot, (t1, t2, t3, t4)


def test_digest_figures_match_the_days_tickets(ext, db_session, day, now):
    ts, bot, (t1, t2, t3, t4) = day
    d = build_digest(db_session, ext.settings, ts.school, dt.date(2026, 11, 23))
    assert d.new_total == 4
    assert d.new_by_urgency == {"normal": 3, "urgent": 1}
    assert dict(d.new_by_category)["食堂餐饮"] == 1
    assert [x.number for x in d.open_urgent] == [t2.number]
    assert d.resolved_today == 2
    assert (d.today.satisfied, d.today.basic, d.today.unsatisfied) == (1, 0, 1)
    assert d.today.satisfaction_rate == 0.5
    assert d.lowest[0].number == t3.number and d.lowest[0].answer == "不满意"
    assert [x.number for x in d.staff_complaints] == [t4.number]
    # Two answered in time; the urgent one (respond-by 11:00) was not; t4's 24 h are not up yet.
    assert (d.month.responded_in_time, d.month.respond_due) == (2, 3)
    wang = dict(d.by_assignee)["王芳"]
    assert wang.satisfied == 1 and wang.unsatisfied == 1
    coverage = {c.class_name: (c.contacted, c.students) for c in d.coverage}
    assert coverage["一年级一班"] == (1, 3)
    # Next day: the urgent ticket (24 h) is overdue.
    d2 = build_digest(db_session, ext.settings, ts.school, dt.date(2026, 11, 24))
    assert d2.new_total == 0 and t2.number in [x.number for x in d2.overdue]


def test_staff_complaints_only_in_the_principals_digest(ext, db_session, day):
    ts, bot, (t1, t2, t3, t4) = day
    d = build_digest(db_session, ext.settings, ts.school, dt.date(2026, 11, 23))
    principal, director = render_text(d, principal=True), render_text(d, principal=False)
    assert "仅校长可见" in principal and t4.number in principal
    assert t4.number not in director and "体罚" not in director
    assert "满意率 50%" in principal
    assert "**需要您处理**" in render_markdown(d)


def test_digest_job_sends_each_leader_once_at_1730(ext, db_session, day, now):
    ts, bot, _ = day
    at = now.replace(hour=9, minute=30)  # 17:30 Beijing
    report = jobs.daily_digest(ext, at)
    assert report.results == {"t1:2026-11-23": 2}
    assert jobs.daily_digest(ext, at + H).skipped == ["t1:2026-11-23"]
    bot.deliver(at)
    principal, director = bot.pop("赵校长"), bot.pop("钱主任")
    assert len(principal) == 1 and "每日简报" in principal[0] and "仅校长可见" in principal[0]
    assert len(director) == 1 and "仅校长可见" not in director[0]


def test_digest_cli_prints_the_same_digest(runner, db_session, day):
    result = runner.invoke(args=["digest", "--school", "t1", "--date", "2026-11-23"])
    assert result.exit_code == 0, result.output
    assert "测试小学 每日简报 11月23日" in result.output and "满意率" in result.output
    missing = runner.invoke(args=["digest", "--school", "nope", "--date", "2026-11-23"])
    assert missing.exit_code != 0 and "没有学校代码" in missing.output
