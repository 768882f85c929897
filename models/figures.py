"""The school's three figures, defined once: 响应率, 按期办结率, 满意率.

Every reader — the daily digest, the 周调度 report, the Excel ledger and the
web console to come — asks this module, so a school never sees two truths.
The API is ``(session, school, period) → figures``:

* ``school_figures(session, school_id, period)`` → ``Figures``
* ``assignee_figures(session, school_id, period)`` → ``{assignee name: Figures}``

A ``Period`` runs from ``start`` to ``end`` (UTC); ``end`` is also the moment
the figures are "as of", so a report made at 17:30 passes 17:30, never the end
of the day (``Period.month_to``, ``week_to``, ``day_of`` build the usual ones).

Definitions (hotline style, by each ticket's own deadlines):

* 响应率 — of the tickets opened in the period whose respond-by has come or
  that were responded to (both before ``end``), those responded to by their
  respond-by;
* 按期办结率 — the same with resolve-by and resolution (a resolution later
  sent back, 驳回 or 重办, no longer counts as one);
* 满意率 — of the 回访 answers given in the period, (满意 + 基本满意) /
  (满意 + 基本满意 + 不满意), the bureau's formula; a 回访 closed unanswered
  (未回访) is counted apart (``not_reached``) and never in the rate.

Each figure is an aggregate query on the school's indexes (tickets by
``(school_id, created_at)``, events through ``(school_id, updated_at)``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from models.directory import Staff
from models.labels import SATISFACTION_NAMES
from models.tickets import Ticket, TicketEvent

# The 回访 event's text is the answer's Chinese name.
ANSWERS = {name: code for code, name in SATISFACTION_NAMES.items()}
UNASSIGNED = "未分派"


@dataclasses.dataclass(frozen=True)
class Period:
    """From ``start`` to ``end`` (UTC); the figures are as of ``end``."""

    start: dt.datetime
    end: dt.datetime

    @classmethod
    def month_to(cls, moment: dt.datetime, tz: str) -> Period:
        """Return the local calendar month up to ``moment`` (本月累计)."""
        local = moment.astimezone(ZoneInfo(tz))
        return cls(dt.datetime(local.year, local.month, 1, tzinfo=local.tzinfo).astimezone(dt.UTC), moment)

    @classmethod
    def week_to(cls, moment: dt.datetime, tz: str) -> Period:
        """Return the local week (from Monday 00:00) up to ``moment`` (本周)."""
        local = moment.astimezone(ZoneInfo(tz))
        monday = dt.datetime.combine(local.date() - dt.timedelta(days=local.weekday()), dt.time(0), local.tzinfo)
        return cls(monday.astimezone(dt.UTC), moment)

    @classmethod
    def day_of(cls, date: dt.date, tz: str, now: dt.datetime | None = None) -> Period:
        """Return a local day, up to ``now`` when the day is not over yet."""
        start = dt.datetime.combine(date, dt.time(0), ZoneInfo(tz))
        end = (start + dt.timedelta(days=1)).astimezone(dt.UTC)
        return cls(start.astimezone(dt.UTC), min(end, now) if now is not None else end)


@dataclasses.dataclass
class Figures:
    """The counts behind the three figures, and the figures (None when nothing counts yet)."""

    respond_due: int = 0
    responded_in_time: int = 0
    resolve_due: int = 0
    resolved_in_time: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    not_reached: int = 0

    @property
    def response_rate(self) -> float | None:
        """Return 响应率 (None when no respond-by has come)."""
        return self.responded_in_time / self.respond_due if self.respond_due else None

    @property
    def on_time_rate(self) -> float | None:
        """Return 按期办结率 (None when no resolve-by has come)."""
        return self.resolved_in_time / self.resolve_due if self.resolve_due else None

    @property
    def satisfaction_rate(self) -> float | None:
        """Return 满意率 = (满意+基本满意)/(满意+基本满意+不满意) (None before any answer)."""
        answered = self.satisfied + self.basic + self.unsatisfied
        return (self.satisfied + self.basic) / answered if answered else None

    def add(self, **counts: int) -> None:
        """Add counts to the named fields."""
        for name, n in counts.items():
            setattr(self, name, getattr(self, name) + int(n or 0))


def school_figures(session: Session, school_id: int, period: Period, as_of: dt.datetime | None = None) -> Figures:
    """Return the school's figures for ``period``.

    ``as_of`` (default ``period.end``) judges the deadlines of the period's tickets at a later moment:
    the console's weekly trend takes each week's tickets as they stand now.
    """
    total = Figures()
    for figures in _gather(session, school_id, period, as_of).values():
        total.add(**dataclasses.asdict(figures))
    return total


def weekly_figures(session: Session, school_id: int, periods: list[Period], as_of: dt.datetime) -> list[Figures]:
    """Return the school's figures for each of consecutive ``periods`` (the console's trend), judged as of ``as_of``.

    The same definitions as ``school_figures`` (one call per period gives the
    same numbers), in three grouped queries instead of three per period.
    """
    result = [Figures() for _ in periods]
    if not periods:
        return result
    start, end = periods[0].start, periods[-1].end

    def bucket(column: Any) -> Any:
        return case(*((column < p.end, n) for n, p in enumerate(periods)), else_=len(periods))

    week = bucket(Ticket.created_at)
    for n, *sums in session.execute(
            select(week, *deadline_columns(as_of)).where(
                Ticket.school_id == school_id, Ticket.created_at >= start, Ticket.created_at < end).group_by(week)):
        result[n].add(**dict(zip(DEADLINE_FIELDS, sums, strict=True)))
    answered = bucket(TicketEvent.at)
    for n, answer, count in session.execute(
            select(answered, TicketEvent.text, func.count()).join(Ticket, TicketEvent.ticket_id == Ticket.id)
            .where(*touched_since(school_id, start), TicketEvent.action == "callback_answered",
                   TicketEvent.at >= start, TicketEvent.at < end, TicketEvent.text.in_(ANSWERS))
            .group_by(answered, TicketEvent.text)):
        result[n].add(**{ANSWERS[answer]: count})
    closed = bucket(Ticket.closed_at)
    for n, count in session.execute(
            select(closed, func.count()).where(*touched_since(school_id, start), Ticket.close_reason == "not_reached",
                                               Ticket.closed_at >= start, Ticket.closed_at < end).group_by(closed)):
        result[n].add(not_reached=count)
    return result


def assignee_figures(session: Session, school_id: int, period: Period) -> dict[str, Figures]:
    """Return the figures per assignee (``未分派`` for tickets nobody holds)."""
    return _gather(session, school_id, period)


def count_if(condition: Any) -> Any:
    """Return ``SUM(CASE WHEN condition THEN 1 ELSE 0 END)`` (0 over no rows)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def deadline_columns(end: dt.datetime) -> tuple[Any, ...]:
    """Return SQL sums of (respond due, responded in time, resolve due, resolved in time) as of ``end``."""
    responded = and_(Ticket.responded_at.is_not(None), Ticket.responded_at < end)
    resolved = and_(Ticket.resolved_at.is_not(None), Ticket.resolved_at < end)
    return (
        count_if(and_(Ticket.respond_by.is_not(None), or_(Ticket.respond_by < end, responded))),
        count_if(and_(Ticket.respond_by.is_not(None), responded, Ticket.responded_at <= Ticket.respond_by)),
        count_if(and_(Ticket.resolve_by.is_not(None), or_(Ticket.resolve_by < end, resolved))),
        count_if(and_(Ticket.resolve_by.is_not(None), resolved, Ticket.resolved_at <= Ticket.resolve_by)),
    )


DEADLINE_FIELDS = ("respond_due", "responded_in_time", "resolve_due", "resolved_in_time")


def touched_since(school_id: int, since: dt.datetime) -> tuple[Any, ...]:
    """Return the conditions for a school's tickets with any event since ``since``.

    ``add_event`` sets ``updated_at`` to the event's time, so the index
    ``(school_id, updated_at)`` finds a school's few such tickets instead of
    every event of the district in that period.
    """
    return Ticket.school_id == school_id, Ticket.updated_at >= since


def _gather(session: Session, school_id: int, period: Period, as_of: dt.datetime | None = None
            ) -> dict[str, Figures]:
    start, end = period.start, period.end
    people: dict[str, Figures] = {}
    assignee = aliased(Staff)
    for name, *sums in session.execute(
            select(assignee.name, *deadline_columns(as_of or end)).select_from(Ticket)
            .outerjoin(assignee, Ticket.assignee_id == assignee.id)
            .where(Ticket.school_id == school_id, Ticket.created_at >= start, Ticket.created_at < end)
            .group_by(Ticket.assignee_id, assignee.name)):
        people.setdefault(name or UNASSIGNED, Figures()).add(**dict(zip(DEADLINE_FIELDS, sums, strict=True)))
    for name, answer, n in session.execute(
            select(assignee.name, TicketEvent.text, func.count())
            .join(Ticket, TicketEvent.ticket_id == Ticket.id)
            .outerjoin(assignee, Ticket.assignee_id == assignee.id)
            .where(*touched_since(school_id, start), TicketEvent.action == "callback_answered",
                   TicketEvent.at >= start, TicketEvent.at < end, TicketEvent.text.in_(ANSWERS))
            .group_by(Ticket.assignee_id, assignee.name, TicketEvent.text)):
        people.setdefault(name or UNASSIGNED, Figures()).add(**{ANSWERS[answer]: n})
    for name, n in session.execute(
            select(assignee.name, func.count()).select_from(Ticket)
            .outerjoin(assignee, Ticket.assignee_id == assignee.id)
            .where(*touched_since(school_id, start), Ticket.close_reason == "not_reached",
                   Ticket.closed_at >= start, Ticket.closed_at < end)
            .group_by(Ticket.assignee_id, assignee.name)):
        people.setdefault(name or UNASSIGNED, Figures()).add(not_reached=n)
    return people
