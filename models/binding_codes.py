"""One-time binding codes (绑定码) a teacher hands to one guardian of a student."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models.directory import Guardianship, Staff, Student
from models.identity import BindingCode, Identity, IdentityBinding
from models.people import BindOutcome, record_failure

CODE_DIGITS = 6
# Used and expired codes are kept this long (for support questions), then purged.
KEEP_DAYS = 30


@dataclasses.dataclass(frozen=True)
class CodeResult:
    """What a request for a binding code achieved.

    ``status``: ``issued``, ``no_student``, ``forbidden``, ``ambiguous``
    (same name in several classes; ``classes`` lists them), ``need_relation``
    or ``no_relation`` (``relations`` lists the student's guardians).
    """

    status: str
    code: str | None = None
    guardianship: Guardianship | None = None
    expires_at: dt.datetime | None = None
    relations: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()


def may_manage(staff: Staff, student: Student) -> bool:
    """Return whether a staff member looks after this student (leaders: every student of the school)."""
    if staff.school_id != student.school_id:
        return False
    cls = student.school_class
    return (
        staff.is_leader
        or cls.head_teacher_id == staff.id
        or student.responsible_staff_id == staff.id
        or any(ct.staff_id == staff.id for ct in cls.teachers)
    )


def issue_code(session: Session, staff: Staff, student_name: str, *, relation: str | None, class_name: str | None,
               now: dt.datetime, ttl_hours: int) -> CodeResult:
    """Create a single-use code that binds one guardian of a student.

    A new code for the same guardian replaces any earlier unused one.
    """
    query = select(Student).where(Student.school_id == staff.school_id, Student.name == student_name,
                                  Student.active.is_(True)).order_by(Student.id)
    students = [s for s in session.scalars(query) if not class_name or s.school_class.name == class_name]
    if not students:
        return CodeResult("no_student")
    allowed = [s for s in students if may_manage(staff, s)]
    if not allowed:
        return CodeResult("forbidden")
    if len(allowed) > 1:
        return CodeResult("ambiguous", classes=tuple(s.school_class.name for s in allowed))
    pairs = list(allowed[0].guardianships)
    relations = tuple(gs.relation for gs in pairs)
    if relation:
        pairs = [gs for gs in pairs if gs.relation == relation]
    if not pairs:
        return CodeResult("no_relation", relations=relations)
    if len(pairs) > 1:
        return CodeResult("need_relation", relations=relations)
    guardianship = pairs[0]
    _retire(session, guardianship, now)
    code = _fresh_code(session)
    expires = now + dt.timedelta(hours=ttl_hours)
    session.add(BindingCode(school_id=staff.school_id, code=code, guardianship_id=guardianship.id,
                            created_by_id=staff.id, expires_at=expires))
    session.flush()
    return CodeResult("issued", code=code, guardianship=guardianship, expires_at=expires)


def _retire(session: Session, guardianship: Guardianship, now: dt.datetime) -> None:
    for old in session.scalars(select(BindingCode).where(
            BindingCode.guardianship_id == guardianship.id, BindingCode.used_at.is_(None),
            BindingCode.expires_at > now)):
        old.expires_at = now
    session.execute(delete(BindingCode).where(BindingCode.expires_at < now - dt.timedelta(days=KEEP_DAYS)))


def _fresh_code(session: Session) -> str:
    while True:
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        if session.scalar(select(BindingCode.id).where(BindingCode.code == code)) is None:
            return code


def redeem_code(session: Session, identity: Identity, code: str, *, now: dt.datetime, max_failures: int,
                lock_minutes: int) -> BindOutcome:
    """Bind an identity with a one-time code; wrong, used or expired codes count as failed attempts."""
    if identity.locked_until is not None and identity.locked_until > now:
        return BindOutcome("locked", locked_until=identity.locked_until)
    row = session.scalar(select(BindingCode).where(BindingCode.school_id == identity.school_id,
                                                   BindingCode.code == code))
    gs = session.get(Guardianship, row.guardianship_id) if row and row.guardianship_id else None
    staff = session.get(Staff, row.staff_id) if row and row.staff_id else None
    usable = (row is not None and row.used_at is None and row.expires_at > now
              and ((gs is not None and gs.student.active) or (staff is not None and staff.active)))
    if not usable:
        return record_failure(identity, now, max_failures, lock_minutes)
    assert row is not None
    row.used_at = now
    identity.failed_attempts, identity.locked_until = 0, None
    if staff is not None:
        identity.staff_id = staff.id
        session.flush()
        return BindOutcome("staff", staff=staff)
    assert gs is not None
    if all(b.guardianship_id != gs.id for b in identity.bindings):
        identity.bindings.append(IdentityBinding(guardianship=gs, bound_at=now, method="code"))
    session.flush()
    return BindOutcome("bound", guardianships=(gs,))
