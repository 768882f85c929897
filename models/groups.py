"""Class groups: which platform conversation belongs to which class (绑定班级)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.directory import SchoolClass, Staff
from models.identity import ChatGroup


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


