"""The ticket ledger (问题整改台账): tickets, their append-only events, numbering, corrections.

The services that change tickets live in ``models.ticket_service``; this
module holds the tables and the numbering. A school counts its tickets per
year (``2026-0001``, the short form its own chat shows and accepts); the full
number ``T1-2026-0001`` adds the school's ticket prefix and names one ticket in
the whole deployment (exports, the operator ledger, district leaders).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models import labels
from models.base import Base, utcnow
from models.directory import School, SchoolClass, Staff, Student


class TicketState(enum.StrEnum):
    """Where a ticket stands; ``reopened`` is a resolved ticket the parent rejected (重办)."""

    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"


# States in which somebody still has to act (the scheduler's reminders look at these).
OPEN_STATES = frozenset({TicketState.NEW, TicketState.ASSIGNED, TicketState.IN_PROGRESS, TicketState.REOPENED})


class Ticket(Base):
    """One parent request in the ledger, from message to 销号."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("school_id", "number"),
        Index("ix_tickets_school_state", "school_id", "state"),
        # The scheduler's sweeps (models/deadline_sweep.py, callback_sweep.py).
        Index("ix_tickets_state_respond_by", "state", "respond_by"),
        Index("ix_tickets_state_resolve_by", "state", "resolve_by"),
        Index("ix_tickets_state_resolved_at", "state", "resolved_at"),
        Index("ix_tickets_school_created", "school_id", "created_at"),
        # Digest/weekly: a school's tickets with events in a period (add_event moves updated_at).
        Index("ix_tickets_school_updated", "school_id", "updated_at"),
        # The safety-review sweep (models/review.py): flagged tickets by age.
        Index("ix_tickets_needs_review_created", "needs_review", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))  # "2026-0123", unique per school
    kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(30))
    original_category: Mapped[str | None] = mapped_column(String(30))  # the classifier's guess
    urgency: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    classifier_confidence: Mapped[float | None]
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"), index=True)
    guardianship_id: Mapped[int | None] = mapped_column(ForeignKey("guardianships.id"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    # The staff member complained about: never assigned or shown to them.
    about_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=TicketState.NEW)
    respond_by: Mapped[dt.datetime | None]
    resolve_by: Mapped[dt.datetime | None]
    responded_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(20))
    resolution: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[str | None] = mapped_column(String(20))
    reopen_count: Mapped[int] = mapped_column(default=0)
    # A pending 延期申请: days asked for, until a leader approves or denies it.
    extension_days: Mapped[int | None]
    callback_asked_at: Mapped[dt.datetime | None]  # set once the 回访 question went out
    escalated_at: Mapped[dt.datetime | None]  # last time leaders were alerted
    source_inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    # Safety review (疑似紧急): flagged as a possible danger without being rated urgent, until a head
    # teacher or leader answers 确认紧急 / 非紧急 or the review sweep escalates it (models/review.py).
    needs_review: Mapped[bool] = mapped_column(default=False)
    reviewed_at: Mapped[dt.datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    school: Mapped[School] = relationship()
    student: Mapped[Student | None] = relationship()
    school_class: Mapped[SchoolClass | None] = relationship()
    assignee: Mapped[Staff | None] = relationship(foreign_keys=[assignee_id])
    about_staff: Mapped[Staff | None] = relationship(foreign_keys=[about_staff_id])
    reviewed_by: Mapped[Staff | None] = relationship(foreign_keys=[reviewed_by_id])
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        """Return whether somebody still has to act on it."""
        return self.state in OPEN_STATES

    @property
    def state_name(self) -> str:
        """Return the Chinese name of the state."""
        return labels.state_name(self.state)

    @property
    def full_number(self) -> str:
        """Return the deployment-wide number, e.g. ``T1-2026-0001``."""
        return f"{self.school.ticket_prefix or self.school.code.upper()}-{self.number}"

    def is_overdue(self, now: dt.datetime) -> bool:
        """Return whether an open ticket is past its resolve-by deadline."""
        return self.is_open and self.resolve_by is not None and self.resolve_by < now

    def __repr__(self) -> str:
        return f"<Ticket {self.id} {self.number} {self.state}>"


class TicketEvent(Base):
    """One step in a ticket's history; rows are only ever added."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_action", "ticket_id", "action"),
                      Index("ix_ticket_events_action_at", "action", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime]
    action: Mapped[str] = mapped_column(String(30))
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    actor_identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    text: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor_staff: Mapped[Staff | None] = relationship()


class TicketCounter(Base):
    """The last number handed out per school and year."""

    __tablename__ = "ticket_counters"
    __table_args__ = (UniqueConstraint("school_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    year: Mapped[int]
    last: Mapped[int] = mapped_column(default=0)


class ClassifierCorrection(Base):
    """A staff member's correction (改类, 改为, 确认紧急, 非紧急): a labelled example for training.

    Each row holds the text and the labels before and after; unchanged labels are equal on both sides.
    """

    __tablename__ = "classifier_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    from_category: Mapped[str | None] = mapped_column(String(30))
    to_category: Mapped[str] = mapped_column(String(30))
    school_id: Mapped[int | None]
    from_kind: Mapped[str | None] = mapped_column(String(20))
    to_kind: Mapped[str | None] = mapped_column(String(20))
    from_urgency: Mapped[str | None] = mapped_column(String(10))
    to_urgency: Mapped[str | None] = mapped_column(String(10))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[dt.datetime]


def next_number(session: Session, school_id: int, now: dt.datetime, tz: str = "Asia/Shanghai") -> str:
    """Hand out the school's next ticket number for the local year, e.g. ``2026-0001``.

    Concurrency-safe: the counter row is bumped with one conditional UPDATE
    (a row lock on PostgreSQL), and a first-of-the-year race on the insert is
    retried through the unique constraint.
    """
    year = now.astimezone(ZoneInfo(tz)).year
    for _ in range(3):
        seq = session.execute(
            update(TicketCounter)
            .where(TicketCounter.school_id == school_id, TicketCounter.year == year)
            .values(last=TicketCounter.last + 1)
            .returning(TicketCounter.last)
        ).scalar()
        if seq is not None:
            return f"{year}-{seq:04d}"
        try:
            with session.begin_nested():
                session.add(TicketCounter(school_id=school_id, year=year, last=1))
            return f"{year}-0001"
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a ticket number")


def ensure_prefix(session: Session, school: School) -> str:
    """Return the school's ticket prefix, fixing it (the code upper-cased, made unique) on first use."""
    if school.ticket_prefix:
        return school.ticket_prefix
    base = re.sub(r"[^A-Z0-9-]", "", school.code.upper()) or f"S{school.id}"
    candidate, n = base, 1
    while session.scalar(select(School.id).where(School.ticket_prefix == candidate, School.id != school.id)):
        n += 1
        candidate = f"{base}{n}"
    school.ticket_prefix = candidate
    return candidate


_FULL = re.compile(r"^#?([A-Za-z][A-Za-z0-9-]*?)[-－—_]\s*(\d{4}\s*[-－—_]?\s*\d{1,6})$")
_NUMBER = re.compile(r"^#?(?:(\d{4})\s*[-－—_/]?\s*)?0*(\d{1,6})$")


def parse_number(text: str) -> tuple[int | None, int] | None:
    """Parse what a person typed for a ticket number: ``2026-0123``, ``20260123``, ``123``.

    Returns:
        (year or None, sequence), or None when it is not a number.
    """
    import unicodedata

    text = unicodedata.normalize("NFKC", text or "").strip().replace("号", "")
    if text.isdigit() and len(text) == 8:
        return int(text[:4]), int(text[4:])
    match = _NUMBER.match(text)
    if not match or int(match.group(2)) == 0:
        return None
    return (int(match.group(1)) if match.group(1) else None), int(match.group(2))


def find_ticket(session: Session, school_id: int, text: str) -> Ticket | None:
    """Return the school's ticket a person means by ``text`` (newest year when the year is left out).

    The full number (``T1-2026-0001``, any case) is accepted when its prefix is this school's.
    """
    import unicodedata

    full = _FULL.match(unicodedata.normalize("NFKC", text or "").strip())
    if full:
        school = session.get(School, school_id)
        prefix = (school.ticket_prefix or school.code.upper()) if school is not None else None
        if prefix is None or full.group(1).upper() != prefix:
            return None
        text = full.group(2)
    parsed = parse_number(text)
    if parsed is None:
        return None
    year, seq = parsed
    if year is not None:
        return session.scalar(select(Ticket).where(Ticket.school_id == school_id, Ticket.number == f"{year}-{seq:04d}"))
    candidates = session.scalars(
        select(Ticket).where(Ticket.school_id == school_id, Ticket.number.like(f"%-{seq:04d}"))
        .order_by(Ticket.id.desc())
    ).all()
    return candidates[0] if candidates else None


def add_event(session: Session, ticket: Ticket, action: str, now: dt.datetime, *, staff: Staff | None = None,
              identity_id: int | None = None, text: str | None = None, data: dict[str, Any] | None = None
              ) -> TicketEvent:
    """Append an event to a ticket's history."""
    event = TicketEvent(ticket=ticket, at=now, action=action, actor_staff_id=staff.id if staff else None,
                        actor_identity_id=identity_id, text=text, data=data)
    session.add(event)
    ticket.updated_at = now
    return event


class TicketError(Exception):
    """An action the ledger refuses; the message is Chinese and shown to the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
