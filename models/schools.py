"""School codes: the short name a school goes by in URLs, settings and CLI options."""

from __future__ import annotations

import dataclasses
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.directory import SCHOOL_KIND_NAMES, School, SchoolClass, Student, find_school

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


class SchoolCodeError(ValueError):
    """The code is malformed or already taken (message in Chinese)."""


@dataclasses.dataclass(frozen=True)
class SchoolRow:
    """One line of ``schools list``."""

    code: str
    name: str
    kind_name: str
    classes: int
    students: int


def school_overview(session: Session) -> list[SchoolRow]:
    """Return every school with its number of classes and active students."""
    classes = dict(session.execute(select(SchoolClass.school_id, func.count()).group_by(SchoolClass.school_id)).all())
    students = dict(session.execute(
        select(Student.school_id, func.count()).where(Student.active.is_(True)).group_by(Student.school_id)).all())
    return [
        SchoolRow(s.code, s.name, SCHOOL_KIND_NAMES.get(s.kind, s.kind), classes.get(s.id, 0), students.get(s.id, 0))
        for s in session.scalars(select(School).order_by(School.id))
    ]


def set_code(session: Session, school_key: str, code: str) -> School:
    """Rename a school's code (lowercase letters, digits and dashes, starting with a letter)."""
    school = find_school(session, school_key)
    if school is None:
        raise SchoolCodeError(f"没有找到学校：{school_key}")
    if not CODE_PATTERN.match(code):
        raise SchoolCodeError("编码只能用小写字母、数字和连字符，以字母开头，2–40 个字符，例如 shiyan-primary")
    taken = session.scalar(select(School).where(School.code == code, School.id != school.id))
    if taken is not None:
        raise SchoolCodeError(f"编码 {code} 已被「{taken.name}」使用")
    school.code = code
    session.flush()
    return school
