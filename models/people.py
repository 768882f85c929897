"""Identities, binding (绑定) and how to reach a person."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hmac
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.message import GROUP, USER, Recipient
from models.directory import Guardian, Guardianship, SchoolClass, Staff, Student
from models.identity import ChatGroup, Identity, IdentityBinding
from models.inbound import insert_params, upsert_statement

# Identities that can receive but never write (学校通知 to a 家校通讯录 parent_userid).
ONE_WAY_PLATFORMS = frozenset({"wecom_school"})


def touch_identity(
    session: Session, platform: str, school_id: int, external_id: str, display_name: str | None, now: dt.datetime
) -> Identity:
    """Return the identity for a platform user, creating it on first contact.

    On PostgreSQL and SQLite this is one upsert (the webhook's hot path).
    """
    stmt = _touch_statement(session.get_bind().dialect.name)
    if stmt is not None:
        params = insert_params(Identity, {
            "platform": platform, "school_id": school_id, "external_id": external_id,
            "display_name": display_name or None, "last_inbound_at": now, "created_at": now})
        return session.scalars(stmt, params, execution_options={"populate_existing": True}).one()
    identity = session.scalar(
        select(Identity).where(
            Identity.platform == platform, Identity.school_id == school_id, Identity.external_id == external_id
        )
    )
    if identity is None:
        identity = Identity(platform=platform, school_id=school_id, external_id=external_id, created_at=now)
        session.add(identity)
    if display_name:
        identity.display_name = display_name
    identity.last_inbound_at = now
    session.flush()
    return identity


@functools.cache
def _touch_statement(dialect: str) -> Any:
    """Build the identity upsert once per dialect."""
    if dialect not in ("postgresql", "sqlite"):
        return None
    return upsert_statement(Identity, ("platform", "school_id", "external_id"), {
        "last_inbound_at": "excluded.last_inbound_at",
        "display_name": "COALESCE(excluded.display_name, identities.display_name)",
    })


def find_group(session: Session, platform: str, conversation_id: str) -> ChatGroup | None:
    """Return the chat group registered for a conversation."""
    return session.scalar(
        select(ChatGroup).where(ChatGroup.platform == platform, ChatGroup.conversation_id == conversation_id)
    )


@dataclasses.dataclass(frozen=True)
class BindOutcome:
    """What a binding attempt achieved.

    ``status`` is one of ``bound``, ``staff``, ``mismatch``, ``locked``
    (this account), ``student_locked`` (too many guesses at this student from
    any accounts), ``ambiguous`` (several guardians share the phone; ask the relation).
    """

    status: str
    guardianships: tuple[Guardianship, ...] = ()
    staff: Staff | None = None
    remaining: int = 0
    locked_until: dt.datetime | None = None
    relations: tuple[str, ...] = ()
    # Students whose binding this attempt locked (their head teachers are told once).
    students_locked: tuple[Student, ...] = ()


def bind(
    session: Session,
    identity: Identity,
    name: str,
    last4: str,
    *,
    relation: str | None,
    now: dt.datetime,
    max_failures: int,
    lock_minutes: int,
    staff_allowed: bool = True,
) -> BindOutcome:
    """Bind an identity to a student's guardian or to a staff member.

    ``name`` is the student's name (for parents) or the staff member's own
    name; ``last4`` the last four digits of the phone on the roster. Only the
    guardian–student pairs of the guardian who proved the phone are bound, so
    families sharing a phone number never see each other's children.
    """
    if identity.locked_until is not None and identity.locked_until > now:
        return BindOutcome("locked", locked_until=identity.locked_until)
    # A sender outside the school's platform directory can never become staff.
    staff = _staff_matching(session, identity.school_id, name, last4) if staff_allowed else None
    students = [] if staff is not None else _students_named(session, identity.school_id, name)
    locked = [st.bind_locked_until for st in students if st.bind_locked_until and st.bind_locked_until > now]
    if locked:
        return BindOutcome("student_locked", locked_until=max(locked))
    guardians = _guardians_matching(session, identity.school_id, name, last4)
    if relation:
        guardians = [g for g in guardians if any(gs.relation == relation for gs in g.guardianships)]
    if not guardians and staff is None:
        newly = tuple(st for st in students if _count_guess(st, now, max_failures, lock_minutes))
        outcome = _fail(identity, now, max_failures, lock_minutes)
        return dataclasses.replace(outcome, students_locked=newly)
    identity.failed_attempts = 0
    identity.locked_until = None
    if staff is not None and not guardians:
        identity.staff_id = staff.id
        return BindOutcome("staff", staff=staff)
    if len(guardians) > 1:
        relations = tuple(
            sorted({gs.relation for g in guardians for gs in g.guardianships if gs.student.name == name})
        )
        return BindOutcome("ambiguous", relations=relations)
    guardian = guardians[0]
    bound: list[Guardianship] = []
    have = {b.guardianship_id for b in identity.bindings}
    for gs in guardian.guardianships:
        if not gs.student.active:
            continue
        if gs.id not in have:
            identity.bindings.append(IdentityBinding(guardianship=gs, bound_at=now, method="phone"))
        bound.append(gs)
    session.flush()
    return BindOutcome("bound", guardianships=tuple(bound))


def record_failure(identity: Identity, now: dt.datetime, max_failures: int, lock_minutes: int) -> BindOutcome:
    """Count a wrong binding attempt (any method); lock the identity after too many."""
    return _fail(identity, now, max_failures, lock_minutes)


def _fail(identity: Identity, now: dt.datetime, max_failures: int, lock_minutes: int) -> BindOutcome:
    identity.failed_attempts += 1
    remaining = max(max_failures - identity.failed_attempts, 0)
    if remaining == 0:
        identity.locked_until = now + dt.timedelta(minutes=lock_minutes)
        identity.failed_attempts = 0
        return BindOutcome("locked", locked_until=identity.locked_until)
    return BindOutcome("mismatch", remaining=remaining)


def _last4_equal(phone: str | None, last4: str) -> bool:
    return bool(phone) and hmac.compare_digest(phone[-4:].encode(), last4.encode())  # type: ignore[index]


def _students_named(session: Session, school_id: int, name: str) -> list[Student]:
    return list(session.scalars(select(Student).where(
        Student.school_id == school_id, Student.name == name, Student.active.is_(True))))


def _count_guess(student: Student, now: dt.datetime, max_failures: int, lock_minutes: int) -> bool:
    """Count a wrong guess at a student from any account; return True when it locks the student.

    Guesses count within a window of ``lock_minutes`` from the first one, so
    one careless parent a day never adds up to a lock.
    """
    window = dt.timedelta(minutes=lock_minutes)
    if student.bind_failures_since is None or student.bind_failures_since <= now - window:
        student.bind_failures, student.bind_failures_since = 0, now
    student.bind_failures += 1
    if student.bind_failures < max_failures:
        return False
    student.bind_failures, student.bind_failures_since = 0, None
    student.bind_locked_until = now + window
    return True


def _guardians_matching(session: Session, school_id: int, student_name: str, last4: str) -> list[Guardian]:
    rows = session.scalars(
        select(Guardianship)
        .join(Student, Guardianship.student_id == Student.id)
        .where(Student.school_id == school_id, Student.name == student_name, Student.active.is_(True))
    ).all()
    guardians: dict[int, Guardian] = {}
    for gs in rows:
        if _last4_equal(gs.guardian.phone, last4):
            guardians[gs.guardian_id] = gs.guardian
    return list(guardians.values())


def _staff_matching(session: Session, school_id: int, name: str, last4: str) -> Staff | None:
    staff = session.scalar(
        select(Staff).where(Staff.school_id == school_id, Staff.name == name, Staff.active.is_(True))
    )
    return staff if staff is not None and _last4_equal(staff.phone, last4) else None


def school_name(session: Session, school_id: int) -> str:
    """Return a school's display name ("学校" when unknown)."""
    from models.directory import School

    school = session.get(School, school_id)
    return school.name if school is not None else "学校"


def school_of(session: Session, school_id: int) -> Any:
    """Return a school (for handlers, which run no queries)."""
    from models.directory import School

    return session.get(School, school_id)


def staff_recipients(session: Session, staff: Staff) -> list[Recipient]:
    """Return every private address where a staff member is bound, newest contact first."""
    identities = session.scalars(
        select(Identity).where(Identity.staff_id == staff.id).order_by(Identity.last_inbound_at.desc())
    ).all()
    return [_user(i) for i in identities]


def guardian_recipients(session: Session, student: Student) -> list[tuple[Guardianship, Recipient]]:
    """Return the private addresses of every identity bound to one of the student's guardians.

    A one-way identity (学校通知 to a 家校通讯录 parent id) is used only for a guardian
    no other identity reaches, so a parent who chats with the bot gets one copy, not two
    (their chat channel falls back to 学校通知 by itself when its window is closed).
    """
    rows = session.execute(
        select(IdentityBinding, Identity)
        .join(Identity, IdentityBinding.identity_id == Identity.id)
        .join(Guardianship, IdentityBinding.guardianship_id == Guardianship.id)
        .where(Guardianship.student_id == student.id)
        .order_by(Identity.id)
    ).all()
    reachable = {b.guardianship_id for b, i in rows if i.platform not in ONE_WAY_PLATFORMS}
    return [(binding.guardianship, _user(identity)) for binding, identity in rows
            if identity.platform not in ONE_WAY_PLATFORMS or binding.guardianship_id not in reachable]


def class_groups(session: Session, school_class: SchoolClass) -> list[Recipient]:
    """Return the chat groups registered for a class."""
    groups = session.scalars(select(ChatGroup).where(ChatGroup.class_id == school_class.id)).all()
    return [Recipient(g.platform, GROUP, g.conversation_id, g.school_id) for g in groups]


def audience_of(session: Session, recipient: Recipient) -> str:
    """Return ``group``, ``staff`` or ``parent`` for an outbound recipient."""
    if recipient.is_group:
        return "group"
    identity = session.get(Identity, recipient.identity_id) if recipient.identity_id else None
    return "staff" if identity is not None and identity.staff_id is not None else "parent"


def identity_recipient(identity: Identity) -> Recipient:
    """Return the private address of one identity."""
    return _user(identity)


def _user(identity: Identity) -> Recipient:
    return Recipient(identity.platform, USER, identity.external_id, identity.school_id, identity_id=identity.id)
