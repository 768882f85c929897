"""Home visits (家访/走访): the 入户访问登记表 and who is still due a contact.

Every student has a responsible teacher (包靠, ``Student.responsible_staff_id``).
A family counts as contacted for the month once any contact (入户, 电话, 视频,
校内面谈) is recorded in the current calendar month, local time; a
special-care student (留守, 家庭困难, 残疾, 单亲, 心理关注) must have been
contacted within the last ``care_days`` days as well.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, Index, String, Text, exists, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, utcnow
from models.class_order import class_key
from models.directory import ClassTeacher, SchoolClass, Staff, Student, StudentCare

# Chinese contact type → code, in the order the ledger lists them.
VISIT_KINDS = {"入户": "home", "电话": "phone", "视频": "video", "校内面谈": "school"}
VISIT_KIND_NAMES = {code: name for name, code in VISIT_KINDS.items()}
VISIT_KIND_ALIASES = {"家访": "home", "上门": "home", "走访": "home", "面谈": "school", "来校": "school",
                      "微信视频": "video", "视频通话": "video", "打电话": "phone"}


class Visit(Base):
    """One contact with a student's family, as the visit log records it."""

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_student_at", "student_id", "visited_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    visited_at: Mapped[dt.datetime]
    notes: Mapped[str] = mapped_column(Text, default="")
    # The ticket opened on the parent's behalf when the record mentioned a problem.
    ticket_id: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    student: Mapped[Student] = relationship()
    staff: Mapped[Staff] = relationship()

    @property
    def kind_name(self) -> str:
        """Return the Chinese contact type."""
        return VISIT_KIND_NAMES.get(self.kind, self.kind)


def parse_kind(word: str) -> str | None:
    """Map 入户 / 电话 / 视频 / 校内面谈 (or a common alias) to its code."""
    return VISIT_KINDS.get(word) or VISIT_KIND_ALIASES.get(word)


def month_start(now: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Return the start of the local calendar month containing ``now``, in UTC."""
    local = now.astimezone(tz)
    return dt.datetime(local.year, local.month, 1, tzinfo=tz).astimezone(dt.UTC)


def record_visit(session: Session, staff: Staff, student: Student, kind: str, notes: str, *,
                 now: dt.datetime, visited_at: dt.datetime | None = None) -> Visit:
    """Add a contact to the visit log."""
    visit = Visit(school_id=student.school_id, student=student, staff=staff, kind=kind, notes=notes.strip(),
                  visited_at=visited_at or now, created_at=now)
    session.add(visit)
    session.flush()
    return visit


def may_record(session: Session, staff: Staff, student: Student) -> bool:
    """Return whether a staff member may log a contact with this student's family.

    Leaders may log any student of their school; teachers their 包靠 students
    and the students of classes they head or teach.
    """
    if staff.school_id != student.school_id:
        return False
    if staff.is_leader or student.responsible_staff_id == staff.id:
        return True
    if student.school_class.head_teacher_id == staff.id:
        return True
    return session.scalar(select(exists().where(
        ClassTeacher.class_id == student.class_id, ClassTeacher.staff_id == staff.id))) or False


def has_paired_students(session: Session, staff_id: int) -> bool:
    """Return whether a staff member is the 包靠 teacher of any active student."""
    return bool(session.scalar(select(exists().where(
        Student.responsible_staff_id == staff_id, Student.active.is_(True)))))


def find_students(session: Session, staff: Staff, name: str) -> list[Student]:
    """Return the active students of the staff member's school with this name, theirs first."""
    students = session.scalars(select(Student).where(
        Student.school_id == staff.school_id, Student.name == name, Student.active.is_(True))).all()
    return sorted(students, key=lambda s: (s.responsible_staff_id != staff.id, s.id))


@dataclasses.dataclass(frozen=True)
class DueStudent:
    """A student whose family still needs a contact."""

    student_id: int
    name: str
    class_name: str
    staff_id: int | None
    care: bool
    last_visit_at: dt.datetime | None


def due_students(session: Session, *, now: dt.datetime, tz: ZoneInfo, care_days: int,
                 staff_id: int | None = None, school_id: int | None = None) -> list[DueStudent]:
    """Return the students still due a contact, special-care first, then by class and name.

    One grouped query over the visit log: at district scale this is the
    whole cost of the weekly reminder, not one query per student.
    """
    last = (select(Visit.student_id, func.max(Visit.visited_at).label("last_at"))
            .group_by(Visit.student_id).subquery())
    care = exists().where(StudentCare.student_id == Student.id)
    query = (
        select(Student.id, Student.name, SchoolClass.name, Student.responsible_staff_id, care, last.c.last_at)
        .join(SchoolClass, Student.class_id == SchoolClass.id)
        .outerjoin(last, last.c.student_id == Student.id)
        .where(Student.active.is_(True))
    )
    if staff_id is not None:
        query = query.where(Student.responsible_staff_id == staff_id)
    if school_id is not None:
        query = query.where(Student.school_id == school_id)
    since_month = month_start(now, tz)
    since_care = now - dt.timedelta(days=care_days)
    due = []
    for sid, name, class_name, resp, is_care, last_at in session.execute(query):
        last_at = _aware(last_at)
        if last_at is None or last_at < since_month or (is_care and last_at < since_care):
            due.append(DueStudent(sid, name, class_name, resp, bool(is_care), last_at))
    due.sort(key=lambda d: (not d.care, class_key(d.class_name), d.name))
    return due


def due_line(d: DueStudent, tz: ZoneInfo) -> str:
    """Return one phone-width line of a due list (★ marks special care)."""
    star = "★" if d.care else "·"
    last = f"上次 {d.last_visit_at.astimezone(tz):%m-%d}" if d.last_visit_at else "暂无联系记录"
    return f"{star} {d.class_name} {d.name}（{last}）"


@dataclasses.dataclass(frozen=True)
class ClassCoverage:
    """How many families of a class were contacted this month."""

    class_name: str
    students: int
    contacted: int

    @property
    def rate(self) -> float:
        """Return the contacted share (0–1)."""
        return self.contacted / self.students if self.students else 1.0


def coverage_by_class(session: Session, school_id: int, *, now: dt.datetime, tz: ZoneInfo) -> list[ClassCoverage]:
    """Return this month's contact coverage of every class of a school, lowest first."""
    since = month_start(now, tz)
    contacted = (select(Visit.student_id).where(
        Visit.school_id == school_id, Visit.visited_at >= since, Visit.visited_at <= now,
    ).distinct().subquery())
    rows = session.execute(
        select(SchoolClass.name, func.count(Student.id), func.count(contacted.c.student_id))
        .join(Student, Student.class_id == SchoolClass.id)
        .outerjoin(contacted, contacted.c.student_id == Student.id)
        # Student.school_id too: lets the planner use the school's index instead of scanning the district.
        .where(SchoolClass.school_id == school_id, Student.school_id == school_id, Student.active.is_(True))
        .group_by(SchoolClass.id, SchoolClass.name)
    ).all()
    result = [ClassCoverage(name, total, done) for name, total, done in rows]
    return sorted(result, key=lambda c: (c.rate, class_key(c.class_name)))


def visits_between(session: Session, school_id: int, start: dt.datetime, end: dt.datetime) -> list[Visit]:
    """Return the visit log of a school for a period, oldest first (the 入户访问登记表)."""
    return list(session.scalars(select(Visit).where(
        Visit.school_id == school_id, Visit.visited_at >= start, Visit.visited_at < end,
    ).order_by(Visit.visited_at, Visit.id)))


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # Aggregates bypass the UTCDateTime type on SQLite and come back naive (or as text).
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
