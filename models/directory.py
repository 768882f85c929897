"""The school directory: schools, classes, students, guardians and staff."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, false, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, utcnow


class SchoolKind(enum.StrEnum):
    """Kinds of school a district runs."""

    KINDERGARTEN = "kindergarten"
    PRIMARY = "primary"
    JUNIOR = "junior"


SCHOOL_KIND_NAMES = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中"}


class Role(enum.StrEnum):
    """Staff roles, from least to most authority."""

    TEACHER = "teacher"
    HEAD_TEACHER = "head_teacher"
    DIRECTOR = "director"
    PRINCIPAL = "principal"
    ADMIN = "admin"


ROLE_NAMES = {
    "teacher": "老师",
    "head_teacher": "班主任",
    "director": "主任",
    "principal": "校长",
    "admin": "管理员",
}
LEADER_ROLES = frozenset({Role.DIRECTOR, Role.PRINCIPAL, Role.ADMIN})

# Special-care flags (特殊关爱) and their Chinese names, in the order the ledger lists them.
CARE_FLAGS = {
    "left_behind": "留守",
    "hardship": "家庭困难",
    "disability": "残疾",
    "single_parent": "单亲",
    "mental": "心理关注",
}
CARE_FLAG_BY_NAME = {name: code for code, name in CARE_FLAGS.items()}


class School(Base):
    """A kindergarten or school served by this deployment."""

    __tablename__ = "schools"
    # A unique index rather than a constraint: SQLite adds it without rebuilding a table others reference.
    __table_args__ = (Index("ix_schools_ticket_prefix", "ticket_prefix", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=SchoolKind.PRIMARY)
    # Made by ``seed-demo``: the only schools the simulator may show or speak for.
    is_demo: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Prefix of the deployment-wide ticket number (T1-2026-0001): the code upper-cased, fixed at the
    # school's first ticket so that renaming the code never renumbers the ledger (models.tickets).
    ticket_prefix: Mapped[str | None] = mapped_column(String(44))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    classes: Mapped[list[SchoolClass]] = relationship(back_populates="school", order_by="SchoolClass.id")


class Staff(Base):
    """A teacher, director, principal or administrator."""

    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20), default=Role.TEACHER)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    school: Mapped[School] = relationship()
    duties: Mapped[list[StaffDuty]] = relationship(back_populates="staff", cascade="all, delete-orphan")

    @property
    def is_leader(self) -> bool:
        """Return whether this person is a director, principal or admin."""
        return self.role in LEADER_ROLES

    @property
    def role_name(self) -> str:
        """Return the Chinese name of the role."""
        return ROLE_NAMES.get(self.role, "老师")


class StaffDuty(Base):
    """A duty (总务, 安全, 教务 …) that routes tickets to a staff member."""

    __tablename__ = "staff_duties"
    __table_args__ = (UniqueConstraint("staff_id", "duty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    duty: Mapped[str] = mapped_column(String(20))

    staff: Mapped[Staff] = relationship(back_populates="duties")


class SchoolClass(Base):
    """A class (班级) with its grade and head teacher."""

    __tablename__ = "classes"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    grade: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(50))
    head_teacher_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    school: Mapped[School] = relationship(back_populates="classes")
    head_teacher: Mapped[Staff | None] = relationship()
    teachers: Mapped[list[ClassTeacher]] = relationship(back_populates="school_class", cascade="all, delete-orphan")


class ClassTeacher(Base):
    """A subject teacher (任课教师) of a class."""

    __tablename__ = "class_teachers"
    __table_args__ = (UniqueConstraint("class_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)

    school_class: Mapped[SchoolClass] = relationship(back_populates="teachers")
    staff: Mapped[Staff] = relationship()


class Student(Base):
    """A student; students who leave are marked, never deleted."""

    __tablename__ = "students"
    __table_args__ = (UniqueConstraint("class_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str | None] = mapped_column(String(4))
    # 包靠: the teacher responsible for contacting this family.
    responsible_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    left_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Wrong binding guesses at this student from any account (models/people.py): a window and a lock.
    bind_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    bind_failures_since: Mapped[dt.datetime | None]
    bind_locked_until: Mapped[dt.datetime | None]

    school: Mapped[School] = relationship()
    school_class: Mapped[SchoolClass] = relationship()
    responsible_staff: Mapped[Staff | None] = relationship()
    care_flags: Mapped[list[StudentCare]] = relationship(back_populates="student", cascade="all, delete-orphan")
    guardianships: Mapped[list[Guardianship]] = relationship(back_populates="student")

    @property
    def care_names(self) -> list[str]:
        """Return the Chinese names of this student's special-care flags."""
        return [CARE_FLAGS[c.flag] for c in self.care_flags if c.flag in CARE_FLAGS]


class StudentCare(Base):
    """A special-care flag (留守, 家庭困难, 残疾, 单亲, 心理关注) on a student."""

    __tablename__ = "student_care"
    __table_args__ = (UniqueConstraint("student_id", "flag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    flag: Mapped[str] = mapped_column(String(20))

    student: Mapped[Student] = relationship(back_populates="care_flags")


class Guardian(Base):
    """A parent or other guardian; the phone is stored whole, shown masked."""

    __tablename__ = "guardians"
    __table_args__ = (UniqueConstraint("school_id", "name", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    school: Mapped[School] = relationship()
    guardianships: Mapped[list[Guardianship]] = relationship(back_populates="guardian")

    @property
    def masked_phone(self) -> str:
        """Return the phone as 138****1234."""
        return mask_phone(self.phone)


class Guardianship(Base):
    """The guardian–student pair (with the relation, e.g. 妈妈); bindings attach here."""

    __tablename__ = "guardianships"
    __table_args__ = (UniqueConstraint("guardian_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardians.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    relation: Mapped[str] = mapped_column(String(10), default="家长")

    guardian: Mapped[Guardian] = relationship(back_populates="guardianships")
    student: Mapped[Student] = relationship(back_populates="guardianships")

    @property
    def display_name(self) -> str:
        """Return how the school addresses this guardian, e.g. 张小明妈妈."""
        return f"{self.student.name}{self.relation}"


def mask_phone(phone: str | None) -> str:
    """Mask a phone number for display: 13812341234 → 138****1234."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def find_school(session: Session, key: str) -> School | None:
    """Return the school whose code or name is ``key`` (what operators type after --school)."""
    return session.scalar(select(School).where((School.code == key) | (School.name == key)))
