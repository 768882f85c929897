"""The parent hears 已办结 only once the resolution stands, or is told plainly it was sent back (item 8)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from models.callback_sweep import sweep_callbacks
from tests.kit import SimBot

FOOD = "食堂的饭菜太差了，孩子吃不饱，请学校整改"
N = "2026-0001"


@pytest.fixture
def bot(ext, db_session, school):
    sim = SimBot(ext, db_session)
    for who in ("张小明妈妈", "周敏", "钱主任", "赵校长"):
        sim.bind(who)
    sim.say("张小明妈妈", FOOD)
    sim.say("周敏", f"接单 {N}")
    for who in ("张小明妈妈", "周敏", "钱主任"):
        sim.pop(who)
    return sim


def test_nothing_reaches_the_parent_while_leaders_may_still_send_it_back(ext, bot, db_session, now):
    assert ext.settings.scheduler.callback_delay_minutes == 60
    bot.say("周敏", f"办结 {N} 已口头提醒食堂")
    assert bot.pop("张小明妈妈") == [], "no 已办结 before the resolution stands"
    progress = "\n".join(bot.say("张小明妈妈", f"进度 {N}"))
    assert "办理中" in progress and "已口头提醒食堂" not in progress and "已办结" not in progress
    bot.say("钱主任", f"驳回 {N} 整改不到位：没有书面整改措施")
    assert bot.pop("张小明妈妈") == [], "the parent was never told it was done, so nothing to take back"
    progress = "\n".join(bot.say("张小明妈妈", f"进度 {N}"))
    history = progress.split("进展：")[1]
    assert "办理中" in progress and "办结" not in history and "书面整改措施" not in progress and "退回" not in history

    bot.say("周敏", f"办结 {N} 已与食堂签订书面整改措施")
    later = now + dt.timedelta(minutes=61)
    sweep_callbacks(db_session, ext.settings, later)
    db_session.commit()
    bot.deliver(later)
    callback = "\n".join(bot.pop("张小明妈妈"))
    assert "回访" in callback and "书面整改措施" in callback
    progress = "\n".join(bot.say("张小明妈妈", f"进度 {N}", now=later))
    assert "已办结待回访" in progress and "已与食堂签订书面整改措施" in progress
    assert "已口头提醒食堂" not in progress, "the resolution that was sent back is not shown as a 办结"


def test_a_parent_already_asked_is_told_plainly_it_was_sent_back(ext, bot, db_session):
    ext.settings = dataclasses.replace(
        ext.settings, scheduler=dataclasses.replace(ext.settings.scheduler, callback_delay_minutes=0))
    bot.say("周敏", f"办结 {N} 已口头提醒食堂")
    assert any("回访" in line for line in bot.pop("张小明妈妈"))
    bot.say("钱主任", f"驳回 {N} 整改不到位：没有书面整改措施")
    told = "\n".join(bot.pop("张小明妈妈"))
    assert "退回" in told and "继续" in told and "书面整改措施" not in told, "plain words, no internal reason"
    progress = "\n".join(bot.say("张小明妈妈", f"进度 {N}"))
    assert "办理中" in progress and "退回继续办理" in progress
    assert progress.index("已口头提醒食堂") < progress.index("退回继续办理")
