"""校长接待日: the school's reception rota, parents' bookings and the 来访接待登记表.

A school has at most one active schedule (``每月第一个周一 14:00-17:00``, a
weekday, or a daily duty with a rota of leaders). A session is cut into as
many equal slots as its 每场人数; a booking holds one slot through the unique
``slot_key`` (cleared when cancelled), so two parents can never get the same
slot even when they book at the same instant. After the meeting a leader
records what was said (``record``); tickets opened from it are listed on the
booking. Reminders and the morning list live in ``models.reception_notify``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import JSON, ForeignKey, Index, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models import deadlines, reception_rules
from models.base import Base, utcnow
from models.directory import Guardianship, School, Staff, Student
from models.identity import Identity
from models.reception_rules import Rule

BOOKED, HELD, CANCELLED = "booked", "held", "cancelled"
STATE_NAMES = {BOOKED: "已预约", HELD: "已接待", CANCELLED: "已取消"}
DEFAULT_SLOTS = 6
RECEPTION_DUTY = "接待"
CONFIG_FILE = Path(__file__).resolve().parent.parent / "config" / "reception.yaml"  # 花名册「职责」: who else belongs to the reception group


class ReceptionError(Exception):
    """A booking the rules refuse; the message is Chinese and shown to the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReceptionSchedule(Base):
    """A school's recurring reception day (one active per school)."""

    __tablename__ = "reception_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pattern: Mapped[str] = mapped_column(String(10))  # monthly / weekly / daily
    weekday: Mapped[int | None]
    nth: Mapped[int | None]
    starts: Mapped[str] = mapped_column(String(5))  # local "14:00"
    ends: Mapped[str] = mapped_column(String(5))
    slots: Mapped[int] = mapped_column(default=DEFAULT_SLOTS)  # 每场人数
    rota: Mapped[list[int] | None] = mapped_column(JSON)  # staff ids taking turns (daily duty)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    school: Mapped[School] = relationship()

    @property
    def rule(self) -> Rule:
        """Return the recurrence as a rule."""
        return Rule(self.pattern, self.weekday, self.nth)

    @property
    def window(self) -> tuple[dt.time, dt.time]:
        """Return the local start and end of a session."""
        return dt.time.fromisoformat(self.starts), dt.time.fromisoformat(self.ends)

    @property
    def label(self) -> str:
        """Return e.g. 每月第一个周一 14:00-17:00，每场 6 人."""
        return f"{self.rule.label} {self.starts}-{self.ends}，每场 {self.slots} 人"


class ReceptionBooking(Base):
    """One parent's appointment at a reception session, and afterwards its record."""

    __tablename__ = "reception_bookings"
    __table_args__ = (Index("ix_reception_bookings_school_slot", "school_id", "slot_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    schedule_id: Mapped[int] = mapped_column(ForeignKey("reception_schedules.id"), index=True)
    slot_at: Mapped[dt.datetime]
    # "school:slot" while the booking holds its slot; NULL once cancelled (NULLs never collide).
    slot_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    guardianship_id: Mapped[int | None] = mapped_column(ForeignKey("guardianships.id"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(12), default=BOOKED)
    host_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reminded_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    record: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[dt.datetime | None]
    ticket_numbers: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    identity: Mapped[Identity] = relationship()
    guardianship: Mapped[Guardianship | None] = relationship()
    student: Mapped[Student | None] = relationship()
    host: Mapped[Staff | None] = relationship(foreign_keys=[host_staff_id])
    recorded_by: Mapped[Staff | None] = relationship(foreign_keys=[recorded_by_id])

    @property
    def visitor(self) -> str:
        """Return how the ledger names the visitor (张小明妈妈 李娟)."""
        gs = self.guardianship
        if gs is None:
            return self.identity.display_name or "家长"
        return f"{gs.student.name}{gs.relation} {gs.guardian.name}"


def set_schedule(session: Session, school_id: int, rule: Rule, starts: dt.time, ends: dt.time, slots: int,
                 rota: list[Staff], by: Staff | None, now: dt.datetime) -> ReceptionSchedule:
    """Replace the school's reception schedule (booked slots of the old one stay booked)."""
    if not 1 <= slots <= reception_rules.MAX_SLOTS:
        raise ReceptionError(f"每场人数应在 1 到 {reception_rules.MAX_SLOTS} 之间。")
    for old in session.scalars(select(ReceptionSchedule).where(
            ReceptionSchedule.school_id == school_id, ReceptionSchedule.active.is_(True))):
        old.active = False
    schedule = ReceptionSchedule(school_id=school_id, pattern=rule.pattern, weekday=rule.weekday, nth=rule.nth,
                                 starts=f"{starts:%H:%M}", ends=f"{ends:%H:%M}", slots=slots,
                                 rota=[s.id for s in rota] or None, created_by_id=by.id if by else None,
                                 created_at=now)
    session.add(schedule)
    session.flush()
    return schedule


def close_schedule(session: Session, school_id: int) -> bool:
    """Stop taking bookings; return whether a schedule was active."""
    schedule = active_schedule(session, school_id)
    if schedule is not None:
        schedule.active = False
    return schedule is not None


def active_schedule(session: Session, school_id: int) -> ReceptionSchedule | None:
    """Return the school's active reception schedule (from config/reception.yaml if it never had one)."""
    found = session.scalar(select(ReceptionSchedule).where(
        ReceptionSchedule.school_id == school_id, ReceptionSchedule.active.is_(True))
        .order_by(ReceptionSchedule.id.desc()).limit(1))
    return found if found is not None else _from_config(session, school_id)


@functools.cache
def reception_config() -> dict[str, Any]:
    """Load config/reception.yaml once."""
    if not CONFIG_FILE.is_file():
        return {}
    return yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8")) or {}


def _from_config(session: Session, school_id: int) -> ReceptionSchedule | None:
    """Create the configured schedule of a school that never had one (a leader's 关闭 is never undone)."""
    school = session.get(School, school_id)
    entry = ((reception_config().get("schools") or {}).get(school.code) if school is not None else None)
    if not entry or session.scalar(select(ReceptionSchedule.id).where(ReceptionSchedule.school_id == school_id)):
        return None
    from models.routing import staff_by_name

    starts, ends = reception_rules.parse_range(str(entry["time"]))
    rota = [s for name in entry.get("rota") or [] if (s := staff_by_name(session, school_id, str(name)))]
    return set_schedule(session, school_id, reception_rules.parse_rule(str(entry["rule"])), starts, ends,
                        int(entry.get("slots", DEFAULT_SLOTS)), rota, None, utcnow())


def _is_working_day(school: School):
    return deadlines.calendar(school.code).is_working_day


def session_dates(schedule: ReceptionSchedule, now: dt.datetime, tz: ZoneInfo, count: int = 3) -> list[dt.date]:
    """Return the next ``count`` session dates whose session has not ended."""
    today = now.astimezone(tz).date()
    _, ends = schedule.window
    found = []
    for day in reception_rules.dates(schedule.rule, today, _is_working_day(schedule.school)):
        if dt.datetime.combine(day, ends, tzinfo=tz) > now:
            found.append(day)
        if len(found) >= count:
            break
    return found


def is_session_day(schedule: ReceptionSchedule, day: dt.date, now: dt.datetime, tz: ZoneInfo) -> bool:
    """Return whether a session falls on this date and has not ended (any date ahead, not just the next few)."""
    _, ends = schedule.window
    return (schedule.rule.falls_on(day) and _is_working_day(schedule.school)(day)
            and dt.datetime.combine(day, ends, tzinfo=tz) > now)


def slots_of(schedule: ReceptionSchedule, day: dt.date, tz: ZoneInfo) -> list[dt.datetime]:
    """Return every slot of a session, in UTC."""
    starts, ends = schedule.window
    return [dt.datetime.combine(day, t, tzinfo=tz).astimezone(dt.UTC)
            for t in reception_rules.slot_starts(day, starts, ends, schedule.slots)]


def free_slots(session: Session, schedule: ReceptionSchedule, day: dt.date, tz: ZoneInfo,
               now: dt.datetime) -> list[dt.datetime]:
    """Return the slots of a session nobody holds that have not begun."""
    slots = slots_of(schedule, day, tz)
    if not slots:
        return []
    taken = set(session.scalars(select(ReceptionBooking.slot_key).where(
        ReceptionBooking.school_id == schedule.school_id, ReceptionBooking.slot_key.is_not(None),
        ReceptionBooking.slot_at >= slots[0], ReceptionBooking.slot_at <= slots[-1])))
    return [s for s in slots if s > now and _key(schedule.school_id, s) not in taken]


def host_for(session: Session, schedule: ReceptionSchedule, day: dt.date) -> Staff | None:
    """Return the rota leader on duty that day (None without a rota)."""
    if not schedule.rota:
        return None
    anchor = schedule.created_at.date()
    index = reception_rules.working_day_index(day, anchor, _is_working_day(schedule.school)) if day > anchor else 0
    return session.get(Staff, schedule.rota[index % len(schedule.rota)])


def _key(school_id: int, slot: dt.datetime) -> str:
    return f"{school_id}:{slot.astimezone(dt.UTC):%Y%m%dT%H%M}"


def book(session: Session, schedule: ReceptionSchedule, identity: Identity, guardianship: Guardianship | None,
         slot: dt.datetime, reason: str, now: dt.datetime, tz: ZoneInfo) -> ReceptionBooking:
    """Hold a slot for a parent (one booking per family and session)."""
    day = slot.astimezone(tz).date()
    for other in upcoming_for(session, identity.id, now):
        if other.slot_at.astimezone(tz).date() == day:
            raise ReceptionError(f"您已预约 {describe_slot(other.slot_at, tz)}（预约编号 {other.id}），"
                                 "同一场只能预约一次；如需改时间，请先「取消预约」。")
    booking = ReceptionBooking(
        school_id=schedule.school_id, schedule_id=schedule.id, slot_at=slot, slot_key=_key(schedule.school_id, slot),
        identity_id=identity.id, guardianship_id=guardianship.id if guardianship else None,
        student_id=guardianship.student_id if guardianship else None, reason=reason.strip(), state=BOOKED,
        host_staff_id=(host.id if (host := host_for(session, schedule, day)) else None), created_at=now)
    try:
        with session.begin_nested():
            session.add(booking)
    except IntegrityError as exc:
        raise ReceptionError("这个时段刚被别人预约了，请重新选择。") from exc
    return booking


def upcoming_for(session: Session, identity_id: int, now: dt.datetime) -> list[ReceptionBooking]:
    """Return a person's bookings still to come, soonest first."""
    return list(session.scalars(select(ReceptionBooking).where(
        ReceptionBooking.identity_id == identity_id, ReceptionBooking.state == BOOKED,
        ReceptionBooking.slot_at > now - dt.timedelta(hours=12)).order_by(ReceptionBooking.slot_at)))


def cancel(booking: ReceptionBooking, now: dt.datetime) -> None:
    """Cancel a booking and free its slot."""
    if booking.state != BOOKED:
        raise ReceptionError(f"预约 {booking.id} 当前为「{STATE_NAMES[booking.state]}」，不能取消。")
    booking.state, booking.slot_key, booking.cancelled_at = CANCELLED, None, now


def school_booking(session: Session, school_id: int, text: str) -> ReceptionBooking | None:
    """Return the school's booking a leader means by its number."""
    digits = text.strip().lstrip("#").removeprefix("预约")
    if not digits.isdigit():
        return None
    booking = session.get(ReceptionBooking, int(digits))
    return booking if booking is not None and booking.school_id == school_id else None


def record(booking: ReceptionBooking, staff: Staff, text: str, now: dt.datetime) -> None:
    """Write down what was said at the meeting (again: the record is replaced, tickets are added)."""
    if booking.state == CANCELLED:
        raise ReceptionError(f"预约 {booking.id} 已取消，不能登记接待记录。")
    booking.state, booking.record, booking.recorded_by, booking.recorded_at = HELD, text.strip(), staff, now


def add_tickets(booking: ReceptionBooking, numbers: list[str]) -> None:
    """List tickets opened from the record on the booking."""
    booking.ticket_numbers = [*(booking.ticket_numbers or []), *numbers] or None


def day_bookings(session: Session, school_id: int, day: dt.date, tz: ZoneInfo) -> list[ReceptionBooking]:
    """Return a local day's bookings (not cancelled), by time."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    return list(session.scalars(select(ReceptionBooking).where(
        ReceptionBooking.school_id == school_id, ReceptionBooking.state != CANCELLED,
        ReceptionBooking.slot_at >= start, ReceptionBooking.slot_at < start + dt.timedelta(days=1))
        .order_by(ReceptionBooking.slot_at, ReceptionBooking.id)))


def held_between(session: Session, school_id: int, start: dt.datetime | None, end: dt.datetime | None
                 ) -> list[ReceptionBooking]:
    """Return the recorded receptions of a period, oldest first (the 来访接待登记表)."""
    query = select(ReceptionBooking).where(ReceptionBooking.school_id == school_id, ReceptionBooking.state == HELD)
    if start is not None:
        query = query.where(ReceptionBooking.slot_at >= start)
    if end is not None:
        query = query.where(ReceptionBooking.slot_at < end)
    return list(session.scalars(query.order_by(ReceptionBooking.slot_at, ReceptionBooking.id)))


@dataclasses.dataclass(frozen=True)
class ReceptionFigures:
    """What the digest and 周调度 count: sessions held, parents received, matters raised."""

    sessions: int = 0
    parents: int = 0
    matters: int = 0


def figures(session: Session, school_id: int, start: dt.datetime, end: dt.datetime, tz: ZoneInfo
            ) -> ReceptionFigures:
    """Count a period's receptions (a session counts once however many parents came)."""
    held = held_between(session, school_id, start, end)
    days = {b.slot_at.astimezone(tz).date() for b in held}
    return ReceptionFigures(len(days), len(held), sum(len(b.ticket_numbers or []) for b in held))


def reception_group(session: Session, school_id: int, host: Staff | None) -> list[Staff]:
    """Return who hears parents: the day's rota leader and holders of the 接待 duty, else the principal.

    With neither, the principal (or, without one, the directors) receives the parents.
    """
    from models.routing import staff_with_duties, staff_with_roles

    group = ([host] if host is not None and host.active else []) + staff_with_duties(session, school_id,
                                                                                      [RECEPTION_DUTY])
    if not group:
        group = staff_with_roles(session, school_id, ["principal"]) or staff_with_roles(session, school_id,
                                                                                        ["director"])
    return list({s.id: s for s in group}.values())


def describe_slot(slot: dt.datetime, tz: ZoneInfo) -> str:
    """Return 12月7日（周一）14:30."""
    local = slot.astimezone(tz)
    return f"{local.month}月{local.day}日（周{reception_rules.WEEKDAY_NAMES[local.weekday()]}）{local:%H:%M}"
