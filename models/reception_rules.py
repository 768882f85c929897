"""When reception days fall: the rule a leader types (每月第一个周一 14:00-17:00) as data.

A pure module: parsing the Chinese rule and time range, listing the dates a
rule gives and cutting a session into bookable slots. Dates that are not
working days (the school calendar of ``models.deadlines``) hold no session.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator

WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
ORDINALS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4, "最后一": -1, "末": -1}
_MONTHLY = re.compile(r"^每(?:个)?月(?:的)?第?(一|二|三|四|1|2|3|4|最后一|末)个?(?:周|星期|礼拜)([一二三四五六日天])$")
_WEEKLY = re.compile(r"^每(?:个)?(?:周|星期|礼拜)([一二三四五六日天])$")
_DAILY = frozenset({"每天", "每日", "工作日", "每个工作日", "每工作日", "每天值班"})
_RANGE = re.compile(r"^(\d{1,2})(?:[:：点](\d{2})?)?分?\s*[-~～—至到]+\s*(\d{1,2})(?:[:：点](\d{2})?)?分?$")
PATTERN_NAMES = {"monthly": "每月", "weekly": "每周", "daily": "每个工作日"}
WEEKDAY_NAMES = "一二三四五六日"
MAX_SLOTS = 48


class RuleError(ValueError):
    """A rule or time range that cannot be read; the message is Chinese."""


@dataclasses.dataclass(frozen=True)
class Rule:
    """A recurring reception day: ``monthly`` (nth weekday), ``weekly`` (weekday) or ``daily`` (working days)."""

    pattern: str
    weekday: int | None = None
    nth: int | None = None

    @property
    def label(self) -> str:
        """Return the rule in Chinese, e.g. 每月第一个周一."""
        if self.pattern == "daily":
            return "每个工作日"
        day = f"周{WEEKDAY_NAMES[self.weekday or 0]}"
        if self.pattern == "weekly":
            return f"每{day}"
        nth = "最后一" if self.nth == -1 else "一二三四"[(self.nth or 1) - 1]
        return f"每月第{nth}个{day}" if self.nth != -1 else f"每月最后一个{day}"

    def falls_on(self, day: dt.date) -> bool:
        """Return whether the rule names this date (before the working-day check)."""
        if self.pattern == "daily":
            return True
        if day.weekday() != self.weekday:
            return False
        if self.pattern == "weekly":
            return True
        if self.nth == -1:
            return (day + dt.timedelta(days=7)).month != day.month
        return (day.day - 1) // 7 + 1 == self.nth


def parse_rule(text: str) -> Rule:
    """Read 每月第一个周一 / 每周三 / 每天 (工作日)."""
    text = (text or "").strip().replace(" ", "")
    if text in _DAILY:
        return Rule("daily")
    match = _MONTHLY.match(text)
    if match:
        return Rule("monthly", WEEKDAYS[match.group(2)], ORDINALS[match.group(1)])
    match = _WEEKLY.match(text)
    if match:
        return Rule("weekly", WEEKDAYS[match.group(1)])
    raise RuleError(f"没看懂「{text}」。可写：每月第一个周一、每月最后一个周五、每周三、每天（工作日值班）。")


def parse_range(text: str) -> tuple[dt.time, dt.time]:
    """Read 14:00-17:00 (also 14点-17点, 8:30~11:30)."""
    match = _RANGE.match((text or "").strip())
    if not match:
        raise RuleError(f"时间段「{text}」格式不对，例如 14:00-17:00。")
    h1, m1, h2, m2 = (int(x) if x else 0 for x in match.groups())
    try:
        start, end = dt.time(h1, m1), dt.time(h2, m2)
    except ValueError as exc:
        raise RuleError(f"时间段「{text}」不是有效时间。") from exc
    if end <= start:
        raise RuleError("结束时间须晚于开始时间。")
    return start, end


def slot_starts(day: dt.date, start: dt.time, end: dt.time, slots: int) -> list[dt.time]:
    """Cut a session into ``slots`` equal appointments (whole minutes); return their local start times."""
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    step = max(minutes // max(slots, 1), 1)
    first = dt.datetime.combine(day, start)
    return [(first + dt.timedelta(minutes=step * i)).time() for i in range(min(slots, minutes))]


def slot_minutes(start: dt.time, end: dt.time, slots: int) -> int:
    """Return the length of one appointment in minutes."""
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return max(minutes // max(slots, 1), 1)


def dates(rule: Rule, first: dt.date, is_working_day: Callable[[dt.date], bool], limit_days: int = 120
          ) -> Iterator[dt.date]:
    """Yield the session dates from ``first`` on (working days only), looking at most ``limit_days`` ahead."""
    for offset in range(limit_days):
        day = first + dt.timedelta(days=offset)
        if rule.falls_on(day) and is_working_day(day):
            yield day


def working_day_index(day: dt.date, anchor: dt.date, is_working_day: Callable[[dt.date], bool]) -> int:
    """Return how many working days lie between ``anchor`` and ``day`` (the rota turns on it)."""
    return sum(1 for n in range((day - anchor).days) if is_working_day(anchor + dt.timedelta(days=n)))
