"""Details a school would notice (issue 16, item 13): titles once, a download's plain name, coverage, praise."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from scheduler import jobs
from tests.kit import SimBot
from tests.scheduler_helpers import bound_school

TZ = ZoneInfo("Asia/Shanghai")


def bj(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=TZ).astimezone(dt.UTC)


def test_the_digest_title_appears_once(ext, db_session, now):
    ts, bot = bound_school(ext, db_session, now)
    at = bj(23, 17, 30)
    assert jobs.daily_digest(ext, at).ran
    bot.deliver(at)
    [digest] = bot.pop("赵校长")
    assert digest.count("每日简报") == 1 and digest.startswith("【测试小学 每日简报")


def test_the_weekly_title_appears_once_and_the_download_has_a_plain_name(ext, db_session, client, now):
    ts, bot = bound_school(ext, db_session, now)
    thursday = bj(26, 17)
    assert jobs.weekly_report(ext, thursday).ran
    bot.deliver(thursday)
    [weekly] = bot.pop("钱主任")
    assert weekly.count("【周调度】") == 1
    path = re.search(r"http://[^/]+(/x/\S+)", weekly).group(1)
    ext.clock = lambda: thursday
    disposition = client.post(path).headers["Content-Disposition"]  # the download is the POST
    assert 'filename="weekly-20261126.xlsx"' in disposition, disposition
    assert "filename*=UTF-8''%E5%91%A8%E8%B0%83%E5%BA%A6-20261126.xlsx" in disposition


def test_a_director_with_no_paired_families_sees_the_schools_coverage(ext, db_session, now):
    ts, bot = bound_school(ext, db_session, now)
    text = "\n".join(bot.say("钱主任", "家访名单"))
    assert "均已联系" not in text and "没有包靠" in text
    assert "全校本月家访覆盖" in text and "一年级一班 0/3" in text


def test_praise_never_promises_a_teacher_who_is_not_on_lianxin(ext, db_session, school):
    bot = SimBot(ext, db_session)
    bot.bind("张小明妈妈")
    replies = "\n".join(bot.say("张小明妈妈", "王老师很负责，孩子进步很大，谢谢王老师"))
    assert "转达给王老师" not in replies and "每日简报" in replies
    bot.bind("王芳")
    replies = "\n".join(bot.say("张小明妈妈", "王老师很负责，孩子进步很大，谢谢王老师"))
    assert "转达给王老师" in replies
    assert any("家长表扬" in line for line in bot.pop("王芳"))
