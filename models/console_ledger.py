"""The web console's 台账: filters, paging and the pages' ticket lookups, inside the viewer's scope.

Every query is narrowed by ``ticket_access.visible_clause`` (the SQL form of
``can_view``), so the console shows what chat shows; a single ticket is
checked once more with ``can_view`` itself. Filters come from a query string
and are read forgivingly: a value that is not a known code is ignored, never
an error page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from models import labels, ticket_access
from models.class_order import sort_classes
from models.directory import SchoolClass, Staff
from models.tickets import OPEN_STATES, Ticket

PER_PAGE = 20
# Pseudo-states of the state filter, besides the ticket states themselves.
OPEN, OVERDUE = "open", "overdue"


@dataclasses.dataclass(frozen=True)
class LedgerFilter:
    """What the 台账 list is narrowed to; empty fields do not filter."""

    state: str = ""
    category: str = ""
    urgency: str = ""
    class_id: int | None = None
    assignee_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> LedgerFilter:
        """Read a filter from a query string, dropping values that mean nothing."""
        state = args.get("state", "")
        return cls(
            state=state if state in (*labels.state_codes(), OPEN, OVERDUE) else "",
            category=_known(args.get("category", ""), labels.category_codes()),
            urgency=_known(args.get("urgency", ""), labels.urgency_codes()),
            class_id=_int(args.get("class_id")), assignee_id=_int(args.get("assignee_id")),
            date_from=_date(args.get("from")), date_to=_date(args.get("to")),
            q=(args.get("q") or "").strip()[:50],
        )

    def query_args(self) -> dict[str, str]:
        """Return the filter as query-string arguments (for paging links and the export form)."""
        values = {"state": self.state, "category": self.category, "urgency": self.urgency,
                  "class_id": self.class_id, "assignee_id": self.assignee_id,
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else "", "q": self.q}
        return {k: str(v) for k, v in values.items() if v not in ("", None)}

    def conditions(self, staff: Staff, now: dt.datetime, tz: str) -> list[Any]:
        """Return the SQL conditions: the viewer's scope and every filter that is set."""
        where = [ticket_access.visible_clause(staff)]
        if self.state == OPEN:
            where.append(Ticket.state.in_(list(OPEN_STATES)))
        elif self.state == OVERDUE:
            where += [Ticket.state.in_(list(OPEN_STATES)), Ticket.resolve_by < now]
        elif self.state:
            where.append(Ticket.state == self.state)
        if self.category:
            where.append(Ticket.category == self.category)
        if self.urgency:
            where.append(Ticket.urgency == self.urgency)
        if self.class_id is not None:
            where.append(Ticket.class_id == self.class_id)
        if self.assignee_id is not None:
            where.append(Ticket.assignee_id == self.assignee_id)
        if self.date_from is not None:
            where.append(Ticket.created_at >= local_midnight(self.date_from, tz))
        if self.date_to is not None:
            where.append(Ticket.created_at < local_midnight(self.date_to + dt.timedelta(days=1), tz))
        if self.q:
            pattern = "%" + self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(or_(Ticket.text.like(pattern, escape="\\"), Ticket.number.like(pattern, escape="\\")))
        return where


@dataclasses.dataclass(frozen=True)
class LedgerPage:
    """One page of the filtered list."""

    tickets: list[Ticket]
    total: int
    page: int
    pages: int


def ledger_page(session: Session, staff: Staff, flt: LedgerFilter, page: int, now: dt.datetime, tz: str,
                per_page: int = PER_PAGE) -> LedgerPage:
    """Return a page of the tickets ``staff`` may see that match ``flt``, newest first."""
    where = flt.conditions(staff, now, tz)
    total = session.scalar(select(func.count(Ticket.id)).where(*where)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.scalars(
        select(Ticket).where(*where).options(selectinload(Ticket.assignee), selectinload(Ticket.school_class),
                                             selectinload(Ticket.student))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    return LedgerPage(list(rows), total, page, pages)


def visible_ticket(session: Session, staff: Staff, ticket_id: int) -> Ticket | None:
    """Return a ticket if ``staff`` may see it (else None, as if it did not exist)."""
    ticket = session.get(Ticket, ticket_id)
    return ticket if ticket is not None and ticket_access.can_view(staff, ticket) else None


def local_midnight(day: dt.date, tz: str) -> dt.datetime:
    """Return the start of a local day in UTC."""
    return dt.datetime.combine(day, dt.time(0), ZoneInfo(tz)).astimezone(dt.UTC)


def _known(value: str, codes: list[str]) -> str:
    return value if value in codes else ""


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 10 else None


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def review_queue(session: Session, staff: Staff, limit: int = 100) -> list[Ticket]:
    """Return the 疑似紧急 tickets ``staff`` may see, oldest first."""
    flag = Ticket.needs_review
    return list(session.scalars(select(Ticket).where(ticket_access.visible_clause(staff), flag.is_(True))
                                .order_by(Ticket.created_at, Ticket.id).limit(limit)))


def school_choices(session: Session, school_id: int) -> tuple[list[SchoolClass], list[Staff]]:
    """Return the school's classes (roster order) and active staff, for the filter and 指派 menus."""
    classes = sort_classes(session.scalars(select(SchoolClass).where(SchoolClass.school_id == school_id)))
    people = session.scalars(select(Staff).where(Staff.school_id == school_id, Staff.active.is_(True))
                             .order_by(Staff.id))
    return list(classes), list(people)
