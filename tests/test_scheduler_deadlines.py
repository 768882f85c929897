"""Deadlines: reminders before respond-by/resolve-by, escalation when overdue, all as ticket events."""

from __future__ import annotations

import datetime as dt

import pytest

from models import ticket_service
from models.deadline_sweep import sweep_deadlines
from tests.scheduler_helpers import bound_school, open_ticket

H = dt.timedelta(hours=1)


@pytest.fixture
def world(ext, db_session, now):
    return bound_school(ext, db_session, now)


def _sweep(ext, session, bot, at):
    counts = sweep_deadlines(session, ext.settings, at)
    session.commit()
    bot.deliver(at)
    return counts


def _actions(ticket) -> list[str]:
    return [e.action for e in ticket.events]


def test_normal_ticket_reminds_then_escalates_to_director_only(ext, db_session, world, now):
    ts, bot = world
    ticket = open_ticket(db_session, ts, bot, now)
    db_session.commit()
    assert ticket.respond_by == now + 24 * H
    bot.pop("王芳")
    # Nothing before the reminder lead (60 minutes before respond-by).
    _sweep(ext, db_session, bot, now + 22 * H)
    assert bot.pop("王芳") == []
    _sweep(ext, db_session, bot, now + 23 * H + dt.timedelta(minutes=5))
    lines = bot.pop("王芳")
    assert len(lines) == 1 and "时限提醒" in lines[0] and ticket.number in lines[0]
    # A second sweep in the same window says nothing more.
    _sweep(ext, db_session, bot, now + 23 * H + dt.timedelta(minutes=30))
    assert bot.pop("王芳") == []
    # Overdue: the director hears of it, the principal does not (not urgent).
    _sweep(ext, db_session, bot, now + 24 * H + dt.timedelta(minutes=1))
    director = bot.pop("钱主任")
    assert any("超时督办" in x and "未响应" in x and "王芳" in x for x in director)
    assert bot.pop("赵校长") == []
    assert any("已超时" in x for x in bot.pop("王芳"))
    assert _actions(ticket).count("reminded_respond") == 1
    assert _actions(ticket).count("escalated_respond") == 1
    _sweep(ext, db_session, bot, now + 30 * H)
    assert bot.pop("钱主任") == []


def test_responding_stops_respond_reminders(ext, db_session, world, now):
    ts, bot = world
    ticket = open_ticket(db_session, ts, bot, now)
    ticket_service.accept(db_session, ticket, ts.staff["王芳"], now + H)
    db_session.commit()
    bot.pop("王芳")
    _sweep(ext, db_session, bot, now + 25 * H)
    assert "reminded_respond" not in _actions(ticket) and "escalated_respond" not in _actions(ticket)


def test_urgent_overdue_escalates_to_principal_too(ext, db_session, world, now):
    ts, bot = world
    ticket = open_ticket(db_session, ts, bot, now, text="孩子在校门口被车撞了", category="safety", urgency="urgent")
    ticket_service.accept(db_session, ticket, ts.staff["王芳"], now + dt.timedelta(minutes=10))
    db_session.commit()
    for who in ("王芳", "钱主任", "赵校长"):
        bot.pop(who)
    # Resolve-by is 24 h and the lead 24 h: the reminder waits for half the time (12 h), escalation after.
    _sweep(ext, db_session, bot, now + 2 * H)
    assert bot.pop("王芳") == []
    _sweep(ext, db_session, bot, now + 12 * H)
    assert any("时限提醒" in x for x in bot.pop("王芳"))
    _sweep(ext, db_session, bot, now + 25 * H)
    assert any("逾期未办结" in x for x in bot.pop("钱主任"))
    assert any("逾期未办结" in x for x in bot.pop("赵校长"))
    assert ticket.escalated_at == now + 25 * H
    assert "escalated_resolve" in _actions(ticket)


def test_complaint_about_staff_never_escalated_to_them(ext, db_session, world, now):
    ts, bot = world
    ticket = open_ticket(db_session, ts, bot, now, text="钱主任态度很差", category="teacher_conduct",
                         about="钱主任", assignee="赵校长")
    db_session.commit()
    bot.pop("钱主任")
    _sweep(ext, db_session, bot, now + 25 * H)
    assert bot.pop("钱主任") == [], "the person complained about must not hear of the complaint"
    assert "escalated_respond" in _actions(ticket)


def test_extension_moves_the_next_reminder(ext, db_session, world, now):
    ts, bot = world
    ticket = open_ticket(db_session, ts, bot, now)
    ticket_service.accept(db_session, ticket, ts.staff["王芳"], now + H)
    db_session.commit()
    first = ticket.resolve_by
    _sweep(ext, db_session, bot, first - 2 * H)
    assert _actions(ticket).count("reminded_resolve") == 1
    ticket_service.request_extension(db_session, ticket, ts.staff["王芳"], 2, "需要维修", first - H)
    ticket_service.decide_extension(db_session, ticket, ts.staff["钱主任"], True, first - H, school_code="t1",
                                    tz="Asia/Shanghai")
    db_session.commit()
    assert ticket.resolve_by > first
    _sweep(ext, db_session, bot, first + H)
    assert "escalated_resolve" not in _actions(ticket), "an approved extension is not overdue"
    _sweep(ext, db_session, bot, ticket.resolve_by - 2 * H)
    assert _actions(ticket).count("reminded_resolve") == 2


def test_an_urgent_tickets_reminders_fire_at_their_own_times(ext, db_session, world, now):
    """Respond by 1 h and resolve by 24 h with leads of 60 min and 24 h: never both at assignment."""
    ts, bot = world
    ticket = open_ticket(db_session, ts, bot, now, text="孩子在学校被打了", category="safety", urgency="urgent")
    db_session.commit()
    bot.pop("王芳")
    assert _sweep(ext, db_session, bot, now + dt.timedelta(minutes=2))["reminded_respond"] == 0
    assert _sweep(ext, db_session, bot, now + dt.timedelta(minutes=2))["reminded_resolve"] == 0
    assert bot.pop("王芳") == [], "nothing within two minutes of assignment"
    # Half of each window at the latest: respond at 30 min, resolve at 12 h.
    counts = _sweep(ext, db_session, bot, now + dt.timedelta(minutes=31))
    assert (counts["reminded_respond"], counts["reminded_resolve"]) == (1, 0)
    assert any("响应" in line for line in bot.pop("王芳"))
    counts = _sweep(ext, db_session, bot, now + 12 * H + dt.timedelta(minutes=1))
    assert counts["reminded_resolve"] == 1
    assert _actions(ticket).count("reminded_resolve") == 1
