"""Common Chinese time expressions at the start of a text, resolved against an injected ``now``.

Understood (any mix of Chinese and Arabic numerals, full-width forms, with or
without spaces between the parts):

* dates: ``2026-12-01``, ``2026年12月1日``, ``12月8日``/``12月8号``, ``8号``,
  ``今天``/``明天``/``后天``/``大后天``, ``今晚``/``明早``/``明晚``,
  ``周五``/``星期五``/``礼拜五`` (the next such day), ``这周五``/``本周五``,
  ``下周一``, ``下下周二`` (Monday-based weeks);
* periods: ``凌晨 早上 上午 中午 下午 傍晚 晚上``; alone they mean 06:00, 08:00,
  09:00, 12:00, 14:00, 17:00, 19:00;
* clock times: ``8点``, ``8点半``, ``九点一刻``, ``七点二十``, ``8:30``; 下午/晚上 add
  12 hours, and a bare 1–6 点 is read as afternoon (no school message goes out
  at 3 in the morning; ``凌晨3点`` says so explicitly);
* from now: ``半小时后``, ``2小时后``, ``30分钟后``.

A date without a time of day is not an exact time and gives None, as does an
impossible date or time. The caller echoes ``describe(when)`` so the sender
sees exactly what was understood.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from handlers.commands import fold_width

_DIGITS = "零一二三四五六七八九"
_NUM = r"[0-9零〇一二两三四五六七八九十]{1,3}"
_WEEKDAY = {c: i for i, c in enumerate("一二三四五六日")} | {"天": 6} | {str(i + 1): i for i in range(7)}
PERIOD_DEFAULTS = {"凌晨": (6, 0), "早上": (8, 0), "早晨": (8, 0), "清晨": (7, 0), "上午": (9, 0), "中午": (12, 0),
                   "下午": (14, 0), "傍晚": (17, 0), "晚上": (19, 0), "夜里": (21, 0)}
_AFTERNOON = frozenset({"下午", "傍晚", "晚上", "夜里"})
_DAY_WORDS = {"今天": (0, None), "今日": (0, None), "今晚": (0, "晚上"), "明天": (1, None), "明日": (1, None),
              "明早": (1, "早上"), "明晚": (1, "晚上"), "后天": (2, None), "大后天": (3, None)}

_SPACE = r"\s*"
_ISO = re.compile(rf"(\d{{4}})\s*[-/.年]\s*({_NUM})\s*[-/.月]\s*({_NUM})(?:\s*[日号])?")
_MONTH_DAY = re.compile(rf"({_NUM})\s*月\s*({_NUM})\s*[日号]")
_DAY_OF_MONTH = re.compile(rf"({_NUM})\s*[日号]")
_DAY_WORD = re.compile("|".join(sorted(map(re.escape, _DAY_WORDS), key=len, reverse=True)))
_WEEK = re.compile(r"(下下|下|这|本)?\s*(?:周|星期|礼拜)([一二三四五六日天1-7])")
_PERIOD = re.compile("|".join(PERIOD_DEFAULTS))
_CLOCK_COLON = re.compile(r"(\d{1,2})\s*:\s*(\d{2})")
# Minutes follow 点 directly; a number before 年/级/班/月/日/号 is the scope (8点三年级一班), not minutes.
_CLOCK_WORDS = re.compile(rf"({_NUM})\s*[点时](?:(半|一刻|三刻|整)|({_NUM})(?:分|(?![年级班月日号])))?")
_FROM_NOW = re.compile(rf"(半|{_NUM})\s*个?\s*(小时|钟头|分钟)\s*(?:后|以后|之后)")


@dataclasses.dataclass(frozen=True)
class TimeMatch:
    """An exact time found at the start of a text."""

    when: dt.datetime  # UTC
    end: int  # how many characters of the text the expression took


def chinese_number(text: str) -> int | None:
    """Return the value of ``8``, ``八``, ``两``, ``十二``, ``二十三`` (0–99), or None."""
    text = text.replace("〇", "零").replace("两", "二")
    if text.isdigit():
        return int(text)
    if not text or any(c not in _DIGITS + "十" for c in text) or text.count("十") > 1:
        return None
    if "十" not in text:
        return _DIGITS.index(text) if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or tens == "零":
        return None
    return (_DIGITS.index(tens) if tens else 1) * 10 + (_DIGITS.index(ones) if ones else 0)


def to_chinese_number(n: int) -> str:
    """Return 0–99 in Chinese numerals (``二十三``)."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def describe(when: dt.datetime, tz: str) -> str:
    """Return an exact local time for a preview: ``2026年11月24日（周二）08:00``."""
    t = when.astimezone(ZoneInfo(tz))
    return f"{t.year}年{t.month}月{t.day}日（周{'一二三四五六日'[t.weekday()]}）{t:%H:%M}"


def parse_time(text: str, now: dt.datetime, tz: str) -> TimeMatch | None:
    """Return the exact time a text starts with (relative to ``now`` in ``tz``), or None."""
    zone = ZoneInfo(tz)
    folded = fold_width(text or "")
    local_now = now.astimezone(zone)
    pos = len(folded) - len(folded.lstrip())
    relative = _FROM_NOW.match(folded, pos)
    if relative:
        amount = 0.5 if relative.group(1) == "半" else chinese_number(relative.group(1))
        if amount is None:
            return None
        unit = dt.timedelta(minutes=1) if relative.group(2) == "分钟" else dt.timedelta(hours=1)
        return TimeMatch((local_now + amount * unit).astimezone(dt.UTC), relative.end())
    date, period, end, explicit_year = _date(folded, pos, local_now)
    if date is False:
        return None
    found = _PERIOD.match(folded, _skip_space(folded, end))
    if found:
        period, end = found.group(), found.end()
    clock_at = _skip_space(folded, end)
    clock, clock_end = _clock(folded, clock_at)
    if clock is False:
        return None
    if clock is not None:
        end = clock_end
    if clock is None and period is None:
        return None  # a day without a time of day is not an exact time
    hour, minute = clock if clock is not None else PERIOD_DEFAULTS[period]
    hour = _adjust(hour, period, clock is not None, colon=bool(_CLOCK_COLON.match(folded, clock_at)))
    if date is None:  # a time alone: today, or tomorrow once it has passed
        when = _at(local_now.date(), hour, minute, zone)
        if when is not None and when <= local_now:
            when = _at(local_now.date() + dt.timedelta(days=1), hour, minute, zone)
    else:
        day, roll = date
        when = _at(day, hour, minute, zone)
        if when is not None and when <= local_now and roll is not None and not explicit_year:
            when = roll(hour, minute)
    if when is None:
        return None
    return TimeMatch(when.astimezone(dt.UTC), end)


def parse_day(text: str, now: dt.datetime, tz: str) -> tuple[dt.date, int] | None:
    """Return the date a text starts with (12月7日, 下周一, 明天 …) and how many characters it took, or None."""
    folded = fold_width(text or "")
    pos = len(folded) - len(folded.lstrip())
    date, _, end, _ = _date(folded, pos, now.astimezone(ZoneInfo(tz)))
    return (date[0], end) if date else None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _at(day: dt.date, hour: int, minute: int, zone: ZoneInfo) -> dt.datetime | None:
    if hour == 24 and minute == 0:
        day, hour = day + dt.timedelta(days=1), 0
    try:
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    except ValueError:
        return None


def _date(text: str, pos: int, now: dt.datetime) -> tuple[Any, str | None, int, bool]:
    """Return (date and its roll-over, the period it implies, new position, explicit year); date False if invalid.

    The roll-over gives the next occurrence when the time on that date has
    passed: next week for a plain weekday (周一 7:30 said on a Monday at 10:00).
    A date gone by (12月8日 in December's second week) means next year's, and
    ``8号`` next month's; a time already passed on a named day is left for the
    caller to refuse.
    """
    zone = now.tzinfo
    today = now.date()
    match = _ISO.match(text, pos)
    if match:
        year, month, day = int(match.group(1)), chinese_number(match.group(2)), chinese_number(match.group(3))
        found = _make_date(year, month, day)
        return (False if found is None else (found, None)), None, match.end(), True
    match = _MONTH_DAY.match(text, pos)
    if match:
        month, day = chinese_number(match.group(1)), chinese_number(match.group(2))
        found = _make_date(today.year, month, day)
        if found is None or found < today:  # a date gone by this year (or 2月29日) means next year's
            found = _make_date(today.year + 1, month, day)
        if found is None:
            return False, None, pos, False
        return (found, None), None, match.end(), False
    match = _DAY_WORD.match(text, pos)
    if match:
        offset, period = _DAY_WORDS[match.group()]
        return (today + dt.timedelta(days=offset), None), period, match.end(), False
    match = _WEEK.match(text, pos)
    if match:
        weekday = _WEEKDAY[match.group(2)]
        monday = today - dt.timedelta(days=today.weekday())
        prefix = match.group(1)
        if prefix in ("下", "下下"):
            day = monday + dt.timedelta(days=(7 if prefix == "下" else 14) + weekday)
            return (day, None), None, match.end(), False
        if prefix in ("这", "本"):
            return (monday + dt.timedelta(days=weekday), None), None, match.end(), False
        day = today + dt.timedelta(days=(weekday - today.weekday()) % 7)
        return (day, lambda h, m: _at(day + dt.timedelta(days=7), h, m, zone)), None, match.end(), False
    match = _DAY_OF_MONTH.match(text, pos)
    if match:
        day_n = chinese_number(match.group(1))
        found = _make_date(today.year, today.month, day_n)
        if found is None or found < today:
            month = today.month % 12 + 1
            found = _make_date(today.year + (today.month == 12), month, day_n)
        if found is None:
            return False, None, pos, False
        return (found, None), None, match.end(), False
    return None, None, pos, False


def _make_date(year: int, month: int | None, day: int | None) -> dt.date | None:
    if month is None or day is None:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _clock(text: str, pos: int) -> tuple[tuple[int, int] | None | bool, int]:
    """Return ((hour, minute) or None when there is no clock, False when it is malformed; new position)."""
    match = _CLOCK_COLON.match(text, pos)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        return ((hour, minute) if hour <= 24 and minute < 60 else False), match.end()
    match = _CLOCK_WORDS.match(text, pos)
    if not match:
        return None, pos
    hour = chinese_number(match.group(1))
    extra = match.group(2)
    minute = {"半": 30, "一刻": 15, "三刻": 45, "整": 0}[extra] if extra else (
        chinese_number(match.group(3)) if match.group(3) else 0)
    if hour is None or minute is None or hour > 24 or minute > 59:
        return False, match.end()
    return (hour, minute), match.end()


def _adjust(hour: int, period: str | None, has_clock: bool, colon: bool = False) -> int:
    """Apply the period to a clock hour (下午3点 → 15, 晚上12点 → 24, i.e. midnight).

    ``colon`` (8:30, 03:00) is a 24-hour clock: only a bare 1–6 点 is taken for the afternoon.
    """
    if not has_clock:
        return hour
    if period in _AFTERNOON:
        if hour == 12:
            return 24 if period in ("晚上", "夜里") else 12
        return hour + 12 if hour < 12 else hour
    if period == "中午":
        return hour + 12 if 1 <= hour <= 2 else hour
    if period == "凌晨":
        return 0 if hour == 12 else hour
    if period is None and not colon and 1 <= hour <= 6:
        return hour + 12  # a bare 3点 at a school is three in the afternoon
    return hour
