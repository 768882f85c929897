"""回访: ask after the delay, remind once, close as not reached after the window."""

from __future__ import annotations

import datetime as dt

import pytest

from models import ticket_service
from models.callback_sweep import sweep_callbacks
from tests.scheduler_helpers import bound_school, open_ticket

H = dt.timedelta(hours=1)


@pytest.fixture
def resolved(ext, db_session, now):
    ts, bot = bound_school(ext, db_session, now)
    ticket = open_ticket(db_session, ts, bot, now)
    ticket_service.resolve(db_session, ticket, ts.staff["王芳"], "已要求食堂加装保温设备", now + H)
    db_session.commit()
    bot.deliver(now + H)
    bot.pop("张小明妈妈")
    return ts, bot, ticket


def _sweep(ext, session, bot, at):
    counts = sweep_callbacks(session, ext.settings, at)
    session.commit()
    bot.deliver(at)
    return counts


def test_parent_is_asked_after_the_delay_and_answer_closes(ext, db_session, resolved, now):
    ts, bot, ticket = resolved
    assert _sweep(ext, db_session, bot, now + H + dt.timedelta(minutes=30))["asked"] == 0
    assert _sweep(ext, db_session, bot, now + 2 * H)["asked"] == 1
    lines = bot.pop("张小明妈妈")
    assert len(lines) == 1 and "回访" in lines[0] and "满意" in lines[0]
    assert _sweep(ext, db_session, bot, now + 3 * H)["asked"] == 0, "asked only once"
    bot.say("张小明妈妈", "1", now=now + 4 * H)
    db_session.commit()
    assert ticket.state == "closed" and ticket.satisfaction == "satisfied"
    counts = _sweep(ext, db_session, bot, now + 50 * H)
    assert counts == {"asked": 0, "reminded": 0, "expired": 0}


def test_unanswered_callback_is_reminded_once_then_closed_not_reached(ext, db_session, resolved, now):
    ts, bot, ticket = resolved
    asked_at = now + 2 * H
    _sweep(ext, db_session, bot, asked_at)
    bot.pop("张小明妈妈")
    assert _sweep(ext, db_session, bot, asked_at + 23 * H)["reminded"] == 0
    assert _sweep(ext, db_session, bot, asked_at + 24 * H)["reminded"] == 1
    lines = bot.pop("张小明妈妈")
    assert len(lines) == 1 and "回访提醒" in lines[0]
    assert _sweep(ext, db_session, bot, asked_at + 48 * H)["reminded"] == 0, "reminded once only"
    assert _sweep(ext, db_session, bot, asked_at + 71 * H)["expired"] == 0
    assert _sweep(ext, db_session, bot, asked_at + 72 * H)["expired"] == 1
    assert ticket.state == "closed" and ticket.close_reason == "not_reached" and ticket.satisfaction is None
    assert bot.pop("张小明妈妈") == [], "closing as not reached sends the parent nothing"
    actions = [e.action for e in ticket.events]
    assert actions.count("callback_asked") == 1 and actions.count("callback_reminded") == 1


def test_answer_after_reminder_still_counts(ext, db_session, resolved, now):
    ts, bot, ticket = resolved
    _sweep(ext, db_session, bot, now + 2 * H)
    _sweep(ext, db_session, bot, now + 26 * H)
    bot.pop("张小明妈妈")
    bot.say("张小明妈妈", "不满意", now=now + 27 * H)
    db_session.commit()
    assert ticket.satisfaction == "unsatisfied" and ticket.state == "reopened"
