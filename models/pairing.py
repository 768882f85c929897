"""包靠: pairing each student's family with the teacher who keeps in touch with it."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.directory import SchoolClass, Staff, Student

# Each teacher is paired with 10–20 students (district work plans).
MIN_PER_TEACHER = 10
MAX_PER_TEACHER = 20


def class_teachers(school_class: SchoolClass) -> list[Staff]:
    """Return the active head teacher and subject teachers of a class, head teacher first."""
    people = ([school_class.head_teacher] if school_class.head_teacher else []) + [
        ct.staff for ct in school_class.teachers
    ]
    unique = {s.id: s for s in people if s.active}
    return list(unique.values())


def teacher_loads(session: Session, school_id: int) -> Counter[int]:
    """Return how many active students each staff member of a school is paired with."""
    rows = session.execute(
        select(Student.responsible_staff_id, func.count())
        .where(Student.school_id == school_id, Student.active.is_(True), Student.responsible_staff_id.is_not(None))
        .group_by(Student.responsible_staff_id)
    ).all()
    return Counter({staff_id: count for staff_id, count in rows})


def balance_responsibility(session: Session, school_class: SchoolClass) -> int:
    """Pair every unpaired active student of a class with one of the class's teachers.

    Students already paired with an active teacher keep their teacher. The
    class's students are shared among as many of its teachers as keeps each
    between 10 and 20 (a class of 14 goes to one teacher, 35 to three);
    special-care students go to the head teacher first, and the rest to
    whichever chosen teacher has the fewest students of this class.

    Returns:
        How many students were paired.
    """
    session.flush()
    students = session.scalars(
        select(Student).where(Student.class_id == school_class.id, Student.active.is_(True)).order_by(Student.id)
    ).all()
    todo = [s for s in students if s.responsible_staff is None or not s.responsible_staff.active]
    teachers = class_teachers(school_class)
    if not todo or not teachers:
        return 0
    head = school_class.head_teacher if school_class.head_teacher in teachers else None
    loads = teacher_loads(session, school_class.school_id)
    in_class = Counter(s.responsible_staff_id for s in students if s not in todo)
    wanted = max(1, min(len(teachers), len(students) // MIN_PER_TEACHER))
    ranked = sorted(teachers, key=lambda t: (t is not head, -in_class[t.id], loads[t.id] >= MAX_PER_TEACHER,
                                             loads[t.id], t.id))
    chosen = ranked[:wanted]
    todo.sort(key=lambda s: (not s.care_flags, s.id))  # special-care students first
    for student in todo:
        if student.care_flags and head is not None and loads[head.id] < MAX_PER_TEACHER:
            teacher = head
        else:
            teacher = min(chosen, key=lambda t: (loads[t.id] >= MAX_PER_TEACHER, in_class[t.id], loads[t.id], t.id))
        student.responsible_staff = teacher
        loads[teacher.id] += 1
        in_class[teacher.id] += 1
    session.flush()
    return len(todo)
