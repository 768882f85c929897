"""Notices through the simulator: preview, confirm, cancel, roles, acknowledgements, statistics."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from models import notice_acks, notices
from models.notice_acks import NoticeAck
from models.outbox import OutboxMessage
from tests.kit import SimBot

PARENTS = ("张小明妈妈", "王小虎奶奶", "陈大宝妈妈", "赵小龙奶奶")


@pytest.fixture
def bot(ext, db_session, school):
    bot = SimBot(ext, db_session)
    for who in ("赵校长", "王芳", "孙丽", *PARENTS):
        assert any("绑定成功" in r for r in bot.bind(who)), who
    return bot


def _send(bot: SimBot, who: str, command: str) -> int:
    preview = "\n".join(bot.say(who, command))
    assert "回复「确认发送」" in preview, preview
    done = "\n".join(bot.say(who, "确认发送"))
    number = re.search(r"编号 (\d+)", done)
    assert number, done
    bot.deliver()
    return int(number.group(1))


def _acked(db_session, notice_id: int) -> set[str]:
    rows = db_session.scalars(select(NoticeAck).where(NoticeAck.notice_id == notice_id)).all()
    return {db_session.get(notices.Student, r.student_id).name for r in rows}


def test_preview_counts_groups_and_families_then_confirm_sends(bot, db_session):
    preview = "\n".join(bot.say("赵校长", "通知 全校 周五下午家长会，请准时参加"))
    assert "全校，2 个班级" in preview
    assert "2 个班级群" in preview
    # 5 families; 张小明, 王小虎, 陈大宝, 陈二宝, 赵小龙 all have a bound guardian.
    assert "私信 5/5 户" in preview
    assert not bot.pop("张小明妈妈"), "nothing is sent before 确认发送"
    done = "\n".join(bot.say("赵校长", "确认发送"))
    assert "已发送" in done
    bot.deliver()
    copy = "\n".join(bot.pop("张小明妈妈"))
    assert "周五下午家长会" in copy and "/n/" in copy and "张小明妈妈您好" in copy
    assert any("周五下午家长会" in line for line in bot.pop("张小明妈妈", "group"))
    # One private copy per child: 陈大宝妈妈 has two children, so two links.
    assert len(re.findall(r"/n/\S+", "\n".join(bot.pop("陈大宝妈妈")))) == 2


def test_cancel_sends_nothing(bot, db_session):
    bot.say("赵校长", "通知 一年级 明天停水")
    assert any("已取消" in r for r in bot.say("赵校长", "取消"))
    bot.deliver()
    assert not bot.pop("张小明妈妈")
    assert db_session.scalar(select(OutboxMessage).where(OutboxMessage.ref.like("notice:%"))) is None


def test_roles_parent_teacher_and_head_teacher(bot):
    assert any("没有使用「通知」的权限" in r for r in bot.say("张小明妈妈", "通知 全校 放假"))
    bot.bind("李强")
    assert any("没有使用「通知」的权限" in r for r in bot.say("李强", "通知 一年级一班 放假"))
    assert any("只能给本班" in r for r in bot.say("王芳", "通知 一年级二班 明天交作业"))
    assert any("只能给本班" in r for r in bot.say("王芳", "通知 全校 明天交作业"))
    preview = "\n".join(bot.say("王芳", "通知 一年级一班 明天交作业"))
    assert "1 个班级群" in preview and "私信 3/3 户" in preview


def test_unknown_scope_is_explained(bot):
    replies = bot.say("赵校长", "通知 三年级二班 明天停水")
    assert any("没有找到「三年级二班」" in r for r in replies)


def test_acknowledgements_from_real_style_replies(bot, db_session):
    number = _send(bot, "赵校长", "通知 全校 本周四流感疫苗接种，请签回执")
    assert any("已记录" in r for r in bot.say("张小明妈妈", "收到"))
    assert any("已记录" in r for r in bot.say("王小虎奶奶", "收到[抱拳]"))
    # One 👍 from a mother of two acknowledges both children's copies.
    assert any("已记录" in r for r in bot.say("陈大宝妈妈", "👍"))
    assert _acked(db_session, number) == {"张小明", "王小虎", "陈大宝", "陈二宝"}
    # A second 收到 is answered, not double counted.
    assert any("已确认过" in r for r in bot.say("张小明妈妈", "已阅"))
    # In the group, @连心 收到 counts for that class's child.
    bot.say("赵小龙奶奶", "@连心 收到", where="group")
    assert "赵小龙" in _acked(db_session, number)
    stats = "\n".join(bot.say("赵校长", f"通知统计 {number}"))
    assert "一年级一班：送达 3/3 户，已确认 3，未确认 0" in stats
    assert "一年级二班：送达 2/2 户，已确认 2，未确认 0" in stats
    assert "合计：送达 5/5 户，已确认 5，未确认 0" in stats


def test_real_question_is_not_taken_for_acknowledgement(bot, db_session):
    number = _send(bot, "赵校长", "通知 全校 明天体检")
    bot.say("张小明妈妈", "老师，体检需要空腹吗？")
    assert _acked(db_session, number) == set()


def test_reply_after_the_window_is_not_an_acknowledgement(bot, db_session, now):
    number = _send(bot, "赵校长", "通知 全校 明天体检")
    bot.say("张小明妈妈", "收到", now=now + dt.timedelta(hours=73))
    assert _acked(db_session, number) == set()


def test_confirm_link_records_acknowledgement(bot, client, db_session):
    number = _send(bot, "赵校长", "通知 一年级一班 请带好雨具")
    copy = "\n".join(bot.pop("王小虎奶奶"))
    path = re.search(r"http://[^/]+(/n/\S+)", copy).group(1)
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "请带好雨具" in html and "我已阅读" in html and "王小虎家长" in html
    done = client.post(path).get_data(as_text=True)
    assert "您已确认阅读" in done
    assert _acked(db_session, number) == {"王小虎"}
    stats = "\n".join(bot.say("王芳", f"通知统计 {number}"))
    assert "已确认 1，未确认 2" in stats and "一年级一班：张小明家长、陈大宝家长" in stats


def test_forged_and_expired_links_are_refused(bot, client, ext, now):
    _send(bot, "赵校长", "通知 一年级一班 请带好雨具")
    path = re.search(r"http://[^/]+(/n/\S+)", "\n".join(bot.pop("张小明妈妈"))).group(1)
    assert client.get(path[:-3] + "abc").status_code == 403
    ext.clock = lambda: now + dt.timedelta(days=15)
    assert client.get(path).status_code == 410


def test_reminder_lists_exactly_unacknowledged_families(bot, db_session, ext, now):
    number = _send(bot, "赵校长", "重要通知 全校 周六补课取消")
    bot.say("张小明妈妈", "收到")
    bot.say("赵小龙奶奶", "好的，收到")
    assert notice_acks.remind_unacknowledged(db_session, ext.settings, now + dt.timedelta(hours=23)) == 0
    later = now + dt.timedelta(hours=25)
    assert notice_acks.remind_unacknowledged(db_session, ext.settings, later) == 2
    assert notice_acks.remind_unacknowledged(db_session, ext.settings, later) == 0, "once per notice"
    db_session.commit()
    bot.deliver(later)
    wang = "\n".join(bot.pop("王芳"))
    assert f"重要通知（编号 {number}）" in wang
    assert "已确认 1/3 户" in wang and "陈大宝家长、王小虎家长" in wang and "张小明" not in wang
    sun = "\n".join(bot.pop("孙丽"))
    assert "已确认 1/2 户" in sun and "陈二宝家长" in sun and "赵小龙" not in sun


def test_scheduled_notice_goes_out_once_at_its_time(bot, db_session, ext, now):
    preview = "\n".join(bot.say("赵校长", "定时通知 2026-11-24 08:00 全校 明早升旗仪式"))
    assert "定时发送：2026年11月24日（周二）08:00" in preview
    assert any("已定时" in r for r in bot.say("赵校长", "确认发送"))
    assert notices.send_due_notices(db_session, ext.settings, now) == 0
    at = dt.datetime(2026, 11, 24, 0, 0, tzinfo=dt.UTC)  # 08:00 in Beijing
    assert notices.send_due_notices(db_session, ext.settings, at - dt.timedelta(minutes=1)) == 0
    assert notices.send_due_notices(db_session, ext.settings, at) == 1
    assert notices.send_due_notices(db_session, ext.settings, at + dt.timedelta(minutes=5)) == 0
    db_session.commit()
    bot.deliver(at)
    assert sum("明早升旗仪式" in line for line in bot.pop("张小明妈妈")) == 1


def test_scheduled_notice_can_be_cancelled_before_it_goes_out(bot, db_session, ext, now):
    bot.say("王芳", "定时通知 2026-11-24 08:00 一年级一班 明天穿校服")
    bot.say("王芳", "确认发送")
    notice_id = max(n.id for n in db_session.scalars(select(notices.Notice)))
    assert any("只能取消自己发起" in r for r in bot.say("孙丽", f"取消通知 {notice_id}"))
    assert any("已取消定时通知" in r for r in bot.say("赵校长", f"取消通知 {notice_id}"))
    assert any("无法取消" in r for r in bot.say("王芳", f"取消通知 {notice_id}"))
    at = dt.datetime(2026, 11, 24, 0, 0, tzinfo=dt.UTC)
    assert notices.send_due_notices(db_session, ext.settings, at) == 0
    assert any("取消通知 通知编号" in r for r in bot.say("王芳", "取消通知 abc"))


def test_scheduled_time_in_the_past_is_refused(bot):
    assert any("已过" in r for r in bot.say("赵校长", "定时通知 2026-11-01 08:00 全校 升旗"))
    assert any("请写明发送时间" in r for r in bot.say("赵校长", "定时通知 明天 全校 升旗"))
    assert any("已过" in r for r in bot.say("赵校长", "定时通知 今天早上7点 全校 升旗"))
