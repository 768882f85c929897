"""The daily digest's figures for one school and one local date (rendering: ``digest_render``).

Hotline-style rates (this month to date, by the tickets' own deadlines):

* 响应率 — tickets responded by respond-by / tickets whose respond-by has come
  (or that were responded to);
* 按期办结率 — tickets resolved by resolve-by / tickets whose resolve-by has come
  (or that were resolved);
* 满意率 — (满意+基本满意) / (满意+基本满意+不满意) over the 回访 answers; a
  callback closed as 未回访 (not reached) is counted apart, never in the rate.

A handful of queries per school (month's tickets, open tickets, callback
events, praise, visit coverage), the rest is arithmetic in Python.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from config.settings import Settings
from models.directory import School, Staff
from models.praise import Praise
from models.ticket_notify import category_name
from models.tickets import OPEN_STATES, Ticket, TicketEvent
from models.visits import ClassCoverage, coverage_by_class, month_start

ANSWERS = {"满意": "satisfied", "基本满意": "basic", "不满意": "unsatisfied"}


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
class Digest:
    """Everything a director or principal reads at the end of a day."""

    school: str
    date: dt.date
    new_total: int = 0
    new_by_category: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    new_by_urgency: dict[str, int] = dataclasses.field(default_factory=dict)
    open_urgent: list[TicketLine] = dataclasses.field(default_factory=list)
    overdue: list[TicketLine] = dataclasses.field(default_factory=list)
    resolved_today: int = 0
    today: Rates = dataclasses.field(default_factory=Rates)  # callback results of the day
    month: Rates = dataclasses.field(default_factory=Rates)
    by_assignee: list[tuple[str, Rates]] = dataclasses.field(default_factory=list)
    lowest: list[TicketLine] = dataclasses.field(default_factory=list)
    staff_complaints: list[TicketLine] = dataclasses.field(default_factory=list)
    praise: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    coverage: list[ClassCoverage] = dataclasses.field(default_factory=list)
    actions: list[str] = dataclasses.field(default_factory=list)


def find_school(session: Session, code: str) -> School | None:
    """Return the school with this code."""
    return session.scalar(select(School).where(School.code == code))


def day_bounds(date: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC start and end of a local date."""
    start = dt.datetime.combine(date, dt.time(0), tzinfo=tz)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def build_digest(session: Session, settings: Settings, school: School, date: dt.date) -> Digest:
    """Return the digest of ``school`` for the local ``date`` (figures as of that day's end)."""
    tz = ZoneInfo(settings.scheduler.timezone)
    start, end = day_bounds(date, tz)
    since = month_start(start, tz)
    d = Digest(school.name, date)
    assignee = aliased(Staff)
    cols = (Ticket, assignee.name)
    month = session.execute(select(*cols).outerjoin(assignee, Ticket.assignee_id == assignee.id).where(
        Ticket.school_id == school.id, Ticket.created_at >= since, Ticket.created_at < end)).all()
    open_rows = session.execute(select(*cols).outerjoin(assignee, Ticket.assignee_id == assignee.id).where(
        Ticket.school_id == school.id, Ticket.state.in_(OPEN_STATES), Ticket.created_at < end)).all()
    _new_and_rates(d, month, start, end)
    _open(d, open_rows, end)
    _callbacks(session, d, school.id, since, start, end)
    # Events, not ``resolved_at``: a resolution the parent rejected (重办) still happened today.
    d.resolved_today = session.scalar(select(func.count()).select_from(TicketEvent).join(Ticket).where(
        Ticket.school_id == school.id, TicketEvent.action == "resolved",
        TicketEvent.at >= start, TicketEvent.at < end)) or 0
    d.praise = [(name or "学校", text) for name, text in session.execute(
        select(Staff.name, Praise.text).outerjoin(Staff, Praise.staff_id == Staff.id)
        .where(Praise.school_id == school.id, Praise.at >= start, Praise.at < end).order_by(Praise.at))]
    d.coverage = coverage_by_class(session, school.id, now=end - dt.timedelta(microseconds=1), tz=tz)
    _actions(d)
    return d


def _line(t: Ticket, name: str | None, deadline: dt.datetime | None = None, answer: str | None = None) -> TicketLine:
    return TicketLine(t.number, category_name(t.category), t.urgency, name or "未分派", t.text, deadline, answer,
                      t.about_staff_id is not None)


def _new_and_rates(d: Digest, month: list, start: dt.datetime, end: dt.datetime) -> None:
    categories: Counter[str] = Counter()
    people: dict[str, Rates] = defaultdict(Rates)
    for t, name in month:
        if t.created_at >= start:
            d.new_total += 1
            categories[category_name(t.category)] += 1
            d.new_by_urgency[t.urgency] = d.new_by_urgency.get(t.urgency, 0) + 1
        for rates in (d.month, people[name or "未分派"]):
            count_ticket(rates, t, end)
    d.new_by_category = categories.most_common()
    d.by_assignee = sorted(people.items(), key=lambda kv: (_sort_rate(kv[1]), kv[0]))


def count_ticket(r: Rates, t: Ticket, end: dt.datetime) -> None:
    """Add one ticket to the response and on-time counts as of ``end``."""
    if t.respond_by is not None and (t.respond_by < end or t.responded_at is not None):
        r.respond_due += 1
        r.responded_in_time += t.responded_at is not None and t.responded_at <= t.respond_by
    if t.resolve_by is not None and (t.resolve_by < end or t.resolved_at is not None):
        r.resolve_due += 1
        r.resolved_in_time += t.resolved_at is not None and t.resolved_at <= t.resolve_by


def _sort_rate(r: Rates) -> float:
    rates = [x for x in (r.response_rate, r.on_time_rate) if x is not None]
    return min(rates) if rates else 1.0


def _open(d: Digest, rows: list, end: dt.datetime) -> None:
    for t, name in rows:
        if t.about_staff_id is not None:
            d.staff_complaints.append(_line(t, name, t.resolve_by))
        if t.urgency == "urgent":
            d.open_urgent.append(_line(t, name, t.resolve_by))
        if t.resolve_by is not None and t.resolve_by < end:
            d.overdue.append(_line(t, name, t.resolve_by))
    d.overdue.sort(key=lambda x: x.deadline or end)


def _callbacks(session: Session, d: Digest, school_id: int, since: dt.datetime, start: dt.datetime,
               end: dt.datetime) -> None:
    assignee = aliased(Staff)
    answers = session.execute(
        select(TicketEvent.text, TicketEvent.at, Ticket, assignee.name)
        .join(Ticket, TicketEvent.ticket_id == Ticket.id)
        .outerjoin(assignee, Ticket.assignee_id == assignee.id)
        .where(Ticket.school_id == school_id, TicketEvent.action == "callback_answered",
               TicketEvent.at >= since, TicketEvent.at < end)).all()
    people = dict(d.by_assignee)
    for text, at, t, name in answers:
        code = ANSWERS.get(text or "")
        if code is None:
            continue
        targets = [d.month, people.setdefault(name or "未分派", Rates())]
        if at >= start:
            targets.append(d.today)
            if code != "satisfied":
                d.lowest.append(_line(t, name, answer=text))
        for r in targets:
            setattr(r, code, getattr(r, code) + 1)
    missed = session.execute(select(Ticket.closed_at, assignee.name).outerjoin(
        assignee, Ticket.assignee_id == assignee.id).where(
        Ticket.school_id == school_id, Ticket.close_reason == "not_reached",
        Ticket.closed_at >= since, Ticket.closed_at < end)).all()
    for closed_at, name in missed:
        for r in [d.month, people.setdefault(name or "未分派", Rates())] + ([d.today] if closed_at >= start else []):
            r.not_reached += 1
    d.lowest.sort(key=lambda x: (x.answer != "不满意", x.number))
    d.by_assignee = sorted(people.items(), key=lambda kv: (_sort_rate(kv[1]), kv[0]))


def _actions(d: Digest) -> None:
    if d.overdue:
        d.actions.append(f"{len(d.overdue)} 件工单已逾期，请督办")
    if d.open_urgent:
        d.actions.append(f"{len(d.open_urgent)} 件紧急工单未办结")
    if any(x.answer == "不满意" for x in d.lowest):
        d.actions.append("有家长回访不满意，工单已重办，请关注")
    low = [c for c in d.coverage if c.rate < 0.5]
    if low:
        d.actions.append(f"{len(low)} 个班级本月家访覆盖不足五成")
