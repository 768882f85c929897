"""Who a notice or survey reaches: ``全校``, a grade (``一年级``, ``大班``) or classes.

A scope is written the way staff talk: ``全校`` (or ``全园``), a grade name as
the roster spells it, one class name, or several of them separated by ``、``
``,`` or ``+``. Arabic digits are read as Chinese numerals, so ``3年级2班``
means ``三年级二班``. Parsing is a pure function of the school's classes.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.class_order import sort_classes
from models.directory import SchoolClass, Staff

WHOLE_SCHOOL = ("全校", "全园", "全体", "全部")
_SEPARATORS = re.compile(r"[、,，+;；/]")
_DIGITS = "零一二三四五六七八九"


class ScopeError(ValueError):
    """The scope names no class of the school; the message is shown to the user."""


class ScopeForbidden(ScopeError):
    """The scope names classes the sender may not address (a head teacher beyond their class)."""


@dataclasses.dataclass(frozen=True)
class ClassRef:
    """The parts of a class that scope parsing needs."""

    id: int
    name: str
    grade: str


@dataclasses.dataclass(frozen=True)
class Scope:
    """A parsed scope: its label and the classes it covers (in roster order)."""

    label: str
    class_ids: tuple[int, ...]


def chinese_numerals(text: str) -> str:
    """Replace runs of Arabic digits (1–99) with Chinese numerals: 12 → 十二."""

    def convert(match: re.Match[str]) -> str:
        value = int(match.group())
        if value == 0 or value > 99:
            return match.group()
        tens, ones = divmod(value, 10)
        head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
        return head + (_DIGITS[ones] if ones else "")

    return re.sub(r"\d+", convert, text)


def parse_scope(text: str, classes: Sequence[ClassRef]) -> Scope:
    """Parse a scope against a school's classes.

    Args:
        text: what the person typed, e.g. ``全校``, ``一年级``, ``三年级二班、三年级三班``.
        classes: the school's classes in roster order.

    Returns:
        The scope with the covered class ids, without duplicates.

    Raises:
        ScopeError: when a part names no class or grade, or nothing remains.
    """
    cleaned = chinese_numerals(text.strip().replace(" ", ""))
    if not cleaned:
        raise ScopeError("请写明范围：全校、年级（如 一年级）或班级（如 三年级二班）。")
    if cleaned in WHOLE_SCHOOL:
        if not classes:
            raise ScopeError("本校还没有班级。")
        return Scope(cleaned, tuple(c.id for c in classes))
    chosen: list[int] = []
    for part in (p for p in _SEPARATORS.split(cleaned) if p):
        ids = _match_part(part, classes)
        if not ids:
            raise ScopeError(f"没有找到「{part}」。可写：全校、{_examples(classes)}。")
        chosen.extend(i for i in ids if i not in chosen)
    if not chosen:  # only separators, e.g. "；"
        raise ScopeError("请写明范围：全校、年级（如 一年级）或班级（如 三年级二班）。")
    order = {c.id: n for n, c in enumerate(classes)}
    chosen.sort(key=order.__getitem__)
    return Scope("、".join(p for p in _SEPARATORS.split(cleaned) if p), tuple(chosen))


def _match_part(part: str, classes: Sequence[ClassRef]) -> list[int]:
    exact = [c.id for c in classes if c.name == part]
    if exact:
        return exact
    grade = [c.id for c in classes if c.grade == part]
    if grade:
        return grade
    # "一年级" typed as "一年" or a class typed without its grade is ambiguous: refuse.
    return []


def _examples(classes: Sequence[ClassRef]) -> str:
    grades = list(dict.fromkeys(c.grade for c in classes))
    sample = [*grades[:2], *(c.name for c in classes[:1])]
    return "、".join(sample) or "一年级、一年级一班"


def school_classes(session: Session, school_id: int) -> list[ClassRef]:
    """Return a school's classes as scope references, in grade order."""
    rows = sort_classes(session.scalars(select(SchoolClass).where(SchoolClass.school_id == school_id)
                                        .order_by(SchoolClass.id)))
    return [ClassRef(c.id, c.name, c.grade) for c in rows]


def resolve_scope(session: Session, school_id: int, text: str) -> Scope:
    """Parse a scope typed in chat against the school's classes."""
    return parse_scope(text, school_classes(session, school_id))


def restrict_to(scope: Scope, allowed: Iterable[int]) -> Scope | None:
    """Return the scope if every class is in ``allowed``, else None."""
    allowed = set(allowed)
    return scope if set(scope.class_ids) <= allowed else None


def headed_class_ids(session: Session, staff_id: int) -> list[int]:
    """Return the ids of the classes a staff member is head teacher of."""
    return list(session.scalars(select(SchoolClass.id).where(SchoolClass.head_teacher_id == staff_id)))


def teaching_class_ids(session: Session, staff_id: int) -> list[int]:
    """Return the classes a staff member heads or teaches."""
    from models.directory import ClassTeacher

    taught = session.scalars(select(ClassTeacher.class_id).where(ClassTeacher.staff_id == staff_id))
    return sorted(set(headed_class_ids(session, staff_id)) | set(taught))


def sender_scope(session: Session, staff: Staff, text: str) -> Scope:
    """Parse the scope of a staff member's notice; head teachers may address only the classes they head.

    Raises:
        ScopeError: the scope names no class of the school.
        ScopeForbidden: a non-leader named a class they do not head.
    """
    parsed = resolve_scope(session, staff.school_id, text)
    if not staff.is_leader and restrict_to(parsed, headed_class_ids(session, staff.id)) is None:
        raise ScopeForbidden("班主任只能给本班发送通知；全校或年级通知请联系主任或校长。")
    return parsed
