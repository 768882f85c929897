"""Class groups: which platform conversation belongs to which class (绑定班级)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.message import Recipient
from models.directory import Guardianship, SchoolClass, Staff, Student
from models.identity import ChatGroup, Identity, IdentityBinding


@dataclasses.dataclass(frozen=True)
class LinkOutcome:
    """What linking a conversation to a class did.

    ``status``: ``linked`` (new or moved), ``unchanged``, ``no_class`` (no such
    class in the school), ``not_yours`` (a head teacher naming another class),
    ``taken`` (the group already belongs to a class the person does not lead).
    """

    status: str
    group: ChatGroup | None = None
    school_class: SchoolClass | None = None
    previous: SchoolClass | None = None


def find_class(session: Session, school_id: int, name: str) -> SchoolClass | None:
    """Return the school's class with this name (full-width and spaces forgiven)."""
    wanted = unicodedata.normalize("NFKC", name).replace(" ", "")
    for school_class in session.scalars(select(SchoolClass).where(SchoolClass.school_id == school_id)):
        if unicodedata.normalize("NFKC", school_class.name).replace(" ", "") == wanted:
            return school_class
    return None


def _may_manage(staff: Staff | None, school_class: SchoolClass) -> bool:
    """Return whether staff may link groups to this class (None = operator CLI)."""
    return staff is None or staff.is_leader or school_class.head_teacher_id == staff.id


def link_group(
    session: Session,
    *,
    platform: str,
    school_id: int,
    conversation_id: str,
    class_name: str,
    now: dt.datetime,
    staff: Staff | None = None,
    title: str | None = None,
) -> LinkOutcome:
    """Register a conversation as a class's group.

    Head teachers may link only their own class, leaders any class of their
    school; ``staff=None`` is the operator (CLI). A group already linked to
    another class moves only if the person may manage that class too.
    """
    school_class = find_class(session, school_id, class_name)
    if school_class is None:
        return LinkOutcome("no_class")
    if not _may_manage(staff, school_class):
        return LinkOutcome("not_yours", school_class=school_class)
    group = session.scalar(
        select(ChatGroup).where(ChatGroup.platform == platform, ChatGroup.conversation_id == conversation_id)
    )
    if group is None:
        group = ChatGroup(platform=platform, school_id=school_id, conversation_id=conversation_id,
                          class_id=school_class.id, title=title, created_at=now)
        session.add(group)
        session.flush()
        return LinkOutcome("linked", group, school_class)
    previous = group.school_class
    if group.school_id != school_id:
        return LinkOutcome("taken", group, school_class, previous)
    if group.class_id == school_class.id:
        return LinkOutcome("unchanged", group, school_class, previous)
    if previous is not None and not _may_manage(staff, previous):
        return LinkOutcome("taken", group, school_class, previous)
    group.class_id = school_class.id
    if title:
        group.title = title
    session.flush()
    return LinkOutcome("linked", group, school_class, previous)


def list_groups(session: Session, school_id: int | None = None) -> list[ChatGroup]:
    """Return the registered groups (of one school), by school and class."""
    stmt = select(ChatGroup).order_by(ChatGroup.school_id, ChatGroup.class_id, ChatGroup.id)
    if school_id is not None:
        stmt = stmt.where(ChatGroup.school_id == school_id)
    return list(session.scalars(stmt))




# A group robot's webhook key, alone or inside its webhook URL (…/webhook/send?key=<key>).
_ROBOT_KEY = re.compile(r"(?:[?&]key=)?([A-Za-z0-9][A-Za-z0-9_-]{7,99})$")


def parse_robot_key(text: str) -> str | None:
    """Return the key from a pasted robot key or webhook URL; None when it is neither."""
    match = _ROBOT_KEY.search(text.strip())
    return match.group(1) if match else None


def find_group(session: Session, platform: str, conversation_id: str) -> ChatGroup | None:
    """Return the registered group of a conversation, if any."""
    return session.scalar(select(ChatGroup).where(ChatGroup.platform == platform,
                                                  ChatGroup.conversation_id == conversation_id))


def set_robot_key(session: Session, group: ChatGroup, key: str | None, staff: Staff) -> str:
    """Store (or with None remove) a class group's robot key; return ``set``, ``removed``, ``no_class``, ``not_yours``.

    Only the class's head teacher or a leader may, as for 绑定班级.
    """
    if group.school_class is None:
        return "no_class"
    if not _may_manage(staff, group.school_class):
        return "not_yours"
    group.robot_key = key
    session.flush()
    return "set" if key else "removed"


def robot_key_for(session: Session, school_id: int | None, conversation_id: str) -> str | None:
    """Return the robot key registered for one group conversation (never another group's)."""
    return session.scalar(select(ChatGroup.robot_key).where(
        ChatGroup.school_id == school_id, ChatGroup.conversation_id == conversation_id,
        ChatGroup.robot_key.is_not(None)).limit(1))


def family_recipients(session: Session, school_id: int | None, conversation_id: str) -> list[Recipient]:
    """Return the private address of every identity bound to a family of the group's class, once each."""
    class_id = session.scalar(select(ChatGroup.class_id).where(
        ChatGroup.school_id == school_id, ChatGroup.conversation_id == conversation_id).limit(1))
    if class_id is None:
        return []
    identities = session.scalars(
        select(Identity).join(IdentityBinding, IdentityBinding.identity_id == Identity.id)
        .join(Guardianship, IdentityBinding.guardianship_id == Guardianship.id)
        .join(Student, Guardianship.student_id == Student.id)
        .where(Student.class_id == class_id, Student.active.is_(True)).distinct().order_by(Identity.id)
    ).all()
    return [Recipient(i.platform, "user", i.external_id, i.school_id, i.id) for i in identities]
