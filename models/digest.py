"""The daily digest's figures for one school and one local date (rendering: ``digest_render``).

Hotline-style rates (this month to date, by the tickets' own deadlines):

* 响应率 — tickets responded by respond-by / tickets whose respond-by has come
  (or that were responded to);
* 按期办结率 — tickets resolved by resolve-by / tickets whose resolve-by has come
  (or that were resolved);
* 满意率 — (满意+基本满意) / (满意+基本满意+不满意) over the 回访 answers; a
  callback closed as 未回访 (not reached) is counted apart, never in the rate.

Every figure is an aggregate query (GROUP BY counts, conditional sums per
assignee) on the school's indexes; ticket lists fetch only the lines a
digest shows (``SHOWN``) plus their totals, so a school's digest costs the
same whether it has a hundred open tickets or ten thousand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from config.settings import Settings
from models.directory import School, Staff
from models.praise import Praise
from models.ticket_notify import category_name
from models.tickets import OPEN_STATES, Ticket, TicketEvent
from models.visits import ClassCoverage, coverage_by_class, month_start

ANSWERS = {"满意": "satisfied", "基本满意": "basic", "不满意": "unsatisfied"}
SHOWN = 8  # lines a digest list shows; the rest is a count
UNASSIGNED = "未分派"


@dataclasses.dataclass
class Rates:
    """Counts behind the three hotline rates."""

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
        """Return 响应率 (None when nothing was due)."""
        return self.responded_in_time / self.respond_due if self.respond_due else None

    @property
    def on_time_rate(self) -> float | None:
        """Return 按期办结率."""
        return self.resolved_in_time / self.resolve_due if self.resolve_due else None

    @property
    def satisfaction_rate(self) -> float | None:
        """Return 满意率 = (满意+基本满意)/(满意+基本满意+不满意)."""
        answered = self.satisfied + self.basic + self.unsatisfied
        return (self.satisfied + self.basic) / answered if answered else None

    def add(self, **counts: int) -> None:
        """Add counts to the named fields."""
        for name, n in counts.items():
            setattr(self, name, getattr(self, name) + int(n or 0))


@dataclasses.dataclass(frozen=True)
class TicketLine:
    """One ticket as a digest lists it."""

    number: str
    category: str
    urgency: str
    assignee: str
    text: str
    deadline: dt.datetime | None = None
    answer: str | None = None
    about_staff: bool = False


@dataclasses.dataclass
class TicketList:
    """The first lines of a list of tickets (enough for either reader) and how many there are."""

    lines: list[TicketLine] = dataclasses.field(default_factory=list)
    total: int = 0
    about_staff: int = 0  # how many of ``total`` are complaints about staff (principal only)

    def __iter__(self) -> Iterator[TicketLine]:
        return iter(self.lines)

    def visible(self, principal: bool) -> tuple[list[TicketLine], int]:
        """Return the lines this reader sees (at most ``SHOWN``) and how many the list has for them."""
        lines = [x for x in self.lines if principal or not x.about_staff][:SHOWN]
        return lines, self.total if principal else self.total - self.about_staff


@dataclasses.dataclass
class Digest:
    """Everything a director or principal reads at the end of a day."""

    school: str
    date: dt.date
    new_total: int = 0
    new_by_category: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    new_by_urgency: dict[str, int] = dataclasses.field(default_factory=dict)
    open_urgent: TicketList = dataclasses.field(default_factory=TicketList)
    overdue: TicketList = dataclasses.field(default_factory=TicketList)
    resolved_today: int = 0
    today: Rates = dataclasses.field(default_factory=Rates)  # callback results of the day
    month: Rates = dataclasses.field(default_factory=Rates)
    by_assignee: list[tuple[str, Rates]] = dataclasses.field(default_factory=list)
    lowest: list[TicketLine] = dataclasses.field(default_factory=list)
    staff_complaints: TicketList = dataclasses.field(default_factory=TicketList)
    praise: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    coverage: list[ClassCoverage] = dataclasses.field(default_factory=list)
    surveys: list[str] = dataclasses.field(default_factory=list)  # one line per open survey
    actions: list[str] = dataclasses.field(default_factory=list)




def day_bounds(date: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC start and end of a local date."""
    start = dt.datetime.combine(date, dt.time(0), tzinfo=tz)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def build_digest(session: Session, settings: Settings, school: School, date: dt.date) -> Digest:
    """Return the digest of ``school`` for the local ``date`` (figures as of that day's end)."""
    from models.survey_results import digest_lines

    tz = ZoneInfo(settings.scheduler.timezone)
    start, end = day_bounds(date, tz)
    since = month_start(start, tz)
    d = Digest(school.name, date)
    people: dict[str, Rates] = {}
    _new(session, d, school.id, start, end)
    _month_rates(session, d, people, school.id, since, end)
    _open(session, d, school.id, end)
    _callbacks(session, d, people, school.id, since, start, end)
    d.by_assignee = sorted(people.items(), key=lambda kv: (_sort_rate(kv[1]), kv[0]))
    # Events, not ``resolved_at``: a resolution the parent rejected (重办) still happened today.
    d.resolved_today = session.scalar(select(func.count()).select_from(TicketEvent).join(Ticket).where(
        *touched_since(school.id, start), TicketEvent.action == "resolved",
        TicketEvent.at >= start, TicketEvent.at < end)) or 0
    d.praise = [(name or "学校", text) for name, text in session.execute(
        select(Staff.name, Praise.text).outerjoin(Staff, Praise.staff_id == Staff.id)
        .where(Praise.school_id == school.id, Praise.at >= start, Praise.at < end).order_by(Praise.at))]
    d.coverage = coverage_by_class(session, school.id, now=end - dt.timedelta(microseconds=1), tz=tz)
    d.surveys = digest_lines(session, school.id, end - dt.timedelta(microseconds=1), settings.scheduler.timezone)
    _actions(d)
    return d


def touched_since(school_id: int, since: dt.datetime) -> tuple[Any, ...]:
    """Return the conditions for a school's tickets with any event since ``since``.

    ``add_event`` sets ``updated_at`` to the event's time, so a ticket with an
    event in a period was updated since the period began: the index
    ``(school_id, updated_at)`` finds a school's few such tickets instead of
    every event of the district in that period.
    """
    return Ticket.school_id == school_id, Ticket.updated_at >= since


def _new(session: Session, d: Digest, school_id: int, start: dt.datetime, end: dt.datetime) -> None:
    categories: Counter[str] = Counter()
    for category, urgency, n in session.execute(
            select(Ticket.category, Ticket.urgency, func.count()).where(
                Ticket.school_id == school_id, Ticket.created_at >= start, Ticket.created_at < end)
            .group_by(Ticket.category, Ticket.urgency)):
        d.new_total += n
        categories[category_name(category)] += n
        d.new_by_urgency[urgency] = d.new_by_urgency.get(urgency, 0) + n
    d.new_by_category = sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))


def count_if(condition: Any) -> Any:
    """Return ``SUM(CASE WHEN condition THEN 1 ELSE 0 END)`` (0 over no rows)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def rate_columns(end: dt.datetime) -> tuple[Any, ...]:
    """Return SQL sums of (respond due, responded in time, resolve due, resolved in time) as of ``end``.

    Due: the deadline has come or the step was done; in time: done by the deadline.
    """
    return (
        count_if(and_(Ticket.respond_by.is_not(None), or_(Ticket.respond_by < end, Ticket.responded_at.is_not(None)))),
        count_if(and_(Ticket.respond_by.is_not(None), Ticket.responded_at <= Ticket.respond_by)),
        count_if(and_(Ticket.resolve_by.is_not(None), or_(Ticket.resolve_by < end, Ticket.resolved_at.is_not(None)))),
        count_if(and_(Ticket.resolve_by.is_not(None), Ticket.resolved_at <= Ticket.resolve_by)),
    )


def _month_rates(session: Session, d: Digest, people: dict[str, Rates], school_id: int, since: dt.datetime,
                 end: dt.datetime) -> None:
    assignee = aliased(Staff)
    for name, *sums in session.execute(
            select(assignee.name, *rate_columns(end)).select_from(Ticket)
            .outerjoin(assignee, Ticket.assignee_id == assignee.id)
            .where(Ticket.school_id == school_id, Ticket.created_at >= since, Ticket.created_at < end)
            .group_by(Ticket.assignee_id, assignee.name)):
        counts = dict(zip(("respond_due", "responded_in_time", "resolve_due", "resolved_in_time"), sums, strict=True))
        d.month.add(**counts)
        people.setdefault(name or UNASSIGNED, Rates()).add(**counts)


def _sort_rate(r: Rates) -> float:
    rates = [x for x in (r.response_rate, r.on_time_rate) if x is not None]
    return min(rates) if rates else 1.0


def _line_columns() -> tuple[tuple[Any, ...], Any]:
    assignee = aliased(Staff)
    return (Ticket.number, Ticket.category, Ticket.urgency, assignee.name, Ticket.text, Ticket.resolve_by,
            Ticket.about_staff_id), assignee


def _lines(session: Session, where: list[Any], order: list[Any], limit: int) -> list[TicketLine]:
    cols, assignee = _line_columns()
    rows = session.execute(select(*cols).outerjoin(assignee, Ticket.assignee_id == assignee.id)
                           .where(*where).order_by(*order).limit(limit))
    return [TicketLine(number, category_name(category), urgency, name or UNASSIGNED, text, deadline,
                       about_staff=about is not None)
            for number, category, urgency, name, text, deadline, about in rows]


def _open(session: Session, d: Digest, school_id: int, end: dt.datetime) -> None:
    is_open = [Ticket.school_id == school_id, Ticket.state.in_(OPEN_STATES), Ticket.created_at < end]
    urgent, overdue = Ticket.urgency == "urgent", and_(Ticket.resolve_by.is_not(None), Ticket.resolve_by < end)
    staff = Ticket.about_staff_id.is_not(None)
    totals = session.execute(select(
        count_if(urgent), count_if(and_(urgent, staff)), count_if(overdue), count_if(and_(overdue, staff)), count_if(staff),
    ).where(*is_open)).one()
    n_urgent, urgent_staff, n_overdue, overdue_staff, n_staff = (int(x) for x in totals)
    # SHOWN + the list's complaints about staff: enough lines left for a director once those are hidden.
    if n_urgent:
        d.open_urgent = TicketList(_lines(session, [*is_open, urgent], [Ticket.id], SHOWN + urgent_staff),
                                   n_urgent, urgent_staff)
    if n_overdue:
        d.overdue = TicketList(_lines(session, [*is_open, overdue], [Ticket.resolve_by, Ticket.id],
                                      SHOWN + overdue_staff), n_overdue, overdue_staff)
    if n_staff:
        d.staff_complaints = TicketList(_lines(session, [*is_open, staff], [Ticket.id], SHOWN), n_staff, n_staff)


def _callbacks(session: Session, d: Digest, people: dict[str, Rates], school_id: int, since: dt.datetime,
               start: dt.datetime, end: dt.datetime) -> None:
    assignee = aliased(Staff)
    today = TicketEvent.at >= start
    for name, answer, month_n, today_n in session.execute(
            select(assignee.name, TicketEvent.text, func.count(), count_if(today))
            .join(Ticket, TicketEvent.ticket_id == Ticket.id)
            .outerjoin(assignee, Ticket.assignee_id == assignee.id)
            .where(*touched_since(school_id, since), TicketEvent.action == "callback_answered",
                   TicketEvent.at >= since, TicketEvent.at < end, TicketEvent.text.in_(ANSWERS))
            .group_by(Ticket.assignee_id, assignee.name, TicketEvent.text)):
        code = ANSWERS[answer]
        d.month.add(**{code: month_n})
        people.setdefault(name or UNASSIGNED, Rates()).add(**{code: month_n})
        d.today.add(**{code: today_n})
    cols, line_assignee = _line_columns()
    for *line, answer in session.execute(
            select(*cols, TicketEvent.text).join(Ticket, TicketEvent.ticket_id == Ticket.id)
            .outerjoin(line_assignee, Ticket.assignee_id == line_assignee.id)
            .where(*touched_since(school_id, start), TicketEvent.action == "callback_answered",
                   TicketEvent.at >= start, TicketEvent.at < end, TicketEvent.text.in_(("基本满意", "不满意")))):
        number, category, urgency, name, text, _, about = line
        d.lowest.append(TicketLine(number, category_name(category), urgency, name or UNASSIGNED, text,
                                   answer=answer, about_staff=about is not None))
    d.lowest.sort(key=lambda x: (x.answer != "不满意", x.number))
    for name, month_n, today_n in session.execute(
            select(assignee.name, func.count(), count_if(Ticket.closed_at >= start)).select_from(Ticket)
            .outerjoin(assignee, Ticket.assignee_id == assignee.id)
            .where(*touched_since(school_id, since), Ticket.close_reason == "not_reached",
                   Ticket.closed_at >= since, Ticket.closed_at < end)
            .group_by(Ticket.assignee_id, assignee.name)):
        d.month.add(not_reached=month_n)
        people.setdefault(name or UNASSIGNED, Rates()).add(not_reached=month_n)
        d.today.add(not_reached=today_n)


def _actions(d: Digest) -> None:
    if d.overdue.total:
        d.actions.append(f"{d.overdue.total} 件工单已逾期，请督办")
    if d.open_urgent.total:
        d.actions.append(f"{d.open_urgent.total} 件紧急工单未办结")
    if any(x.answer == "不满意" for x in d.lowest):
        d.actions.append("有家长回访不满意，工单已重办，请关注")
    low = [c for c in d.coverage if c.rate < 0.5]
    if low:
        d.actions.append(f"{len(low)} 个班级本月家访覆盖不足五成")
