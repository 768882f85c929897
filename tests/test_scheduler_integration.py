"""Scheduler integrations: notice reminders, open surveys in the digest, the 周调度 link, staff at night."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import openpyxl

from bot.message import USER, Recipient
from models import links, outbox
from models.digest import build_digest
from models.digest_render import render_text
from models.quiet_hours import hold_until
from scheduler import jobs
from tests.scheduler_helpers import bound_school, identity_of

TZ = ZoneInfo("Asia/Shanghai")
H = dt.timedelta(hours=1)


def bj(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=TZ).astimezone(dt.UTC)


def _confirmed(bot, who: str, command: str) -> int:
    preview = "\n".join(bot.say(who, command))
    assert "确认发送" in preview, preview
    done = "\n".join(bot.say(who, "确认发送"))
    number = re.search(r"编号 (\d+)", done)
    assert number, done
    return int(number.group(1))


def test_unacknowledged_important_notice_reminded_once_by_the_job(ext, db_session, now):
    ts, bot = bound_school(ext, db_session, now)
    number = _confirmed(bot, "赵校长", "重要通知 全校 周六补课取消")
    bot.deliver(now)
    bot.say("张小明妈妈", "收到")
    assert jobs.remind_notices(ext, now + 23 * H).results == {"remind_notices": 0}, "not before 24 h"
    later = now + 25 * H
    first = jobs.remind_notices(ext, later)
    assert first.ran and first.results["remind_notices"] >= 1
    assert jobs.remind_notices(ext, later + H).results == {"remind_notices": 0}, "once per notice"
    bot.deliver(later)
    wang = "\n".join(bot.pop("王芳"))
    assert f"重要通知（编号 {number}）" in wang and "尚未确认" in wang
    assert "张小明" not in wang.split("请提醒：")[1], "a family that acknowledged is not listed"


def test_open_survey_appears_in_the_digest_until_its_deadline(ext, db_session, now):
    ts, bot = bound_school(ext, db_session, now)
    reply = "\n".join(bot.say("赵校长", "发起测评 全校 2026-11-30"))
    number = re.search(r"编号 (\d+)", reply).group(1)
    db_session.commit()
    d = build_digest(db_session, ext.settings, ts.school, dt.date(2026, 11, 23))
    assert len(d.surveys) == 1 and f"满意度测评 {number}" in d.surveys[0]
    for principal in (True, False):
        text = render_text(d, principal=principal)
        assert "满意度测评进行中" in text and "已回收 0/" in text
    after = build_digest(db_session, ext.settings, ts.school, dt.date(2026, 12, 1))
    assert after.surveys == [] and "满意度测评进行中" not in render_text(after)
    before = build_digest(db_session, ext.settings, ts.school, dt.date(2026, 11, 20))
    assert before.surveys == [], "not before it was launched"


def test_weekly_report_link_works_only_for_its_director_and_expires(ext, db_session, client, now):
    ts, bot = bound_school(ext, db_session, now)
    thursday = bj(26, 17)
    report = jobs.weekly_report(ext, thursday)
    assert report.ran, report.errors
    bot.deliver(thursday)
    text = "\n".join(bot.pop("钱主任"))
    assert "周调度" in text and "存于服务器" not in text and "仅限您本人使用" in text
    path = re.search(r"http://[^/]+(/x/\S+)", text).group(1)
    ext.clock = lambda: thursday + H
    assert client.get(path).status_code == 200  # the page with the download button
    got = client.post(path)
    assert got.status_code == 200 and "attachment" in got.headers["Content-Disposition"]
    assert "%E5%91%A8%E8%B0%83%E5%BA%A6" in got.headers["Content-Disposition"], "saved as 周调度-….xlsx"
    assert openpyxl.load_workbook(io.BytesIO(got.data)).sheetnames[0] == "周调度"
    token = path.rsplit("/", 1)[1]
    data = links.read_token(ext.settings.app.secret_key, "export", token, thursday)
    other = links.make_token(ext.settings.app.secret_key, "export", {**data, "st": ts.staff["王芳"].id},
                             thursday + H)
    assert client.post(f"/x/{other}").status_code == 403, "re-signed for someone else: refused"
    assert client.post(path).status_code == 410, "used once"
    ext.clock = lambda: thursday + dt.timedelta(hours=ext.settings.scheduler.weekly_link_hours + 1)
    assert client.get(path).status_code == 410, "expired"


def test_staff_chatting_at_night_are_answered_others_wait(ext, db_session, now):
    kw = {"parent_window": (dt.time(21, 30), dt.time(7, 30)), "staff_window": (dt.time(22), dt.time(7)), "tz": TZ}
    late = bj(23, 22, 38)
    assert hold_until("staff", False, late, last_inbound_at=late - 2 * dt.timedelta(minutes=1), **kw) is None
    assert hold_until("staff", False, late, last_inbound_at=late - 2 * H, **kw) == bj(24, 7)
    assert hold_until("group", False, late, last_inbound_at=late, **kw) == bj(24, 7, 30), "groups never"

    ts, bot = bound_school(ext, db_session, now)
    lines = bot.say("赵校长", "帮助", now=late)
    bot.deliver(late)
    assert lines or bot.pop("赵校长"), "a principal chatting at 22:38 is answered at once"
    director = identity_of(db_session, bot, "钱主任")
    to = Recipient("simulator", USER, director.external_id, ts.school.id, identity_id=director.id)
    outbox.enqueue(db_session, to, "明早例会改到八点", now=late, audience="staff")
    db_session.commit()
    bot.deliver(late)
    assert bot.pop("钱主任") == [], "a director who is not chatting waits for the morning"
    bot.deliver(bj(24, 7))
    assert bot.pop("钱主任") == ["明早例会改到八点"]
