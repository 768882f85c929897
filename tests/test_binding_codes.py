"""One-time binding codes: a teacher generates one, one parent uses it once."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.factories import build_school
from tests.kit import SimBot


@pytest.fixture
def bot(ext, db_session, now):
    build_school(db_session, now)
    db_session.commit()
    bot = SimBot(ext, db_session)
    for staff in ("王芳", "孙丽", "赵校长", "李强"):
        bot.bind(staff)
    return bot


def _code(bot: SimBot, who: str, text: str, now: dt.datetime | None = None) -> str:
    replies = bot.say(who, text, now=now)
    found = re.search(r"绑定码：(\d{6})", "\n".join(replies))
    assert found, replies
    return found.group(1)


def test_head_teacher_code_binds_the_parent_once(bot) -> None:
    code = _code(bot, "王芳", "生成绑定码 张小明 爸爸")
    replies = bot.say("张小明爸爸", f"绑定 {code}")
    assert any("绑定成功" in r and "张小明（一年级一班）" in r for r in replies)
    # The code is spent: nobody else can use it.
    replies = bot.say("张小明妈妈", f"绑定 {code}")
    assert any("已使用或已过期" in r for r in replies)
    assert not any("绑定成功" in r for r in replies)


def test_code_binds_only_its_guardian_pair(bot, db_session) -> None:
    code = _code(bot, "王芳", "生成绑定码 陈大宝")  # one guardian: relation optional
    replies = bot.say("陈大宝妈妈", f"绑定 {code}")
    assert any("陈大宝" in r and "陈二宝" not in r for r in replies)


def test_two_guardians_need_a_relation(bot) -> None:
    replies = bot.say("王芳", "生成绑定码 张小明")
    assert any("多位家长" in r and "妈妈" in r and "爸爸" in r for r in replies)


def test_expired_code_is_refused(bot, now) -> None:
    code = _code(bot, "王芳", "生成绑定码 张小明 妈妈", now=now)
    later = now + dt.timedelta(hours=73)
    replies = bot.say("张小明妈妈", f"绑定 {code}", now=later)
    assert any("已过期" in r for r in replies)
    assert not any("绑定成功" in r for r in replies)


def test_new_code_replaces_the_old_one(bot) -> None:
    old = _code(bot, "王芳", "生成绑定码 张小明 妈妈")
    new = _code(bot, "王芳", "生成绑定码 张小明 妈妈")
    assert old != new
    assert not any("绑定成功" in r for r in bot.say("张小明妈妈", f"绑定 {old}"))
    assert any("绑定成功" in r for r in bot.say("张小明妈妈", f"绑定 {new}"))


def test_teacher_cannot_make_a_code_for_another_class(bot) -> None:
    replies = bot.say("孙丽", "生成绑定码 张小明 妈妈")
    assert any("不是「张小明」所在班级的老师" in r for r in replies)
    assert not any(re.search(r"\d{6}", r) for r in replies)


def test_subject_teacher_and_leader_may_make_codes(bot) -> None:
    _code(bot, "李强", "生成绑定码 赵小龙 奶奶")  # 李强 teaches 一年级二班
    _code(bot, "赵校长", "生成绑定码 张小明 爸爸")


def test_parents_cannot_make_codes_and_codes_stay_out_of_groups(bot) -> None:
    bot.bind("张小明妈妈")
    assert any("没有使用" in r for r in bot.say("张小明妈妈", "生成绑定码 张小明 爸爸"))
    assert bot.say("王芳", "@连心 生成绑定码 张小明 爸爸", where="group") == []
    assert any("请私聊" in r for r in bot.pop("王芳"))


def test_wrong_codes_count_towards_the_lock(bot, now) -> None:
    code = _code(bot, "王芳", "生成绑定码 张小明 妈妈", now=now)
    wrong = "000000" if code != "000000" else "111111"
    for remaining in (4, 3, 2, 1):
        assert any(f"还可尝试 {remaining} 次" in r for r in bot.say("张小明妈妈", f"绑定 {wrong}", now=now))
    assert any("次数过多" in r for r in bot.say("张小明妈妈", f"绑定 {wrong}", now=now))
    assert any("次数过多" in r for r in bot.say("张小明妈妈", f"绑定 {code}", now=now))


def test_malformed_code_gets_usage(bot) -> None:
    assert any("6 位数字" in r for r in bot.say("张小明妈妈", "绑定 12345"))
