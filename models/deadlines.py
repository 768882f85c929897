"""Ticket deadlines: durations from config/tickets.yaml, working days from the State Council calendar.

Public holidays and 调休 make-up days come from the maintained
``chinesecalendar`` package (the State Council's notices, 2004 to the year it
was last released for); ``config/holidays.yaml`` holds provisional national
days only for later years the package does not cover yet, and each school's
own days off.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml
from chinese_calendar import constants as _official

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
_DURATION = re.compile(r"^\s*(\d+)\s*(h|d|wd)\s*$")


@dataclasses.dataclass(frozen=True)
class Duration:
    """A deadline length: clock hours, calendar days or working days."""

    amount: int
    unit: str  # "h" | "d" | "wd"

    @classmethod
    def parse(cls, text: str | int) -> Duration:
        """Parse ``1h``, ``2d`` or ``3wd`` (a bare number means hours)."""
        if isinstance(text, int):
            return cls(text, "h")
        match = _DURATION.match(str(text))
        if not match:
            raise ValueError(f"bad duration {text!r}: use 24h, 2d or 3wd")
        return cls(int(match.group(1)), match.group(2))


# The years the package's data covers (the State Council publishes each year's in the autumn before).
OFFICIAL_YEARS = range(min(_official.holidays).year, max(_official.holidays).year + 1)


@dataclasses.dataclass(frozen=True)
class Calendar:
    """Which local dates are working days.

    ``holidays`` and ``workdays`` are what the YAML adds: provisional national
    days of years the package does not cover, and a school's own days.
    """

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()

    def is_working_day(self, day: dt.date) -> bool:
        """Return whether ``day`` is a working day (调休 make-up days count)."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        if day.year in OFFICIAL_YEARS:
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def add_working_days(self, start: dt.datetime, days: int, tz: str) -> dt.datetime:
        """Return the same clock time on the ``days``-th working day after ``start``'s local date."""
        local = start.astimezone(ZoneInfo(tz))
        day, left = local.date(), days
        while left > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return dt.datetime.combine(day, local.timetz()).astimezone(dt.UTC)

    def add(self, start: dt.datetime, duration: Duration, tz: str) -> dt.datetime:
        """Return ``start`` plus a duration."""
        if duration.unit == "wd":
            return self.add_working_days(start, duration.amount, tz)
        if duration.unit == "d":
            return start + dt.timedelta(days=duration.amount)
        return start + dt.timedelta(hours=duration.amount)


def _read(name: str) -> dict[str, Any]:
    path = CONFIG_DIR / name
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}


def _dates(items: Any) -> set[dt.date]:
    """Expand ``2026-10-01`` and ``2026-10-01..2026-10-07`` entries."""
    result: set[dt.date] = set()
    for item in items or ():
        if isinstance(item, dt.date):
            result.add(item)
            continue
        first, _, last = str(item).partition("..")
        day, end = dt.date.fromisoformat(first.strip()), dt.date.fromisoformat((last or first).strip())
        while day <= end:
            result.add(day)
            day += dt.timedelta(days=1)
    return result


@functools.cache
def calendar(school_code: str | None = None) -> Calendar:
    """Return the holiday calendar (national, plus the school's own days off)."""
    data = _read("holidays.yaml")
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    for key, year in data.items():
        if key == "schools" or not isinstance(year, dict) or int(key) in OFFICIAL_YEARS:
            continue  # the package's official data wins over a provisional guess
        holidays |= _dates(year.get("holidays"))
        workdays |= _dates(year.get("workdays"))
    own = ((data.get("schools") or {}).get(school_code) or {}) if school_code else {}
    holidays |= _dates(own.get("holidays"))
    workdays |= _dates(own.get("workdays"))
    return Calendar(frozenset(holidays), frozenset(workdays - holidays))


@functools.cache
def deadline_rules(school_code: str | None = None) -> dict[str, dict[str, Duration]]:
    """Return {urgency: {"respond": Duration, "resolve": Duration}} for a school."""
    data = _read("tickets.yaml")
    merged: dict[str, dict[str, Any]] = {u: dict(v) for u, v in (data.get("deadlines") or {}).items()}
    own = ((data.get("schools") or {}).get(school_code) or {}).get("deadlines") or {} if school_code else {}
    for urgency, values in own.items():
        merged.setdefault(urgency, {}).update(values)
    return {u: {k: Duration.parse(v) for k, v in values.items()} for u, values in merged.items()}


def deadlines_for(urgency: str, start: dt.datetime, school_code: str | None, tz: str
                  ) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Return (respond_by, resolve_by) for a ticket of this urgency opened at ``start``."""
    rules = deadline_rules(school_code).get(urgency) or deadline_rules(school_code).get("normal") or {}
    cal = calendar(school_code)
    respond = cal.add(start, rules["respond"], tz) if "respond" in rules else None
    resolve = cal.add(start, rules["resolve"], tz) if "resolve" in rules else None
    return respond, resolve


def extend(deadline: dt.datetime | None, days: int, start: dt.datetime, school_code: str | None, tz: str
           ) -> dt.datetime:
    """Move a resolve-by deadline by ``days`` working days (an approved 延期)."""
    return calendar(school_code).add_working_days(max(deadline or start, start), days, tz)
