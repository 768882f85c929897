"""The daily digest's figures for one school and one local date (rendering: ``digest_render``).

The three rates (响应率, 按期办结率, 满意率) come from ``models.figures``, the one
definition every report shares: month to date and per assignee, as of the
moment the digest is made (17:30 for the scheduled digest, the day's end for a
past date), never as of a time that has not come.

Every other figure is an aggregate query (GROUP BY counts, conditional sums)
on the school's indexes; ticket lists fetch only the lines a digest shows
(``SHOWN``) plus their totals, so a school's digest costs the same whether it
has a hundred open tickets or ten thousand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from config.settings import Settings
from models.directory import School, Staff
from models.figures import (
    UNASSIGNED,
    Figures,
    Period,
    assignee_figures,
    count_if,
    school_figures,
    touched_since,
)
from models.grid import TicketReferral, referrals_between
from models.praise import Praise
from models.reception import ReceptionFigures
from models.reception import figures as reception_figures
from models.ticket_notify import category_name
from models.tickets import OPEN_STATES, Ticket, TicketEvent
from models.visits import ClassCoverage, coverage_by_class

SHOWN = 8  # lines a digest list shows; the rest is a count


Rates = Figures  # the digest's name for the figures (kept for readers of this module)


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
    surveys: list[str] = dataclasses.field(default_factory=list)  # one line per open survey (the principal's)
    surveys_restricted: list[str] = dataclasses.field(default_factory=list)  # the same for directors
    actions: list[str] = dataclasses.field(default_factory=list)
    # 校长接待日 (today, month to date) and 转属地: referred tickets still with the grid are counted
    # here and left out of 逾期, so a school is not blamed for the city's delay.
    reception_today: ReceptionFigures = dataclasses.field(default_factory=ReceptionFigures)
    reception_month: ReceptionFigures = dataclasses.field(default_factory=ReceptionFigures)
    referred_today: int = 0
    referred_open: int = 0




def day_bounds(date: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC start and end of a local date."""
    start = dt.datetime.combine(date, dt.time(0), tzinfo=tz)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def build_digest(session: Session, settings: Settings, school: School, date: dt.date,
                 now: dt.datetime | None = None) -> Digest:
    """Return the digest of ``school`` for the local ``date``, as of ``now`` (or the day's end if it is over)."""
    from models.survey_results import digest_lines

    tz_name = settings.scheduler.timezone
    tz = ZoneInfo(tz_name)
    day = Period.day_of(date, tz_name, now)
    start, end = day.start, day.end
    d = Digest(school.name, date)
    _new(session, d, school.id, start, end)
    people = assignee_figures(session, school.id, Period.month_to(end, tz_name))
    for figures in people.values():
        d.month.add(**dataclasses.asdict(figures))
    d.by_assignee = sorted(people.items(), key=lambda kv: (_sort_rate(kv[1]), kv[0]))
    d.today = school_figures(session, school.id, day)
    _open(session, d, school.id, end)
    _lowest(session, d, school.id, start, end)
    # Events, not ``resolved_at``: a resolution the parent rejected (重办) still happened today.
    d.resolved_today = session.scalar(select(func.count()).select_from(TicketEvent).join(Ticket).where(
        *touched_since(school.id, start), TicketEvent.action == "resolved",
        TicketEvent.at >= start, TicketEvent.at < end)) or 0
    d.praise = [(name or "学校", text) for name, text in session.execute(
        select(Staff.name, Praise.text).outerjoin(Staff, Praise.staff_id == Staff.id)
        .where(Praise.school_id == school.id, Praise.at >= start, Praise.at < end).order_by(Praise.at))]
    d.coverage = coverage_by_class(session, school.id, now=end - dt.timedelta(microseconds=1), tz=tz)
    d.surveys = digest_lines(session, school.id, end - dt.timedelta(microseconds=1), tz_name)
    d.surveys_restricted = digest_lines(session, school.id, end - dt.timedelta(microseconds=1), tz_name,
                                        settings.surveys.min_breakdown)
    d.reception_today = reception_figures(session, school.id, start, end, tz)
    month = Period.month_to(end, tz_name)
    d.reception_month = reception_figures(session, school.id, month.start, end, tz)
    d.referred_today = referrals_between(session, school.id, start, end)
    d.referred_open = session.scalar(select(func.count()).select_from(TicketReferral).where(
        TicketReferral.school_id == school.id, TicketReferral.referred_at < end,
        or_(TicketReferral.feedback_at.is_(None), TicketReferral.feedback_at >= end))) or 0
    _actions(d)
    return d


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
    with_grid = exists().where(TicketReferral.ticket_id == Ticket.id, TicketReferral.referred_at < end,
                               or_(TicketReferral.feedback_at.is_(None), TicketReferral.feedback_at >= end))
    urgent = Ticket.urgency == "urgent"
    overdue = and_(Ticket.resolve_by.is_not(None), Ticket.resolve_by < end, ~with_grid)
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


def _lowest(session: Session, d: Digest, school_id: int, start: dt.datetime, end: dt.datetime) -> None:
    """List the day's 回访 answers below 满意, 不满意 first."""
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
