"""The main loop end to end through the simulator: message → ticket → handled → 销号 → 回访."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from models.tickets import Ticket, TicketEvent
from tests.kit import SimBot

FOOD = "食堂的饭菜太差了，孩子吃不饱，请学校整改"


@pytest.fixture
def settings_overrides(settings_overrides):
    # Ask the 回访 right at 办结 (the scheduler asks later when a delay is configured).
    return {**settings_overrides, "scheduler": {"callback_delay_minutes": 0}}


@pytest.fixture
def bot(ext, db_session, school):
    sim = SimBot(ext, db_session)
    for who in ("张小明妈妈", "张小明爸爸", "陈大宝妈妈", "王芳", "孙丽", "李强", "周敏", "吴刚", "钱主任", "赵校长"):
        sim.bind(who)
    return sim


def _ticket(db_session, number: str | None = None) -> Ticket:
    db_session.expire_all()
    query = select(Ticket).order_by(Ticket.id.desc())
    if number:
        query = select(Ticket).where(Ticket.number == number)
    return db_session.scalars(query).first()


def test_group_complaint_full_loop(bot, db_session):
    group = bot.say("张小明妈妈", f"@连心 {FOOD}", where="group")
    assert group == ["@张小明妈妈 已收到，编号 2026-0001，处理进度会私信告知您"]
    assert not any("饭菜" in line for line in group), "the group never sees what was said"
    private = "\n".join(bot.pop("张小明妈妈"))
    assert "2026-0001" in private and "食堂餐饮" in private

    ticket = _ticket(db_session)
    assert (ticket.kind, ticket.category, ticket.state) == ("complaint", "food", "assigned")
    assert ticket.assignee.name == "周敏", "food goes to the 总务 duty"
    assert ticket.student.name == "张小明" and ticket.school_class.name == "一年级一班"
    task = "\n".join(bot.pop("周敏"))
    assert "2026-0001" in task and FOOD in task and "接单 2026-0001" in task

    assert any("已接单" in r for r in bot.say("周敏", "接单 2026-0001"))
    assert any("受理" in r for r in bot.pop("张小明妈妈"))
    bot.say("周敏", "回复 2026-0001 已和食堂沟通，明天起增加分量")
    relayed = "\n".join(bot.pop("张小明妈妈"))
    assert "已和食堂沟通，明天起增加分量" in relayed and "周老师" in relayed
    assert "13500000006" not in relayed, "a teacher's phone is never shown"

    assert any("已办结" in r for r in bot.say("周敏", "办结 2026-0001 已调整配餐标准并加强检查"))
    callback = "\n".join(bot.pop("张小明妈妈"))
    assert "回访" in callback and "满意" in callback and "已调整配餐标准" in callback
    assert any("已销号" in r for r in bot.say("张小明妈妈", "满意"))

    ticket = _ticket(db_session)
    assert (ticket.state, ticket.close_reason, ticket.satisfaction) == ("closed", "satisfied", "satisfied")
    actions = [e.action for e in ticket.events]
    assert actions == ["created", "assigned", "accepted", "replied", "resolved", "callback_asked",
                       "callback_answered", "closed"]
    assert any("已销号" in r for r in bot.pop("周敏"))
    # A closed ticket cannot be closed again.
    assert any("已销号" in r for r in bot.say("周敏", "办结 2026-0001 再办一次"))


def test_unsatisfied_reopens_and_escalates(bot, db_session):
    bot.say("张小明妈妈", FOOD)
    bot.say("周敏", "办结 1 已处理")
    bot.pop("钱主任")
    replies = bot.say("张小明妈妈", "3")
    assert any("重办" in r for r in replies)
    ticket = _ticket(db_session)
    assert (ticket.state, ticket.reopen_count, ticket.satisfaction) == ("reopened", 1, "unsatisfied")
    assert any("重办督办" in r and "2026-0001" in r for r in bot.pop("钱主任"))
    assert any("重办" in r for r in bot.pop("周敏"))
    bot.say("周敏", "接单 2026-0001")
    assert _ticket(db_session).state == "in_progress"
    bot.say("周敏", "办结 2026-0001 已更换供餐公司")
    bot.say("张小明妈妈", "基本满意")
    ticket = _ticket(db_session)
    assert (ticket.state, ticket.close_reason) == ("closed", "basic")


def test_complaint_naming_head_teacher_goes_to_principal(bot, db_session):
    bot.say("张小明妈妈", "班主任王芳上课辱骂学生，孩子不敢去上学了")
    ticket = _ticket(db_session)
    assert ticket.category == "teacher_conduct"
    assert ticket.about_staff.name == "王芳"
    assert ticket.assignee.name == "赵校长"
    assert not any("2026-0001" in r for r in bot.pop("王芳")), "never shown to the teacher named"
    assert not any("2026-0001" in r for r in bot.say("王芳", "工单"))
    assert any("无权查看" in r for r in bot.say("王芳", "查看 2026-0001"))
    assert any("无权查看" in r for r in bot.say("王芳", "办结 2026-0001 没事了"))
    assert any("辱骂" in r for r in bot.say("赵校长", "查看 2026-0001"))
    assert any("涉及被反映人" in r for r in bot.say("赵校长", "指派 2026-0001 王芳"))


def test_surname_complaint_resolves_to_class_teacher(bot, db_session):
    bot.say("张小明妈妈", "李老师上课玩手机，还辱骂孩子")
    ticket = _ticket(db_session)
    assert ticket.about_staff.name == "李强"
    assert ticket.assignee.role in ("principal", "director")


def test_duplicate_within_a_day_is_appended(bot, db_session, now):
    bot.say("张小明妈妈", FOOD)
    replies = bot.say("张小明妈妈", "食堂饭菜真的太差了，今天又没吃饱", now=now + dt.timedelta(hours=3))
    assert any("补充" in r and "2026-0001" in r for r in replies)
    assert db_session.scalars(select(Ticket)).all().__len__() == 1
    assert any("家长补充" in r for r in bot.pop("周敏"))
    bot.say("张小明妈妈", FOOD, now=now + dt.timedelta(hours=30))
    assert _ticket(db_session).number == "2026-0002", "after 24 hours it is a new ticket"


def test_urgent_ticket_alerts_leaders_at_once(bot, db_session):
    replies = bot.say("张小明妈妈", "孩子今天被同学打了")
    assert any("按紧急事项处理" in r and "120" in r for r in replies), "the parent learns it is treated as urgent"
    ticket = _ticket(db_session)
    assert (ticket.urgency, ticket.category, ticket.assignee.name) == ("urgent", "safety", "李强")
    assert ticket.resolve_by - ticket.created_at == dt.timedelta(hours=24)
    assert ticket.respond_by - ticket.created_at == dt.timedelta(hours=1)
    assert any("紧急工单" in r for r in bot.pop("钱主任"))
    assert any("紧急工单" in r for r in bot.pop("赵校长"))
    assert "120" not in "".join(bot.say("张小明妈妈", "食堂的菜太咸了")), "only urgent tickets carry the advice"


def test_two_children_are_asked_which_one(bot, db_session):
    replies = bot.say("陈大宝妈妈", "孩子的作业太多了，每天写到十一点")
    assert any("1 陈大宝" in r and "2 陈二宝" in r for r in replies)
    assert db_session.scalars(select(Ticket)).first() is None
    replies = bot.say("陈大宝妈妈", "2")
    assert any("2026-0001" in r for r in replies)
    ticket = _ticket(db_session)
    assert ticket.student.name == "陈二宝" and ticket.school_class.name == "一年级二班"
    assert ticket.assignee.name == "孙丽"


def test_group_message_of_two_children_parent_uses_the_groups_class(bot, db_session):
    group = bot.say("陈大宝妈妈", "@连心 孩子的作业太多了，每天写到十一点", where="group")
    assert group and "2026-0001" in group[0]
    assert _ticket(db_session).student.name == "陈大宝"


def test_events_are_append_only_history(bot, db_session):
    bot.say("张小明妈妈", FOOD)
    ticket = _ticket(db_session)
    events = db_session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).all()
    assert [e.action for e in events] == ["created", "assigned"]
    assert events[0].actor_identity_id == ticket.identity_id


def test_complaint_about_the_principal_goes_to_the_director(bot, db_session):
    bot.say("张小明妈妈", "赵校长收了家长的红包，请教育局查一查")
    ticket = _ticket(db_session)
    assert ticket.about_staff.name == "赵校长" and ticket.assignee.name == "钱主任"
    assert any("无权查看" in r for r in bot.say("赵校长", f"查看 {ticket.number}"))
    assert not any(ticket.number in r for r in bot.say("赵校长", "全部工单"))
