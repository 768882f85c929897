"""Ticket commands for each role, refusals, FAQ, praise, triage, extensions and the ledger CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from handlers import classifier
from models import ticket_notify
from models.faq import FaqAnswer
from models.praise import Praise
from models.tickets import ClassifierCorrection, Ticket
from tests.factories import build_school
from tests.kit import SimBot

FOOD = "食堂的饭菜太差了，孩子吃不饱，请学校整改"
STAFF = ("王芳", "孙丽", "李强", "周敏", "吴刚", "钱主任", "赵校长")


@pytest.fixture
def settings_overrides(settings_overrides):
    return {**settings_overrides, "scheduler": {"callback_delay_minutes": 0}}


@pytest.fixture
def bot(ext, db_session, now):
    build_school(db_session, now)
    db_session.commit()
    sim = SimBot(ext, db_session)
    for who in ("张小明妈妈", "陈大宝妈妈", *STAFF):
        sim.bind(who)
    return sim


@pytest.fixture
def food(bot):
    """张小明妈妈's food complaint, assigned to 周敏 (总务) as 2026-0001."""
    bot.say("张小明妈妈", FOOD)
    for who in ("张小明妈妈", *STAFF):
        bot.pop(who)
    return "2026-0001"


def _ticket(db_session) -> Ticket:
    db_session.expire_all()
    return db_session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()


def test_parent_cannot_act_on_tickets(bot, food):
    assert any("没有使用「办结」的权限" in r for r in bot.say("张小明妈妈", f"办结 {food} 好了"))
    assert any("没有使用「工单」的权限" in r for r in bot.say("张小明妈妈", "工单"))


def test_parent_sees_own_tickets_only(bot, food):
    mine = "\n".join(bot.say("张小明妈妈", "我的反馈"))
    assert food in mine and "已分派" in mine
    assert any("食堂" in r for r in bot.say("张小明妈妈", f"进度 {food}"))
    assert any("没有找到您的反馈" in r for r in bot.say("陈大宝妈妈", f"进度 {food}"))
    assert not any(food in r for r in bot.say("陈大宝妈妈", "我的反馈"))


def test_progress_is_forgiving_about_full_width_and_short_numbers(bot, food):
    assert any("食堂" in r for r in bot.say("张小明妈妈", "进度　２０２６－０００１"))
    assert any("食堂" in r for r in bot.say("张小明妈妈", "进度1"))


def test_teacher_cannot_see_another_teachers_ticket(bot, food):
    assert any("无权查看" in r for r in bot.say("孙丽", f"查看 {food}"))
    assert not any(food in r for r in bot.say("孙丽", "工单"))
    assert any("无权查看" in r for r in bot.say("吴刚", f"接单 {food}"))
    # The class head teacher sees her class's ticket but does not handle it.
    assert any(FOOD in r for r in bot.say("王芳", f"查看 {food}"))
    assert any("不由您办理" in r for r in bot.say("王芳", f"办结 {food} 已处理"))


def test_ticket_commands_are_refused_in_groups(bot, food):
    replies = bot.say("王芳", f"@连心 查看 {food}", where="group")
    assert not any(FOOD in r for r in replies)
    assert any("请私聊" in r for r in bot.pop("王芳"))


def test_teacher_list_marks_overdue(bot, food, now):
    listing = "\n".join(bot.say("周敏", "工单", now=now + dt.timedelta(days=5)))
    assert food in listing and "超期" in listing
    overdue = "\n".join(bot.say("钱主任", "超期", now=now + dt.timedelta(days=5)))
    assert food in overdue
    assert "没有超期" in "\n".join(bot.say("钱主任", "超期"))


def test_leader_sees_all_and_teacher_commands_need_args(bot, food):
    assert any(food in r for r in bot.say("钱主任", "全部工单"))
    assert any("用法：办结" in r for r in bot.say("周敏", f"办结 {food}"))
    assert any("没有使用「督办」的权限" in r for r in bot.say("周敏", f"督办 {food}"))


def test_transfer(bot, food, db_session):
    assert any("转给吴刚" in r for r in bot.say("周敏", f"转办 {food} 吴刚 涉及餐费收取，属财务"))
    ticket = _ticket(db_session)
    assert ticket.assignee.name == "吴刚" and ticket.events[-1].text == "涉及餐费收取，属财务"
    assert any("转办工单" in r and food in r for r in bot.pop("吴刚"))
    assert any("无权查看" in r for r in bot.say("周敏", f"回复 {food} 还在处理"))
    assert any("没有「刘备」" in r for r in bot.say("吴刚", f"转办 {food} 刘备 试试"))


def test_return_then_assign(bot, food, db_session):
    assert any("退回钱主任" in r for r in bot.say("周敏", f"退回 {food} 不属于总务"))
    ticket = _ticket(db_session)
    assert (ticket.assignee.name, ticket.state) == ("钱主任", "new")
    assert any("【退回】" in r for r in bot.pop("钱主任"))
    assert any("指派给吴刚" in r for r in bot.say("钱主任", f"指派 {food} 吴刚"))
    assert (_ticket(db_session).assignee.name, _ticket(db_session).state) == ("吴刚", "assigned")
    assert any("指派" in r and food in r for r in bot.pop("吴刚"))


def test_supervise_reminds_and_records(bot, food, db_session):
    bot.say("钱主任", f"督办 {food} 请今天内给家长答复")
    assert any("【督办】" in r and "请今天内给家长答复" in r for r in bot.pop("周敏"))
    assert _ticket(db_session).events[-1].action == "supervised"


def test_extension_approved_moves_deadline_denied_does_not(bot, food, db_session):
    before = _ticket(db_session).resolve_by
    assert any("批准前时限不变" in r for r in bot.say("周敏", f"延期 {food} 2 需要采购新餐具"))
    assert any("延期申请" in r for r in bot.pop("钱主任"))
    assert _ticket(db_session).resolve_by == before
    bot.say("钱主任", f"批准延期 {food}")
    after = _ticket(db_session).resolve_by
    # Thursday 26th + 2 working days skips the weekend: Monday 30th, same clock time.
    assert before == dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
    assert after == dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)
    assert any("延期已批准" in r for r in bot.pop("周敏"))
    bot.say("周敏", f"延期 {food} 3 还要等货")
    bot.say("赵校长", f"驳回延期 {food}")
    assert _ticket(db_session).resolve_by == after
    assert any("延期未批准" in r for r in bot.pop("周敏"))
    assert any("没有待审批" in r for r in bot.say("赵校长", f"批准延期 {food}"))


def test_leader_rejects_a_resolution_before_closing(bot, food, db_session):
    bot.say("周敏", f"办结 {food} 已口头提醒食堂")
    assert any("回访" in r for r in bot.pop("张小明妈妈"))
    assert any("已驳回" in r for r in bot.say("钱主任", f"驳回 {food} 整改不到位：没有书面整改措施"))
    ticket = _ticket(db_session)
    assert ticket.state == "in_progress" and ticket.callback_asked_at is None
    assert any("整改不到位不予销号" in r for r in bot.pop("周敏"))
    assert any("退回继续办理" in r and "暂不需要评价" in r for r in bot.pop("张小明妈妈"))
    bot.say("张小明妈妈", "满意")
    assert _ticket(db_session).state == "in_progress", "the withdrawn callback no longer closes it"


def test_callback_waits_for_the_scheduler_when_delayed(ext, bot, food, db_session, now):
    ext.settings = __import__("dataclasses").replace(
        ext.settings, scheduler=__import__("dataclasses").replace(ext.settings.scheduler, callback_delay_minutes=60))
    bot.say("周敏", f"办结 {food} 已更换供餐公司")
    assert bot.pop("张小明妈妈") == [], "the parent hears of it with the 回访, once the resolution stands"
    ticket = _ticket(db_session)
    later = now + dt.timedelta(hours=1)
    asked = ticket_notify.ask_callback(db_session, ticket, later, ttl=dt.timedelta(days=3))
    assert ticket_notify.ask_callback(db_session, ticket, later, ttl=dt.timedelta(days=3)) == []
    db_session.commit()
    bot.deliver(later)
    assert asked and any("回访" in r for r in bot.pop("张小明妈妈"))
    bot.say("张小明妈妈", "2", now=later)
    assert _ticket(db_session).close_reason == "basic"


def test_faq_answers_and_not_helped_opens_ticket(bot, db_session):
    replies = "\n".join(bot.say("张小明妈妈", "请问明天几点放学？"))
    assert "16:30" in replies and "没解决" in replies
    assert db_session.scalars(select(Ticket)).first() is None
    replies = "\n".join(bot.say("张小明妈妈", "没解决"))
    ticket = _ticket(db_session)
    assert ticket is not None and ticket.kind == "inquiry" and ticket.number in replies
    answer = db_session.scalars(select(FaqAnswer)).one()
    assert (answer.faq_key, answer.helped, answer.ticket_id) == ("dismissal_time", False, ticket.id)


def test_praise_is_credited_without_a_ticket(bot, db_session):
    replies = bot.say("张小明妈妈", "王芳老师很负责，孩子进步很大")
    assert any("谢谢您的肯定" in r for r in replies)
    assert db_session.scalars(select(Ticket)).first() is None
    praise = db_session.scalars(select(Praise)).one()
    assert praise.staff.name == "王芳"
    assert any("家长表扬" in r for r in bot.pop("王芳"))


def test_chatter_is_left_alone(bot, db_session):
    assert bot.say("张小明妈妈", "@连心 收到", where="group") == []
    assert len(bot.say("张小明妈妈", "谢谢老师")) == 1
    assert db_session.scalars(select(Ticket)).first() is None


def test_low_confidence_goes_to_head_teacher_as_other_and_recategorize_is_stored(bot, db_session, monkeypatch):
    vague = classifier.Classification("complaint", "food", "normal", 0.2, 0.5, 0.4)
    monkeypatch.setattr(classifier, "classify", lambda text: vague)
    bot.say("张小明妈妈", "那个事情到底怎么说")
    ticket = _ticket(db_session)
    assert (ticket.category, ticket.original_category, ticket.assignee.name) == ("other", "food", "王芳")
    assert any("改为「食堂餐饮」" in r for r in bot.say("王芳", f"改类 {ticket.number} 食堂"))
    correction = db_session.scalars(select(ClassifierCorrection)).one()
    assert (correction.from_category, correction.to_category, correction.text) == ("other", "food", "那个事情到底怎么说")
    assert _ticket(db_session).category == "food"
    assert any("没有「火星」" in r for r in bot.say("王芳", f"改类 {ticket.number} 火星"))


def test_ledger_cli_json_and_csv(bot, food, runner):
    bot.say("周敏", f"接单 {food}")
    result = runner.invoke(args=["tickets", "list", "--school", "t1", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows[0]["number"] == f"T1-{food}" and rows[0]["short_number"] == food
    assert rows[0]["state"] == "in_progress"
    assert [h["action"] for h in rows[0]["history"]] == ["created", "assigned", "accepted"]
    csv_out = runner.invoke(args=["tickets", "list", "--school", "t1", "--csv"]).output
    assert csv_out.startswith("\ufeffnumber,state") and "周敏 接单" in csv_out and "accepted" not in csv_out
    assert "共 1 条" in runner.invoke(args=["tickets", "list", "--school", "t1", "--state", "in_progress"]).output
    assert runner.invoke(args=["tickets", "list", "--school", "nope"]).exit_code != 0


def test_teachers_everyday_word_for_their_list_works(bot, food):
    """待办 is what teachers call their list; it answers like 工单 instead of 「没有看懂」."""
    for word in ("待办", "我的待办"):
        replies = bot.say("周敏", word)
        assert any(food in r for r in replies), replies
