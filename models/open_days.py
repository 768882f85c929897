"""学校开放日 and 家长课程: seats, sign-ups with a waiting list, attendance and the three-question feedback.

An open day (``kind`` ``open_day``) or parent-school session (``course``) is
for some classes and has a number of seats. It goes out as a notice through
the notice flow (``models.notices``): each family's copy carries its personal
link, and the notice page lets the family sign up; parents may also sign up
by chat. One sign-up per family (student) and event; past the seats a family
waits, and a cancellation moves the first waiting family up. After the event
every attendee (or, without attendance taken, everyone signed up) is asked
three questions (lesson, class order, suggestions); an actionable suggestion
becomes a ticket as survey comments do.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, utcnow
from models.directory import Student

OPEN_DAY, COURSE = "open_day", "course"
KIND_NAMES = {OPEN_DAY: "学校开放日", COURSE: "家长课程"}
CONFIRMED, WAITING, CANCELLED = "confirmed", "waiting", "cancelled"
SIGNUP_NAMES = {CONFIRMED: "已报名", WAITING: "候补", CANCELLED: "已取消"}
RATINGS = {"满意": 3, "好": 3, "很好": 3, "非常满意": 3, "3": 3, "一般": 2, "基本满意": 2, "还行": 2, "2": 2,
           "不满意": 1, "差": 1, "不好": 1, "1": 1}
RATING_NAMES = {3: "满意", 2: "一般", 1: "不满意"}
QUESTIONS = ("听课感受（满意/一般/不满意）", "课堂秩序（满意/一般/不满意）", "意见和建议")


class OpenDayError(Exception):
    """A sign-up the rules refuse; the message is Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OpenDay(Base):
    """One open day or parent-school session for some classes."""

    __tablename__ = "open_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default=OPEN_DAY)
    starts_at: Mapped[dt.datetime]
    scope_label: Mapped[str] = mapped_column(String(200))
    class_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    seats: Mapped[int]
    info: Mapped[str] = mapped_column(Text, default="")
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    cancelled: Mapped[bool] = mapped_column(default=False)
    feedback_sent_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    signups: Mapped[list[OpenDaySignup]] = relationship(back_populates="open_day", order_by="OpenDaySignup.id")

    @property
    def kind_name(self) -> str:
        """Return 学校开放日 or 家长课程."""
        return KIND_NAMES.get(self.kind, self.kind)


class OpenDaySignup(Base):
    """One family's sign-up: confirmed or waiting, attendance, and its feedback."""

    __tablename__ = "open_day_signups"
    __table_args__ = (UniqueConstraint("open_day_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    open_day_id: Mapped[int] = mapped_column(ForeignKey("open_days.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default=CONFIRMED)
    via: Mapped[str] = mapped_column(String(10), default="chat")
    attended: Mapped[bool | None]
    reminded_at: Mapped[dt.datetime | None]
    feedback_asked_at: Mapped[dt.datetime | None]
    lesson: Mapped[int | None]
    order_rating: Mapped[int | None]
    suggestion: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[dt.datetime | None]
    ticket_number: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    open_day: Mapped[OpenDay] = relationship(back_populates="signups")
    student: Mapped[Student] = relationship()


def create(session: Session, *, school_id: int, kind: str, starts_at: dt.datetime, scope_label: str,
           class_ids: list[int], seats: int, info: str, by_id: int | None, now: dt.datetime) -> OpenDay:
    """Add an open day (the caller sends its notice)."""
    if seats < 1:
        raise OpenDayError("名额至少为 1。")
    if starts_at <= now:
        raise OpenDayError("开放日时间须在今后。")
    day = OpenDay(school_id=school_id, kind=kind, starts_at=starts_at, scope_label=scope_label,
                  class_ids=list(class_ids), seats=seats, info=info.strip(), created_by_id=by_id, created_at=now)
    session.add(day)
    session.flush()
    return day


def upcoming_for_students(session: Session, students: list[Student], now: dt.datetime) -> list[OpenDay]:
    """Return the coming events open to any of these students' classes, soonest first."""
    if not students:
        return []
    school_ids = {s.school_id for s in students}
    class_ids = {s.class_id for s in students}
    found = session.scalars(select(OpenDay).where(
        OpenDay.school_id.in_(school_ids), OpenDay.cancelled.is_(False), OpenDay.starts_at > now)
        .order_by(OpenDay.starts_at, OpenDay.id)).all()
    return [d for d in found if class_ids & set(d.class_ids)]


def get(session: Session, open_day_id: int, school_id: int) -> OpenDay | None:
    """Return a school's open day by number."""
    day = session.get(OpenDay, open_day_id)
    return day if day is not None and day.school_id == school_id else None


def latest_for_school(session: Session, school_id: int) -> OpenDay | None:
    """Return the school's most recently created event."""
    return session.scalar(select(OpenDay).where(OpenDay.school_id == school_id, OpenDay.cancelled.is_(False))
                          .order_by(OpenDay.id.desc()).limit(1))


def by_notice(session: Session, notice_id: int) -> OpenDay | None:
    """Return the open day a notice announced."""
    return session.scalar(select(OpenDay).where(OpenDay.notice_id == notice_id))


def confirmed_count(session: Session, day: OpenDay) -> int:
    """Return how many families hold a seat."""
    return session.scalar(select(func.count()).select_from(OpenDaySignup).where(
        OpenDaySignup.open_day_id == day.id, OpenDaySignup.state == CONFIRMED)) or 0


def signup_of(session: Session, day: OpenDay, student_id: int) -> OpenDaySignup | None:
    """Return a family's sign-up."""
    return session.scalar(select(OpenDaySignup).where(
        OpenDaySignup.open_day_id == day.id, OpenDaySignup.student_id == student_id))


def sign_up(session: Session, day: OpenDay, student: Student, identity_id: int | None, via: str,
            now: dt.datetime) -> OpenDaySignup:
    """Take a seat, or a place on the waiting list when full (again after a cancellation)."""
    if student.class_id not in day.class_ids:
        raise OpenDayError(f"{day.kind_name}（{day.scope_label}）不包括{student.name}所在的班级。")
    if day.cancelled or day.starts_at <= now:
        raise OpenDayError(f"这次{day.kind_name}已结束报名。")
    signup = signup_of(session, day, student.id)
    if signup is not None and signup.state != CANCELLED:
        return signup
    state = CONFIRMED if confirmed_count(session, day) < day.seats else WAITING
    if signup is None:
        signup = OpenDaySignup(open_day=day, student_id=student.id, created_at=now)
        session.add(signup)
    signup.state, signup.identity_id, signup.via, signup.created_at = state, identity_id, via, now
    session.flush()
    return signup


def waiting_position(session: Session, signup: OpenDaySignup) -> int:
    """Return a waiting family's place in the queue (1 = next)."""
    return session.scalar(select(func.count()).select_from(OpenDaySignup).where(
        OpenDaySignup.open_day_id == signup.open_day_id, OpenDaySignup.state == WAITING,
        OpenDaySignup.created_at <= signup.created_at, OpenDaySignup.id <= signup.id)) or 1


def cancel(session: Session, signup: OpenDaySignup, now: dt.datetime) -> OpenDaySignup | None:
    """Cancel a sign-up; return the waiting family moved up to the freed seat, if any."""
    was_confirmed = signup.state == CONFIRMED
    signup.state = CANCELLED
    session.flush()
    if not was_confirmed:
        return None
    first = session.scalar(select(OpenDaySignup).where(
        OpenDaySignup.open_day_id == signup.open_day_id, OpenDaySignup.state == WAITING)
        .order_by(OpenDaySignup.created_at, OpenDaySignup.id).limit(1))
    if first is not None:
        first.state = CONFIRMED
    return first


def cancel_event(day: OpenDay, now: dt.datetime) -> None:
    """Call an event off (sign-ups are kept; no reminder or feedback request goes out)."""
    if day.cancelled:
        raise OpenDayError(f"{day.kind_name} {day.id} 已经取消。")
    if day.starts_at <= now:
        raise OpenDayError(f"{day.kind_name} {day.id} 已经开始，不能取消。")
    day.cancelled = True


def roster(session: Session, day: OpenDay, class_ids: set[int] | None = None) -> list[OpenDaySignup]:
    """Return the sign-ups (confirmed first, then waiting), optionally of some classes only."""
    rows = [s for s in day.signups if s.state != CANCELLED and (class_ids is None or s.student.class_id in class_ids)]
    return sorted(rows, key=lambda s: (s.state != CONFIRMED, s.created_at, s.id))


def mark_attended(day: OpenDay, names: list[str]) -> tuple[list[str], list[str]]:
    """Mark the named families (by student name) present; return (marked, unknown)."""
    by_name = {s.student.name: s for s in day.signups if s.state == CONFIRMED}
    marked = [n for n in names if n in by_name]
    for name in marked:
        by_name[name].attended = True
    return marked, [n for n in names if n not in by_name]


def parse_rating(word: str) -> int | None:
    """Read 满意 / 一般 / 不满意 (or 3/2/1)."""
    return RATINGS.get(word.strip())


def save_feedback(signup: OpenDaySignup, lesson: int, order: int, suggestion: str, now: dt.datetime) -> None:
    """Store the three answers (a later answer replaces an earlier one)."""
    signup.lesson, signup.order_rating, signup.suggestion, signup.feedback_at = lesson, order, suggestion.strip(), now


def asked_feedback(session: Session, student_ids: list[int]) -> list[OpenDaySignup]:
    """Return the families' sign-ups whose feedback was asked, newest first."""
    return list(session.scalars(select(OpenDaySignup).where(
        OpenDaySignup.student_id.in_(student_ids), OpenDaySignup.feedback_asked_at.is_not(None))
        .order_by(OpenDaySignup.feedback_asked_at.desc(), OpenDaySignup.id.desc())))


def feedback_due(day: OpenDay) -> list[OpenDaySignup]:
    """Return who is asked for feedback: those marked present, or every confirmed family without attendance."""
    confirmed = [s for s in day.signups if s.state == CONFIRMED]
    taken = any(s.attended for s in confirmed)
    return [s for s in confirmed if s.attended or not taken]
