"""Who gets a ticket: the rules in config/routing.yaml, evaluated against the roster."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.directory import School, SchoolClass, Staff, StaffDuty
from models.tickets import OPEN_STATES, Ticket

RULES_FILE = Path(__file__).resolve().parent.parent / "config" / "routing.yaml"
_ROLE_ORDER = ("principal", "director", "admin", "head_teacher", "teacher")


@functools.cache
def routing_config() -> dict[str, Any]:
    """Load config/routing.yaml once."""
    return yaml.safe_load(RULES_FILE.read_text(encoding="utf-8")) or {}


def _rules(school_code: str) -> list[dict[str, Any]]:
    cfg = routing_config()
    own = ((cfg.get("schools") or {}).get(school_code) or {}).get("rules") or []
    return [*own, *(cfg.get("rules") or [])]


def _matches(rule: dict[str, Any], kind: str, category: str, urgency: str) -> bool:
    for key, value in (("category", category), ("urgency", urgency), ("kind", kind)):
        wanted = rule.get(key)
        if wanted is None:
            continue
        if value not in (wanted if isinstance(wanted, list) else [wanted]):
            return False
    return True


def open_load(session: Session, staff_ids: Iterable[int]) -> dict[int, int]:
    """Return the number of open tickets assigned to each staff member."""
    ids = list(staff_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Ticket.assignee_id, func.count()).where(Ticket.assignee_id.in_(ids), Ticket.state.in_(OPEN_STATES))
        .group_by(Ticket.assignee_id)
    ).all()
    load = dict.fromkeys(ids, 0)
    load.update({staff_id: count for staff_id, count in rows})
    return load


def least_loaded(session: Session, candidates: list[Staff]) -> Staff | None:
    """Return the candidate with the fewest open tickets (the earliest on the roster on a tie)."""
    if not candidates:
        return None
    load = open_load(session, [s.id for s in candidates])
    return min(candidates, key=lambda s: (load[s.id], s.id))


def staff_with_duties(session: Session, school_id: int, duties: Iterable[str]) -> list[Staff]:
    """Return active staff holding any of the duties."""
    return list(session.scalars(
        select(Staff).join(StaffDuty).where(Staff.school_id == school_id, Staff.active.is_(True),
                                            StaffDuty.duty.in_(list(duties))).distinct().order_by(Staff.id)
    ).all())


def staff_with_roles(session: Session, school_id: int, roles: Iterable[str]) -> list[Staff]:
    """Return active staff with any of the roles, in the order the roles are given."""
    roles = list(roles)
    rows = session.scalars(
        select(Staff).where(Staff.school_id == school_id, Staff.active.is_(True), Staff.role.in_(roles))
        .order_by(Staff.id)
    ).all()
    return sorted(rows, key=lambda s: roles.index(s.role))


def _target(session: Session, school_id: int, target: dict[str, Any] | str, school_class: SchoolClass | None,
            exclude: set[int]) -> Staff | None:
    """Resolve one rule target (duties / roles / head_teacher) to a staff member."""
    if isinstance(target, str):
        target = {"head_teacher": True} if target == "head_teacher" else {"roles": [target]}
    if target.get("head_teacher"):
        head = school_class.head_teacher if school_class is not None else None
        if head is not None and head.active and head.id not in exclude:
            return head
        return None
    for duty in target.get("duties") or ():  # in order: the first duty anybody holds wins
        found = [s for s in staff_with_duties(session, school_id, [duty]) if s.id not in exclude]
        if found:
            return least_loaded(session, found)
    if target.get("roles"):
        by_role = [s for s in staff_with_roles(session, school_id, target["roles"]) if s.id not in exclude]
        # The first role listed wins; within it the least loaded.
        if by_role:
            first = [s for s in by_role if s.role == by_role[0].role]
            return least_loaded(session, first)
    return None


def route(session: Session, school: School, *, kind: str, category: str, urgency: str,
          school_class: SchoolClass | None, about_staff: Staff | None = None,
          exclude: Iterable[int] = ()) -> Staff | None:
    """Return who should own a new ticket (None only for a school without any staff).

    A complaint about a staff member goes to the ``about_staff`` roles and is
    never given to the person named.
    """
    cfg = routing_config()
    excluded = set(exclude) | ({about_staff.id} if about_staff is not None else set())
    targets: list[Any] = []
    if about_staff is not None or category == "teacher_conduct":
        targets.append({"roles": list(cfg.get("about_staff") or ["principal", "director"])})
    else:
        rule = next((r for r in _rules(school.code) if _matches(r, kind, category, urgency)), None)
        targets.append(rule if rule is not None else (cfg.get("default") or {"head_teacher": True}))
    targets.extend(cfg.get("fallback") or ["head_teacher", "director", "principal"])
    for target in targets:
        staff = _target(session, school.id, target, school_class, excluded)
        if staff is not None:
            return staff
    return None


def urgent_watchers(session: Session, school_id: int, exclude: Iterable[int] = ()) -> list[Staff]:
    """Return the leaders alerted at once about urgent tickets."""
    roles = routing_config().get("notify_urgent") or ["director", "principal"]
    skip = set(exclude)
    return [s for s in staff_with_roles(session, school_id, roles) if s.id not in skip]


_SURNAME_TEACHER = re.compile(r"([\u4e00-\u9fff])(?:老师|校长|主任)")


def named_staff(session: Session, school_id: int, text: str, school_class: SchoolClass | None,
                role_words: bool = False) -> Staff | None:
    """Return the staff member a message names, if any.

    A full roster name counts anywhere; ``王老师`` counts when exactly one
    teacher of the child's class has that surname; with ``role_words``,
    ``班主任`` means the class head teacher.
    """
    staff = session.scalars(select(Staff).where(Staff.school_id == school_id, Staff.active.is_(True))).all()
    for person in sorted(staff, key=lambda s: -len(s.name)):
        if len(person.name) >= 2 and person.name in text:
            return person
    if school_class is not None:
        teachers = {t.staff for t in school_class.teachers if t.staff.active}
        if school_class.head_teacher is not None:
            teachers.add(school_class.head_teacher)
        for surname in _SURNAME_TEACHER.findall(text):
            same = [t for t in teachers if t.name.startswith(surname)]
            if len(same) == 1:
                return same[0]
        if role_words and "班主任" in text and school_class.head_teacher is not None:
            return school_class.head_teacher
    return None


def role_rank(staff: Staff) -> int:
    """Return a sort key: leaders first."""
    return _ROLE_ORDER.index(staff.role) if staff.role in _ROLE_ORDER else len(_ROLE_ORDER)


def staff_by_name(session: Session, school_id: int, name: str) -> Staff | None:
    """Return the active staff member of a school with this name (``王芳`` or ``王芳老师``)."""
    name = name.strip()
    for candidate in (name, name.removesuffix("老师"), name.removesuffix("主任"), name.removesuffix("校长")):
        staff = session.scalar(select(Staff).where(Staff.school_id == school_id, Staff.name == candidate,
                                                   Staff.active.is_(True)))
        if staff is not None:
            return staff
    return None
