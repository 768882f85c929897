"""A parent of two children loses nothing: every message waits for its own answer (issue 16, item 1).

测试小学's 陈大宝妈妈 (刘芳) has 陈大宝 (一年级一班, head teacher 王芳) and
陈二宝 (一年级二班, head teacher 孙丽).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from models.tickets import Ticket
from tests.kit import SimBot

MUM = "陈大宝妈妈"


@pytest.fixture
def bot(ext, db_session, school):
    sim = SimBot(ext, db_session)
    for who in (MUM, "王芳", "孙丽", "李强", "周敏", "钱主任", "赵校长"):
        sim.bind(who)
    return sim


def _tickets(db_session) -> list[Ticket]:
    db_session.expire_all()
    return list(db_session.scalars(select(Ticket).order_by(Ticket.id)))


def test_leave_note_waits_for_the_answer_and_reaches_that_head_teacher(bot, db_session):
    asked = bot.say(MUM, "孩子明天请假")
    assert any("哪个孩子" in r and "1 陈大宝" in r and "2 陈二宝" in r for r in asked)
    replies = bot.say(MUM, "2")
    assert any("已转告一年级二班班主任孙丽老师" in r for r in replies)
    assert bot.pop("孙丽") == ["【请假】陈二宝妈妈（一年级二班）：孩子明天请假"]
    assert bot.pop("王芳") == []
    assert _tickets(db_session) == [], "a leave note is never a ticket"


def test_three_messages_in_a_row_each_get_their_answer(bot, db_session):
    texts = ["孩子的作业太多了，每天写到十一点", "食堂的饭菜太咸了，孩子不爱吃", "学校门口接送太乱了，希望有人管一管"]
    first = bot.say(MUM, texts[0])
    assert any("哪个孩子" in r and "作业太多" in r for r in first), "the question quotes what it is about"
    for text in texts[1:]:
        queued = bot.say(MUM, text)
        assert queued and all("系统开小差" not in r for r in queued)
        assert _tickets(db_session) == []
    answers = ["1", "2", "陈二宝"]
    for n, answer in enumerate(answers):
        replies = "\n".join(bot.say(MUM, answer))
        assert "编号" in replies, f"answer {n + 1} files message {n + 1}"
        if n + 1 < len(texts):
            assert texts[n + 1][:6] in replies, "and the next message's question follows"
    tickets = _tickets(db_session)
    assert [(t.text, t.student.name) for t in tickets] == [
        (texts[0], "陈大宝"), (texts[1], "陈二宝"), (texts[2], "陈二宝")]
    mine = "\n".join(bot.say(MUM, "我的反馈"))
    assert all(t.number in mine for t in tickets)


def test_one_answer_for_all_waiting_messages(bot, db_session):
    bot.say(MUM, "孩子的作业太多了，每天写到十一点")
    bot.say(MUM, "孩子明天请假")
    replies = "\n".join(bot.say(MUM, "都是2"))
    assert "编号" in replies and "孙丽" in replies
    assert [t.student.name for t in _tickets(db_session)] == ["陈二宝"]
    assert any("【请假】陈二宝妈妈" in line for line in bot.pop("孙丽"))


@pytest.mark.parametrize(("text", "child"), [
    ("陈二宝最近上课总走神，老师能多关注一下吗", "陈二宝"),
    ("二宝最近上课总走神，老师能多关注一下吗", "陈二宝"),
    ("一年级二班的作业太多了，每天写到十一点", "陈二宝"),
    ("孙老师布置的作业太多了，每天写到十一点", "陈二宝"),
    ("王芳老师布置的作业太多了，每天写到十一点", "陈大宝"),
])
def test_a_message_naming_a_child_class_or_teacher_needs_no_question(bot, db_session, text, child):
    replies = bot.say(MUM, text)
    assert not any("哪个孩子" in r for r in replies)
    tickets = _tickets(db_session)
    assert len(tickets) == 1 and tickets[0].student.name == child


def test_leave_note_naming_the_class_needs_no_question(bot):
    replies = bot.say(MUM, "一年级一班的孩子明天请假一天")
    assert any("已转告一年级一班班主任王芳老师" in r for r in replies)


def test_an_unanswered_message_becomes_a_ticket_under_the_first_child(ext, bot, db_session, now):
    from handlers.child_questions import expire_questions

    bot.say(MUM, "孩子的作业太多了，每天写到十一点")
    bot.say(MUM, "孩子明天请假", now=now + dt.timedelta(minutes=5))
    ttl = dt.timedelta(hours=ext.settings.tickets.question_ttl_hours)
    assert expire_questions(db_session, ext.settings, now + ttl - dt.timedelta(minutes=1)) == 0
    assert expire_questions(db_session, ext.settings, now + ttl + dt.timedelta(minutes=10)) == 2
    db_session.commit()
    bot.deliver(now + ttl + dt.timedelta(minutes=10))
    tickets = _tickets(db_session)
    assert len(tickets) == 1 and tickets[0].student.name == "陈大宝"
    notes = [e.text for e in tickets[0].events if e.action == "child_unconfirmed"]
    assert notes and "未确认" in notes[0]
    told = "\n".join(bot.pop(MUM))
    assert tickets[0].number in told and "陈大宝" in told
    assert any("【请假】" in line and "未确认" in line for line in bot.pop("王芳") + bot.pop("孙丽"))
    assert expire_questions(db_session, ext.settings, now + 2 * ttl) == 0, "filed once"


def test_the_scheduler_job_settles_unanswered_questions(ext, bot, db_session, now):
    from scheduler import jobs

    bot.say(MUM, "孩子的作业太多了，每天写到十一点")
    later = now + dt.timedelta(hours=ext.settings.tickets.question_ttl_hours, minutes=1)
    assert jobs.sweep_questions(ext, later).results == {"sweep_questions": 1}
    assert [t.student.name for t in _tickets(db_session)] == ["陈大宝"]


def test_not_helped_by_a_faq_answer_asks_which_child(bot, db_session):
    assert any("16:30" in r for r in bot.say(MUM, "请问周五放学几点？"))
    replies = bot.say(MUM, "没解决")
    assert any("哪个孩子" in r for r in replies) and _tickets(db_session) == []
    assert any("编号" in r for r in bot.say(MUM, "2"))
    assert [t.student.name for t in _tickets(db_session)] == ["陈二宝"]


def test_praise_naming_one_child_reaches_that_childs_teacher(bot):
    replies = "\n".join(bot.say(MUM, "孙老师很负责，陈二宝进步很大，谢谢孙老师"))
    assert "转达给孙老师" in replies
    assert any("【家长表扬】陈二宝妈妈" in line for line in bot.pop("孙丽"))
