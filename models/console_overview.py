"""The web console's 总览: counts, the three figures over 30 days and by week, visits, notices, surveys.

Figures come from ``models.figures`` (the digest's and the ledger's
definitions); counts are narrowed to what the viewer may see
(``ticket_access.visible_clause``). School-wide parts (figures, notices,
surveys) are for leaders; the routes decide who gets which part.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import figures, ticket_access
from models.console_ledger import local_midnight
from models.directory import Staff
from models.figures import Figures, Period, school_figures
from models.notice_acks import notice_stats
from models.notices import Notice, NoticeStatus
from models.survey_results import compute_results, too_few
from models.surveys import INDICATORS, Survey
from models.tickets import OPEN_STATES, Ticket

WEEKS = 8


@dataclasses.dataclass(frozen=True)
class Counts:
    """今日新增, 未办结, 超期 and 疑似紧急."""

    new_today: int
    open: int
    overdue: int
    review: int


def counts(session: Session, staff: Staff, now: dt.datetime, tz: str) -> Counts:
    """Return the landing page's counts over the tickets ``staff`` may see (one query)."""
    from models.figures import count_if

    today = local_midnight(now.astimezone(ZoneInfo(tz)).date(), tz)
    is_open = Ticket.state.in_(list(OPEN_STATES))
    columns = [count_if(Ticket.created_at >= today), count_if(is_open),
               count_if(is_open & (Ticket.resolve_by < now))]
    columns.append(count_if(Ticket.needs_review.is_(True)))
    row = session.execute(select(*columns).where(ticket_access.visible_clause(staff))).one()
    return Counts(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def last_30_days(session: Session, school_id: int, now: dt.datetime) -> Figures:
    """Return 响应率, 按期办结率, 满意率 of the tickets of the last 30 days, as of now."""
    return school_figures(session, school_id, Period(now - dt.timedelta(days=30), now))


@dataclasses.dataclass(frozen=True)
class Week:
    """One local week (Monday to Sunday) up to ``now``."""

    label: str  # 11/16
    period: Period


def weeks(now: dt.datetime, tz: str, count: int = WEEKS) -> list[Week]:
    """Return the last ``count`` local weeks (Monday to Monday), oldest first, the current one included."""
    this = Period.week_to(now, tz)
    result = []
    for back in range(count - 1, -1, -1):
        start = this.start - dt.timedelta(weeks=back)
        end = start + dt.timedelta(weeks=1)  # whole weeks: figures are judged as of now (``as_of``)
        local = start.astimezone(ZoneInfo(tz))
        result.append(Week(f"{local.month}/{local.day}", Period(start, end)))
    return result


def weekly_figures(session: Session, school_id: int, now: dt.datetime, tz: str) -> list[tuple[Week, Figures]]:
    """Return each recent week's figures: the tickets opened that week, their deadlines judged as of now."""
    span = weeks(now, tz)
    return list(zip(span, figures.weekly_figures(session, school_id, [w.period for w in span], now), strict=True))


def categories_by_week(session: Session, staff: Staff, now: dt.datetime, tz: str) -> tuple[list[Week], dict[str, list[int]]]:
    """Return the recent weeks and, per category, how many visible tickets opened in each."""
    span = weeks(now, tz)
    table: dict[str, list[int]] = {}
    for n, week in enumerate(span):
        for category, count in session.execute(
                select(Ticket.category, func.count()).where(
                    ticket_access.visible_clause(staff), Ticket.created_at >= week.period.start,
                    Ticket.created_at < week.period.end).group_by(Ticket.category)):
            table.setdefault(category, [0] * len(span))[n] = count
    return span, dict(sorted(table.items(), key=lambda item: -sum(item[1])))


@dataclasses.dataclass(frozen=True)
class NoticeRate:
    """A sent notice and how many families acknowledged it."""

    notice: Notice
    families: int
    acked: int

    @property
    def rate(self) -> float | None:
        """Return the acknowledged share (None for a notice that reached no family)."""
        return self.acked / self.families if self.families else None


def recent_notices(session: Session, school_id: int, limit: int = 5) -> list[NoticeRate]:
    """Return the school's last sent notices with their acknowledgement figures, newest first."""
    sent = session.scalars(select(Notice).where(Notice.school_id == school_id, Notice.status == NoticeStatus.SENT)
                           .order_by(Notice.id.desc()).limit(limit)).all()
    result = []
    for notice in sent:
        stats = notice_stats(session, notice)
        result.append(NoticeRate(notice, sum(s.families for s in stats), sum(s.acked for s in stats)))
    return result


def latest_survey(session: Session, school_id: int, min_responses: int
                  ) -> tuple[Survey, list[tuple[str, float | None]]] | None:
    """Return the school's newest survey and its school-wide rate per indicator.

    With fewer complete responses than ``min_responses`` (the anonymity rule,
    ``surveys.min_breakdown``; 0 for the principal) the rates are left out (empty list).
    """
    survey = session.scalar(select(Survey).where(Survey.school_id == school_id).order_by(Survey.id.desc()).limit(1))
    if survey is None:
        return None
    results = compute_results(session, survey, with_previous=False)
    if too_few(results.school, min_responses):
        return survey, []
    return survey, [(name, results.school.indicators[code].rate) for code, name in INDICATORS]
