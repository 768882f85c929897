"""Which of a parent's children a message is about, from what it names.

A parent of two who writes 「二宝最近上课总走神」, 「一年级二班的作业太多了」 or
「孙老师布置的作业太多了」 has already said which child; only a message that
names none of them (or names both) needs the question "which child?".
"""

from __future__ import annotations

import unicodedata

from models.directory import Guardianship, SchoolClass, Staff

# A given name shorter than this is too likely to occur inside ordinary words.
MIN_GIVEN_NAME = 2


def named_child(text: str, pairs: list[Guardianship]) -> Guardianship | None:
    """Return the one child among ``pairs`` that the text names, or None when it names none or several.

    Tried in order, each only when the previous names nobody: the child's full
    name, the given name (two characters or more), the class (``一年级二班``)
    or grade (``二年级``), a teacher of the class by full name or as
    surname + 老师 (head teacher, subject teachers, the 包靠 teacher).
    """
    if len(pairs) < 2:
        return pairs[0] if pairs else None
    text = unicodedata.normalize("NFKC", text or "")
    for matches in (_by_name, _by_given_name, _by_class, _by_grade, _by_teacher):
        hits = {gs.student_id: gs for gs in pairs if matches(text, gs)}
        if len(hits) == 1:
            return next(iter(hits.values()))
        if hits:
            return None  # it names more than one child: ask
    return None


def _by_name(text: str, gs: Guardianship) -> bool:
    return gs.student.name in text


def _by_given_name(text: str, gs: Guardianship) -> bool:
    given = gs.student.name[1:]
    return len(given) >= MIN_GIVEN_NAME and given in text


def _by_class(text: str, gs: Guardianship) -> bool:
    return gs.student.school_class.name in text


def _by_grade(text: str, gs: Guardianship) -> bool:
    grade = gs.student.school_class.grade
    return bool(grade) and grade in text


def _by_teacher(text: str, gs: Guardianship) -> bool:
    for staff in _teachers(gs.student.school_class, gs.student.responsible_staff):
        if staff.name in text or f"{staff.name[0]}老师" in text:
            return True
    return False


def _teachers(school_class: SchoolClass, responsible: Staff | None) -> list[Staff]:
    staff = [ct.staff for ct in school_class.teachers]
    if school_class.head_teacher is not None:
        staff.append(school_class.head_teacher)
    if responsible is not None:
        staff.append(responsible)
    return [s for s in staff if s.active]
