"""Home visits: recording by chat, who is still due (special care first), reminders, the weekly report."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from models.visits import due_students, record_visit
from scheduler import jobs
from tests.scheduler_helpers import bound_school

TZ = ZoneInfo("Asia/Shanghai")
D = dt.timedelta(days=1)


@pytest.fixture
def world(ext, db_session, now):
    return bound_school(ext, db_session, now)


def _due(session, staff, now):
    return [d.name for d in due_students(session, now=now, tz=TZ, care_days=14, staff_id=staff.id)]


def test_due_list_is_exactly_the_uncontacted_special_care_first(db_session, world, now):
    ts, _ = world
    wang = ts.staff["王芳"]
    assert _due(db_session, wang, now) == ["王小虎", "张小明"], "★ 家庭困难 first"
    record_visit(db_session, wang, ts.students["张小明"], "phone", "", now=now)
    assert _due(db_session, wang, now) == ["王小虎"]
    record_visit(db_session, wang, ts.students["王小虎"], "home", "", now=now - 20 * D)  # Nov 3
    assert _due(db_session, wang, now) == ["王小虎"], "special care: a contact 20 days ago is too old"
    record_visit(db_session, wang, ts.students["王小虎"], "home", "", now=now - 10 * D)
    assert _due(db_session, wang, now) == []
    # A new calendar month: everybody is due again.
    assert _due(db_session, wang, dt.datetime(2026, 12, 1, 9, tzinfo=TZ)) == ["王小虎", "张小明"]


def test_teacher_records_a_visit_by_chat(db_session, world):
    ts, bot = world
    lines = bot.say("王芳", "家访 张小明 入户 孩子作息规律，家长很配合")
    assert any("已登记" in x and "张小明" in x and "入户" in x for x in lines)
    assert any("还有 1 名" in x for x in lines)
    assert "王小虎" in "\n".join(bot.say("王芳", "家访名单"))
    refused = bot.say("孙丽", "家访 张小明 电话 问问情况")
    assert any("不是您包靠" in x for x in refused)
    assert any("没有名为" in x for x in bot.say("王芳", "家访 不存在 电话 你好"))
    assert any("家访 学生姓名" in x for x in bot.say("王芳", "家访"))


def test_parents_cannot_record_visits(world):
    ts, bot = world
    assert any("没有使用" in x for x in bot.say("张小明妈妈", "家访 张小明 电话 你好"))


def test_leader_sees_coverage_by_class(world):
    ts, bot = world
    bot.say("王芳", "家访 张小明 电话 好")
    text = "\n".join(bot.say("钱主任", "家访名单"))
    assert "一年级一班 1/3" in text and "一年级二班 0/2" in text


def test_weekly_reminder_lists_due_students_once(ext, db_session, world, now):
    ts, bot = world
    record_visit(db_session, ts.staff["王芳"], ts.students["张小明"], "phone", "", now=now)
    db_session.commit()
    jobs.visit_reminders(ext, now)
    jobs.visit_reminders(ext, now + dt.timedelta(hours=1))
    bot.deliver(now)
    lines = bot.pop("王芳")
    assert len(lines) == 1 and "★ 一年级一班 王小虎" in lines[0] and "张小明" not in lines[0]
    li = bot.pop("李强")
    assert len(li) == 1 and "陈大宝" in li[0]


def test_weekly_report_workbook_and_announcement(ext, db_session, world, now):
    ts, bot = world
    bot.say("王芳", "家访 张小明 入户 孩子作息规律")
    thursday = now + 3 * D + dt.timedelta(hours=7)  # Thu 17:00 Beijing
    report = jobs.weekly_report(ext, thursday)
    path = report.results["t1:2026-W48"]
    assert path.endswith("周调度-2026-11-26.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["周调度", "本周工单", "入户访问登记表"]
    assert [c.value for c in wb["周调度"][1]] == ["指标", "本周", "上周", "变化"]
    log = list(wb["入户访问登记表"].values)
    assert log[1][2] == "张小明" and log[1][4] == "入户"
    bot.deliver(thursday)
    assert any("周调度" in x and "周调度-2026-11-26.xlsx" in x for x in bot.pop("钱主任"))


def test_problem_in_a_visit_record_becomes_a_ticket(db_session, world):
    from sqlalchemy import select

    from models.tickets import Ticket
    from models.visits import Visit

    ts, bot = world
    lines = bot.say("王芳", "家访 张小明 入户 孩子作息规律，家长反映校车太挤，孩子经常站着")
    assert any("已转为工单" in x for x in lines)
    visit = db_session.scalar(select(Visit).order_by(Visit.id.desc()))
    ticket = db_session.get(Ticket, visit.ticket_id)
    assert ticket.student_id == ts.students["张小明"].id and ticket.category == "transport"
    assert "from_visit" in [e.action for e in ticket.events]
    quiet = bot.say("王芳", "家访 王小虎 电话 孩子作息规律，学习认真")
    assert not any("工单" in x for x in quiet)


def test_a_possible_danger_told_at_a_home_visit_goes_to_the_safety_review(db_session, world):
    """What a family tells in person gets the same 疑似紧急 review as what they write (issue 11)."""
    from sqlalchemy import select

    from models.outbox import OutboxMessage
    from models.tickets import Ticket

    ts, bot = world
    lines = bot.say("王芳", "家访 张小明 入户 家长反映孩子最近说不想活了这种话，家长很担心")
    assert any("已转为工单" in x for x in lines)
    ticket = db_session.scalar(select(Ticket).order_by(Ticket.id.desc()))
    assert ticket.needs_review and ticket.urgency != "urgent", (ticket.urgency, ticket.needs_review)
    asked = db_session.scalars(select(OutboxMessage.address).where(
        OutboxMessage.text.contains(f"确认紧急 {ticket.number}"))).all()
    assert asked, "a reviewer is asked 确认紧急 / 非紧急"
