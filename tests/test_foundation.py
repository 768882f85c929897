"""Binding, help, the simulator pipeline, dedupe and health: through the simulator."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from models.inbound import InboundRecord
from models.outbox import OutboxMessage
from tests.factories import build_school
from tests.kit import SimBot


@pytest.fixture
def bot(ext, db_session, school):
    return SimBot(ext, db_session)


def test_stranger_is_asked_to_bind(bot):
    replies = bot.say("张小明妈妈", "老师好，孩子今天发烧请假")
    assert any("绑定" in r for r in replies)


def test_parent_binds_and_sees_only_own_child(bot):
    replies = bot.say("张小明妈妈", "绑定 张小明 1234")
    assert any("绑定成功" in r and "张小明" in r for r in replies)
    help_text = "\n".join(bot.say("张小明妈妈", "帮助"))
    assert "张小明妈妈" in help_text
    assert "绑定" in help_text


def test_full_width_and_extra_spaces_are_forgiven(bot):
    replies = bot.say("张小明妈妈", "  绑定　张小明　１２３４ ")
    assert any("绑定成功" in r for r in replies)


def test_guardian_with_two_children_is_bound_to_both(bot):
    replies = bot.say("陈大宝妈妈", "绑定 陈大宝 2222")
    assert any("陈大宝" in r and "陈二宝" in r for r in replies)


def test_shared_phone_binds_only_the_named_family(bot, db_session):
    bot.say("王小虎奶奶", "绑定 王小虎 1111")
    identity = _identity(db_session, bot, "王小虎奶奶")
    students = {gs.student.name for gs in identity.guardianships}
    assert students == {"王小虎"}, "a shared phone must never bind another family's child"


def test_wrong_attempts_lock_binding_for_an_hour(bot, ext, now):
    for remaining in (4, 3, 2, 1):
        replies = bot.say("张小明妈妈", "绑定 张小明 0000", now=now)
        assert any(f"还可尝试 {remaining} 次" in r for r in replies)
    assert any("次数过多" in r for r in bot.say("张小明妈妈", "绑定 张小明 0000", now=now))
    # Even the right digits are refused while locked ...
    assert any("次数过多" in r for r in bot.say("张小明妈妈", "绑定 张小明 1234", now=now + dt.timedelta(minutes=30)))
    # ... and accepted after the hour.
    later = now + dt.timedelta(minutes=61)
    assert any("绑定成功" in r for r in bot.say("张小明妈妈", "绑定 张小明 1234", now=later))


def test_guesses_at_one_student_from_many_accounts_lock_that_student_and_tell_the_head_teacher(bot, now):
    bot.bind("王芳")
    bot.pop("王芳")
    guessers = ("张小明爸爸", "陈大宝妈妈", "王小虎奶奶", "赵小龙奶奶", "李强")
    for minute, who in enumerate(guessers):
        replies = bot.say(who, "绑定 张小明 0000", now=now + dt.timedelta(minutes=minute))
        assert any("不匹配" in r or "锁定" in r for r in replies), replies
    # The real mother, with the right digits, waits out the lock like everyone else ...
    refused = bot.say("张小明妈妈", "绑定 张小明 1234", now=now + dt.timedelta(minutes=10))
    assert any("暂停" in r and "班主任" in r for r in refused), refused
    # ... the head teacher is told once, with the way out (a one-time code) ...
    [alert] = bot.pop("王芳")
    assert "张小明" in alert and "生成绑定码 张小明" in alert
    bot.say("陈大宝妈妈", "绑定 张小明 0000", now=now + dt.timedelta(minutes=11))
    assert bot.pop("王芳") == []
    # ... and after the lock the right digits bind.
    later = now + dt.timedelta(minutes=66)
    assert any("绑定成功" in r for r in bot.say("张小明妈妈", "绑定 张小明 1234", now=later))


def test_wrong_guesses_spread_over_more_than_the_window_do_not_lock_the_student(bot, now):
    guessers = ("张小明爸爸", "陈大宝妈妈", "王小虎奶奶", "赵小龙奶奶", "李强")
    for hour, who in enumerate(guessers):
        bot.say(who, "绑定 张小明 0000", now=now + dt.timedelta(minutes=50 * hour))
    assert any("绑定成功" in r for r in bot.say("张小明妈妈", "绑定 张小明 1234", now=now + dt.timedelta(hours=4)))


def test_shared_phone_for_both_parents_asks_relation(ext, db_session, now):
    ts = build_school(db_session, now)
    ts.guardians["张爸爸"].phone = "13800001234"  # both parents registered with one phone
    db_session.commit()
    bot = SimBot(ext, db_session)
    replies = bot.say("张小明妈妈", "绑定 张小明 1234")
    assert any("请注明您的身份" in r for r in replies)
    assert any("绑定成功" in r for r in bot.say("张小明妈妈", "绑定 张小明 1234 妈妈"))


def test_staff_bind_with_own_phone(bot):
    replies = bot.say("王芳", "绑定 王芳 0003")
    assert any("绑定成功" in r and "班主任" in r for r in replies)


def test_wrong_arguments_get_usage_hint(bot):
    replies = bot.say("张小明妈妈", "绑定 张小明")
    assert any("用法：绑定" in r for r in replies)
    replies = bot.say("张小明妈妈", "绑定 张小明 12ab")
    assert any("4 位数字" in r for r in replies)


def test_group_chatter_does_not_reach_bot(bot, db_session):
    before = db_session.scalar(select(func.count()).select_from(InboundRecord))
    assert bot.say("张小明妈妈", "收到", where="group") == []
    after = db_session.scalar(select(func.count()).select_from(InboundRecord))
    assert before == after


def test_an_unbound_parent_mentioning_the_bot_in_the_group_gets_a_hint_there_and_details_privately(bot):
    """A private answer alone may never reach someone who has not written privately yet."""
    [hint] = bot.say("张小明妈妈", "@连心 你好", where="group")
    private = bot.pop("张小明妈妈")
    assert hint.startswith("@张小明妈妈") and "私聊我" in hint and "1234" not in hint
    assert any("绑定 学生姓名 家长手机号后四位" in r for r in private)


def test_duplicate_delivery_is_stored_once(bot, db_session):
    bot.say("张小明妈妈", "绑定 张小明 1234", msg_id="dup-1")
    bot.say("张小明妈妈", "绑定 张小明 1234", msg_id="dup-1")
    count = db_session.scalar(
        select(func.count()).select_from(InboundRecord).where(InboundRecord.platform_msg_id == "dup-1")
    )
    replies = db_session.scalar(select(func.count()).select_from(OutboxMessage))
    assert count == 1
    assert replies == 1


def test_message_is_stored_with_sender(bot, db_session):
    bot.bind("张小明妈妈")
    bot.say("张小明妈妈", "孩子明天请假一天")
    record = db_session.scalars(select(InboundRecord).order_by(InboundRecord.id.desc())).first()
    assert record.text == "孩子明天请假一天"
    assert record.identity_id is not None
    assert record.status == "processed"


def test_images_get_a_polite_answer(ext, db_session, school, now):
    from bot.message import InboundMessage
    from handlers import dispatch

    msg = InboundMessage("simulator", school.school.id, "img-1", "u1", False, "u1", "", now, msgtype="image")
    result = dispatch(msg, session=db_session, settings=ext.settings, registry=ext.registry, now=now)
    assert "绑定" in result.replies[0].text, "a stranger's picture is not kept: they are asked to bind first"


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_simulator_is_not_served_by_default(client, school):
    assert client.get("/simulator").status_code == 404
    assert client.get("/simulator/api/people").status_code == 404


def _identity(session, bot, who):
    from bot.platforms.simulator.webhook import external_id
    from models.identity import Identity

    return session.scalar(select(Identity).where(Identity.external_id == external_id(bot.person(who).key)))


def test_staff_help_is_compact_and_explains_one_command(bot):
    bot.say("赵校长", "绑定 赵校长 0001")
    text = bot.say("赵校长", "帮助")[0]
    assert "帮助 命令" in text and len(text.splitlines()) < 60
    detail = bot.say("赵校长", "帮助 绑定")[0]
    assert detail.startswith("绑定 学生姓名")
    assert "没有「办公」这个命令" in bot.say("赵校长", "帮助 办公")[0]


def test_database_errors_never_carry_what_people_wrote(db_session, school, caplog):
    """A failing insert is logged with its SQL, never with a complaint's text or a phone number."""
    from sqlalchemy.exc import IntegrityError

    from models.directory import School

    secret = "孩子被王老师打了，电话13800001234"
    db_session.add(School(code="t1", name=secret))  # the code is taken
    with pytest.raises(IntegrityError) as caught:
        db_session.flush()
    db_session.rollback()
    assert secret not in str(caught.value) and "13800001234" not in str(caught.value)
    assert "parameters hidden" in str(caught.value)
