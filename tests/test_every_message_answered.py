"""Every message from a bound person gets an answer (issue 16, item 4)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from handlers.satisfaction import parse_satisfaction
from models import notices
from models.tickets import Ticket
from tests.kit import SimBot

FOOD = "食堂的饭菜太差了，孩子吃不饱，请学校整改"


@pytest.fixture
def settings_overrides(settings_overrides):
    return {**settings_overrides, "scheduler": {"callback_delay_minutes": 0}}


@pytest.fixture
def bot(ext, db_session, school):
    sim = SimBot(ext, db_session)
    for who in ("张小明妈妈", "王芳", "周敏", "钱主任", "赵校长"):
        sim.bind(who)
    return sim


def _resolved(bot) -> None:
    bot.say("张小明妈妈", FOOD)
    bot.say("周敏", "办结 2026-0001 已调整配餐标准")
    assert any("回访" in line for line in bot.pop("张小明妈妈"))


def _ticket(db_session) -> Ticket:
    db_session.expire_all()
    return db_session.scalars(select(Ticket)).one()


def test_confirm_with_nothing_pending_is_answered(bot):
    replies = bot.say("钱主任", "确认发送")
    assert replies and "没有待确认的通知" in replies[0]


@pytest.mark.parametrize(("text", "hint"), [
    ("查看工单", "查看 编号"),
    ("今天天气不错", "帮助"),
])
def test_staff_text_that_is_no_command_is_answered(bot, text, hint):
    replies = bot.say("王芳", text)
    assert replies and hint in "\n".join(replies)


@pytest.mark.parametrize(("answer", "code"), [
    ("还行吧，谢谢老师", "basic"),
    ("挺满意的，谢谢", "satisfied"),
    ("一般般吧", "basic"),
])
def test_callback_answered_in_words(bot, db_session, answer, code):
    _resolved(bot)
    replies = "\n".join(bot.say("张小明妈妈", answer))
    assert "已销号" in replies
    ticket = _ticket(db_session)
    assert (ticket.state, ticket.satisfaction) == ("closed", code)


def test_callback_unsatisfied_in_words_keeps_what_the_parent_said(bot, db_session):
    _resolved(bot)
    replies = "\n".join(bot.say("张小明妈妈", "不太满意，饭菜还是一样凉，也没人跟我说过"))
    assert "重办" in replies
    ticket = _ticket(db_session)
    assert (ticket.state, ticket.satisfaction) == ("reopened", "unsatisfied")
    answered = [e for e in ticket.events if e.action == "callback_answered"]
    assert answered[0].text == "不满意" and "饭菜还是一样凉" in answered[0].data["words"]


def test_an_unclear_callback_answer_is_asked_again(bot, db_session):
    _resolved(bot)
    replies = "\n".join(bot.say("张小明妈妈", "好的"))
    assert "1 满意" in replies and "3 不满意" in replies
    assert _ticket(db_session).state == "resolved", "nothing is recorded on a guess"
    assert "已销号" in "\n".join(bot.say("张小明妈妈", "1"))


def test_scheduled_notice_in_words_echoes_the_exact_time(bot, db_session, ext, now):
    preview = "\n".join(bot.say("钱主任", "定时通知 明天早上8点 全校 明早升旗仪式"))
    assert "定时发送：2026年11月24日（周二）08:00" in preview
    done = "\n".join(bot.say("钱主任", "确认发送"))
    assert "2026年11月24日（周二）08:00" in done
    notice = db_session.scalars(select(notices.Notice)).one()
    assert notice.scheduled_for == dt.datetime(2026, 11, 24, 0, 0, tzinfo=dt.UTC)
    assert notice.text == "明早升旗仪式" and notice.scope_label == "全校"


def test_scheduled_notice_without_an_hour_asks_for_one(bot):
    replies = "\n".join(bot.say("钱主任", "定时通知 明天 全校 升旗"))
    assert "明天早上8点" in replies


@pytest.mark.parametrize(("text", "code"), [
    ("满意", "satisfied"), ("非常满意！", "satisfied"), ("很满意，谢谢老师", "satisfied"), ("挺好的", "satisfied"),
    ("基本满意", "basic"), ("还行", "basic"), ("还可以吧", "basic"), ("凑合", "basic"), ("马马虎虎", "basic"),
    ("不满意", "unsatisfied"), ("不太满意", "unsatisfied"), ("很不满意", "unsatisfied"), ("没解决", "unsatisfied"),
    ("问题根本没有解决", "unsatisfied"), ("谢谢老师，还行吧", "basic"),
    ("好的", None), ("谢谢", None), ("收到", None), ("孩子明天请假", None),
])
def test_parse_satisfaction(text, code):
    assert parse_satisfaction(text) == code


FILLERS = st.sampled_from(["", "，", "。", "！", "吧", "啊", " ", "，谢谢老师", "～", "，辛苦了"])


@given(st.sampled_from([("满意", "satisfied"), ("基本满意", "basic"), ("不满意", "unsatisfied"), ("还行", "basic"),
                        ("挺满意", "satisfied"), ("不太满意", "unsatisfied")]), FILLERS, FILLERS)
def test_politeness_never_changes_the_answer(pair, before, after):
    word, code = pair
    assert parse_satisfaction(f"{before.lstrip('，。！')}{word}{after}") == code
