"""A question after 收到 is answered, never swallowed by the acknowledgement (issue 16, item 3)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from handlers.notice_acks import split_acknowledgement
from models.notice_acks import NoticeAck
from models.tickets import Ticket
from tests.kit import SimBot

QUESTION = "请问推迟到8:30那天课后服务也推迟吗"
MESSAGE = f"收到，谢谢老师！{QUESTION}"


@pytest.fixture
def bot(ext, db_session, school):
    sim = SimBot(ext, db_session)
    for who in ("张小明妈妈", "王芳", "钱主任", "赵校长"):
        sim.bind(who)
    return sim


def _tickets(db_session) -> list[Ticket]:
    db_session.expire_all()
    return list(db_session.scalars(select(Ticket).order_by(Ticket.id)))


def test_a_question_after_an_acknowledgement_becomes_a_ticket(bot, db_session):
    replies = "\n".join(bot.say("张小明妈妈", MESSAGE))
    assert "好的，收到" not in replies and "编号 2026-0001" in replies
    [ticket] = _tickets(db_session)
    assert ticket.text == QUESTION and ticket.kind == "inquiry" and ticket.category == "after_school"


def test_the_acknowledgement_still_counts_for_the_notice(bot, db_session):
    bot.say("钱主任", "通知 全校 下周一起早上到校时间推迟到8:30")
    done = "\n".join(bot.say("钱主任", "确认发送"))
    notice_id = int(re.search(r"编号 (\d+)", done).group(1))
    bot.deliver()
    bot.pop("张小明妈妈")
    replies = "\n".join(bot.say("张小明妈妈", MESSAGE))
    assert "已记录您已阅读通知" in replies and "编号 2026-0001" in replies
    acks = db_session.scalars(select(NoticeAck).where(NoticeAck.notice_id == notice_id)).all()
    assert [a.via for a in acks] == ["private"]
    assert len(_tickets(db_session)) == 1


def test_in_the_class_group_too(bot, db_session):
    group = bot.say("张小明妈妈", f"@连心 {MESSAGE}", where="group")
    assert group == ["@张小明妈妈 已收到，编号 2026-0001，处理进度会私信告知您"]


def test_a_bare_acknowledgement_stays_a_short_answer(bot, db_session):
    assert bot.say("张小明妈妈", "收到，谢谢老师！") == [
        "好的，收到。有需要反映的问题、求助或咨询，直接留言就行，我会转给负责老师。"]
    assert _tickets(db_session) == []


@pytest.mark.parametrize(("text", "ack", "rest"), [
    (MESSAGE, "收到，谢谢老师！", QUESTION),
    ("好的👍 那周六还上课吗？", "好的👍 ", "那周六还上课吗？"),
    ("已阅[抱拳]，想问一下校服什么时候发", "已阅[抱拳]，", "想问一下校服什么时候发"),
    ("收到谢谢老师，请问几点放学", "收到谢谢老师，", "请问几点放学"),
    ("收到的资料费收据丢了怎么办", "", "收到的资料费收据丢了怎么办"),
    ("好多作业啊，写不完", "", "好多作业啊，写不完"),
    ("老师好，孩子今天没带作业本", "", "老师好，孩子今天没带作业本"),
    ("收到，谢谢老师！", "收到，谢谢老师！", ""),
])
def test_split_acknowledgement(text, ack, rest):
    assert split_acknowledgement(text) == (ack, rest)


ACKS = st.sampled_from(["收到", "好的", "已阅", "收到了", "谢谢老师", "好的谢谢", "👍", "[抱拳]", "明白了"])
SEPARATORS = st.sampled_from(["，", ",", "。", "！", " ", "~", ""])


@given(st.lists(st.tuples(ACKS, SEPARATORS), min_size=1, max_size=3),
       st.sampled_from([QUESTION, "想问一下明天要带午饭吗？", "孩子的水杯丢了，能帮忙找找吗"]))
def test_split_keeps_every_character_and_finds_the_question(parts, rest):
    prefix = "".join(a + s for a, s in parts)
    if prefix and prefix[-1] not in "，,。！ ~" and not prefix.endswith(("👍", "]")):
        prefix += "，"
    ack, found = split_acknowledgement(prefix + rest)
    assert ack + found == prefix + rest, "nothing is lost"
    assert found == rest
