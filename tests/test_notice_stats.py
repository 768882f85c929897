"""通知统计 lists every family still to confirm, page by page (issue 16, item 11)."""

from __future__ import annotations

import re

import pytest

from models.directory import Guardian
from tests.factories import make_student
from tests.kit import SimBot

EXTRA = [f"学生{n:02d}" for n in range(1, 31)]  # 30 more families in 一年级一班: 33 in all


@pytest.fixture
def bot(ext, db_session, school):
    cls = school.classes["一年级一班"]
    for n, name in enumerate(EXTRA):
        guardian = Guardian(school=school.school, name=f"家长{n}", phone=f"1390000{n:04d}")
        db_session.add(guardian)
        make_student(db_session, cls, name, [(guardian, "妈妈")])
    db_session.commit()
    sim = SimBot(ext, db_session)
    for who in ("王芳", "钱主任", "张小明妈妈"):
        sim.bind(who)
    sim.say("王芳", "通知 一年级一班 周五下午家长会")
    done = "\n".join(sim.say("王芳", "确认发送"))
    sim.number = re.search(r"编号 (\d+)", done).group(1)
    sim.deliver()
    sim.say("张小明妈妈", "收到")
    return sim


def _names(text: str) -> set[str]:
    return set(re.findall(r"(学生\d\d|陈大宝|王小虎|张小明)家长", text))


def test_the_head_teacher_sees_every_family_still_to_confirm_page_by_page(bot):
    first = "\n".join(bot.say("王芳", f"通知统计 {bot.number}"))
    assert "已确认 1，未确认 32" in first and "第 1/2 页" in first
    assert f"通知统计 {bot.number} 2" in first, "says how to see the next page"
    second = "\n".join(bot.say("王芳", f"通知统计 {bot.number} 2"))
    assert "第 2/2 页" in second
    seen = _names(first) | _names(second)
    assert seen == {*EXTRA, "陈大宝", "王小虎"}, "every family still to confirm, none who did"
    assert not _names(first) & _names(second)


def test_a_page_past_the_end_is_answered(bot):
    assert any("共 2 页" in r for r in bot.say("王芳", f"通知统计 {bot.number} 9"))
