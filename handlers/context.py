"""What a handler knows about the message it handles."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from config.settings import Settings
from models.directory import Guardianship, Role, Staff
from models.identity import ChatGroup, Identity

if TYPE_CHECKING:
    from sqlalchemy.orm import Session  # the type only: handlers run no SQL

STRANGER = "stranger"
PARENT = "parent"
TEACHER = "teacher"
HEAD_TEACHER = "head_teacher"
LEADER = "leader"
STAFF_ROLES = frozenset({TEACHER, HEAD_TEACHER, LEADER})
EVERYONE = frozenset({STRANGER, PARENT, TEACHER, HEAD_TEACHER, LEADER})


@dataclasses.dataclass
class Actor:
    """The person behind an identity, with the roles their bindings give."""

    identity: Identity
    staff: Staff | None
    guardianships: list[Guardianship]
    roles: frozenset[str]

    @classmethod
    def of(cls, identity: Identity, *, staff_allowed: bool = True) -> Actor:
        """Derive the actor and their roles from an identity's bindings.

        ``staff_allowed=False`` (the sender is outside the school's platform
        directory) keeps a staff binding from giving any staff power.
        """
        staff = identity.staff if identity.staff is not None and identity.staff.active else None
        if not staff_allowed:
            staff = None
        guardianships = [gs for gs in identity.guardianships if gs.student.active]
        roles: set[str] = set()
        if guardianships:
            roles.add(PARENT)
        if staff is not None:
            roles.add(TEACHER)
            if staff.role == Role.HEAD_TEACHER:
                roles.add(HEAD_TEACHER)
            if staff.is_leader:
                roles.update({HEAD_TEACHER, LEADER})
        if not roles:
            roles.add(STRANGER)
        return cls(identity, staff, guardianships, frozenset(roles))

    @property
    def is_staff(self) -> bool:
        """Return whether the actor speaks as school staff."""
        return self.staff is not None

    @property
    def display_name(self) -> str:
        """Return how the bot addresses this person."""
        if self.staff is not None:
            return f"{self.staff.name}{self.staff.role_name}" if self.staff.is_leader else f"{self.staff.name}老师"
        if self.guardianships:
            return self.guardianships[0].display_name
        return self.identity.display_name or "您"


@dataclasses.dataclass
class Context:
    """The unit of work a handler runs in.

    ``session`` is the caller's database session, passed unchanged to the
    services in ``models``; handlers never query it themselves.
    """

    session: Session
    settings: Settings
    now: dt.datetime
    actor: Actor
    group: ChatGroup | None = None
    inbound_id: int | None = None
    services: dict[str, Any] = dataclasses.field(default_factory=dict)
