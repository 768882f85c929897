"""Praise (表扬): recorded and credited to the teacher it names, never a ticket."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base
from models.directory import SchoolClass, Staff, Student
from models.routing import named_staff


class Praise(Base):
    """A parent's thanks with substance, credited to a staff member."""

    __tablename__ = "praise"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    category: Mapped[str | None]
    text: Mapped[str] = mapped_column(Text)
    source_inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    at: Mapped[dt.datetime]

    staff: Mapped[Staff | None] = relationship()


def record_praise(session: Session, *, school_id: int, text: str, now: dt.datetime, identity_id: int | None,
                  student: Student | None, school_class: SchoolClass | None, category: str | None = None,
                  source_inbound_id: int | None = None) -> Praise:
    """Store praise, credited to the staff member it names, else the class head teacher."""
    if school_class is None and student is not None:
        school_class = student.school_class
    staff = named_staff(session, school_id, text, school_class)
    if staff is None and school_class is not None:
        staff = school_class.head_teacher
    praise = Praise(school_id=school_id, identity_id=identity_id, student_id=student.id if student else None,
                    class_id=school_class.id if school_class else None, staff_id=staff.id if staff else None,
                    staff=staff, category=category, text=text, source_inbound_id=source_inbound_id, at=now)
    session.add(praise)
    session.flush()
    return praise
