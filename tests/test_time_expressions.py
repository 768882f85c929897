"""Chinese time expressions (明天早上8点, 下周一 7:30, 周五下午 …) relative to an injected now (issue 16, item 4)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from handlers.time_expressions import chinese_number, describe, parse_time, to_chinese_number

TZ = "Asia/Shanghai"
BJ = ZoneInfo(TZ)
# Monday 2026-11-23 10:00 in Beijing (the test clock).
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=BJ)
WEEKDAYS = "一二三四五六日"


def bj(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BJ)


@pytest.mark.parametrize(("text", "expected"), [
    ("明天早上8点", bj(2026, 11, 24, 8, 0)),
    ("明早8点", bj(2026, 11, 24, 8, 0)),
    ("下周一 7:30", bj(2026, 11, 30, 7, 30)),
    ("周五下午", bj(2026, 11, 27, 14, 0)),
    ("周五下午3点", bj(2026, 11, 27, 15, 0)),
    ("后天 15:00", bj(2026, 11, 25, 15, 0)),
    ("12月8日 8点半", bj(2026, 12, 8, 8, 30)),
    ("十二月八号上午九点一刻", bj(2026, 12, 8, 9, 15)),
    ("2026-12-01 08:00", bj(2026, 12, 1, 8, 0)),
    ("2026年12月1日8:00", bj(2026, 12, 1, 8, 0)),
    ("今晚七点", bj(2026, 11, 23, 19, 0)),
    ("晚上8点", bj(2026, 11, 23, 20, 0)),
    ("8点", bj(2026, 11, 24, 8, 0)),  # 08:00 today has passed: tomorrow
    ("下午两点", bj(2026, 11, 23, 14, 0)),
    ("中午12点", bj(2026, 11, 23, 12, 0)),
    ("中午1点", bj(2026, 11, 23, 13, 0)),
    ("周一 7:30", bj(2026, 11, 30, 7, 30)),  # today's 7:30 has passed: next Monday
    ("星期三早上七点二十", bj(2026, 11, 25, 7, 20)),
    ("礼拜天上午10点", bj(2026, 11, 29, 10, 0)),
    ("下下周二 9:00", bj(2026, 12, 8, 9, 0)),
    ("1月5日 8:00", bj(2027, 1, 5, 8, 0)),  # January has passed this year: next year's
    ("30号下午4点", bj(2026, 11, 30, 16, 0)),
    ("半小时后", bj(2026, 11, 23, 10, 30)),
    ("2小时后", bj(2026, 11, 23, 12, 0)),
    ("１２月８日　８：３０", bj(2026, 12, 8, 8, 30)),  # full width
])
def test_common_expressions(text, expected):
    match = parse_time(text, NOW, TZ)
    assert match is not None, text
    assert match.when == expected.astimezone(dt.UTC) and match.end == len(text)


@pytest.mark.parametrize("text", ["明天", "下周一", "全校 明天8点", "2月30日 8点", "25点", "8点61分", "十二月三十二日 8点",
                                  "周八 8点", ""])
def test_what_is_not_an_exact_time(text):
    assert parse_time(text, NOW, TZ) is None


def test_describe_echoes_the_exact_time_with_its_weekday():
    assert describe(bj(2026, 11, 24, 8, 0).astimezone(dt.UTC), TZ) == "2026年11月24日（周二）08:00"


nows = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=BJ))
ahead = st.integers(min_value=1, max_value=300 * 24 * 60)


@given(nows, ahead)
def test_iso_date_and_clock_round_trip(now, minutes):
    t = now + dt.timedelta(minutes=minutes)
    t = dt.datetime(t.year, t.month, t.day, t.hour, t.minute, tzinfo=BJ)
    assume(t > now)
    text = f"{t:%Y-%m-%d %H:%M}"
    assert parse_time(text, now, TZ).when == t.astimezone(dt.UTC)


@given(nows, ahead, st.booleans(), st.booleans())
def test_month_day_in_chinese_numerals_round_trip(now, minutes, chinese, period):
    t = now + dt.timedelta(minutes=minutes)
    t = dt.datetime(t.year, t.month, t.day, t.hour, t.minute, tzinfo=BJ)
    assume(t > now and t.date() != now.date())
    num = to_chinese_number if chinese else str
    hour = t.hour
    words = ""
    if period and 13 <= hour <= 17:
        words, hour = "下午", hour - 12
    elif 1 <= hour <= 6:
        words = "凌晨"  # a bare 1–6 点 is read as afternoon
    clock = f"{num(hour)}点{num(t.minute)}分" if t.minute else f"{num(hour)}点"
    text = f"{num(t.month)}月{num(t.day)}日{words}{clock}"
    assert parse_time(text, now, TZ).when == t.astimezone(dt.UTC), text


@given(nows, st.integers(min_value=0, max_value=6), st.integers(min_value=7, max_value=21), st.booleans())
def test_weekday_is_the_next_such_day(now, weekday, hour, plain):
    word = "周" if plain else "星期"
    match = parse_time(f"{word}{WEEKDAYS[weekday]} {hour}:00", now, TZ)
    local = match.when.astimezone(BJ)
    assert local.weekday() == weekday and (local.hour, local.minute) == (hour, 0)
    assert dt.timedelta(0) < local - now <= dt.timedelta(days=7)


@given(nows, st.integers(min_value=0, max_value=6))
def test_next_week_is_the_monday_based_week_after_this_one(now, weekday):
    local = parse_time(f"下周{WEEKDAYS[weekday]} 8点", now, TZ).when.astimezone(BJ)
    this_monday = now.date() - dt.timedelta(days=now.weekday())
    assert local.date() == this_monday + dt.timedelta(days=7 + weekday)


@given(nows, st.sampled_from(["明天早上8点", "下周一 7:30", "周五下午", "后天 15:00", "12月8日 8点半", "2小时后", "明天8点"]),
       st.sampled_from([" 全校 明早升旗", "全校 家长会", " 一年级一班、一年级二班 穿校服", "三年级一班 穿校服"]))
def test_the_expression_ends_where_the_scope_begins(now, expression, rest):
    match = parse_time(expression + rest, now, TZ)
    assert match is not None and match.end == len(expression)
    if not expression.startswith("12月8日"):  # a named day's time may have passed: the caller refuses it
        assert match.when > now.astimezone(dt.UTC)


@given(nows, st.integers(min_value=1, max_value=600), st.sampled_from(["分钟后", "分钟以后", "分钟之后"]))
def test_minutes_from_now(now, n, suffix):
    assert parse_time(f"{n}{suffix}", now, TZ).when == (now + dt.timedelta(minutes=n)).astimezone(dt.UTC)


@given(st.integers(min_value=0, max_value=99))
def test_chinese_numbers_round_trip(n):
    assert chinese_number(to_chinese_number(n)) == n
    assert chinese_number(str(n)) == n
