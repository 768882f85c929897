"""Leave notes reach the head teacher; they are never tickets and never lost."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from handlers.leave import is_leave_note
from models.tickets import Ticket
from tests.kit import SimBot


@pytest.fixture
def bot(ext, db_session, school):
    sim = SimBot(ext, db_session)
    for who in ("张小明妈妈", "陈大宝妈妈"):
        sim.bind(who)
    return sim


def test_leave_note_is_relayed_to_the_head_teacher(bot, db_session):
    bot.bind("王芳")
    replies = bot.say("张小明妈妈", "王老师，孩子发烧了，明天请假一天")
    assert any("已转告一年级一班班主任王芳老师" in r for r in replies)
    assert bot.pop("王芳") == ["【请假】张小明妈妈（一年级一班）：王老师，孩子发烧了，明天请假一天"]
    assert db_session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_parent_of_two_names_the_child(bot):
    bot.bind("孙丽")
    assert any("哪个孩子" in r for r in bot.say("陈大宝妈妈", "明天请个假，带孩子去医院"))
    assert any("一年级二班班主任孙丽" in r for r in bot.say("陈大宝妈妈", "陈二宝明天请个假，去医院复查"))
    assert bot.pop("孙丽")[0].startswith("【请假】陈二宝妈妈")


def test_head_teacher_not_on_lianxin_yet(bot):
    assert any("直接电话或当面告知" in r for r in bot.say("张小明妈妈", "孩子肚子疼，今天请假"))


@pytest.mark.parametrize(("text", "expected"), [
    ("孩子发烧了明天请假一天", True),
    ("老师，明天给孩子请个假", True),
    ("今天孩子请假一天去医院复查，已经跟班主任说过了", False),
    ("请假条已经交给班主任了", False),
    ("孩子这周作业太多了", False),
])
def test_what_counts_as_a_leave_note(text: str, expected: bool) -> None:
    assert is_leave_note(text) is expected
