"""Platform identities, their bindings to people, and chat groups."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.directory import Guardianship, SchoolClass, Staff


class Identity(Base):
    """Someone as a platform knows them (platform + external user id).

    An identity is bound either to a staff member or to one or more
    guardian–student pairs; until then it is a stranger to the bot.
    """

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "school_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(100))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    # When the person last wrote to us: private-reply windows (48 h) count from here.
    last_inbound_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    staff: Mapped[Staff | None] = relationship()
    bindings: Mapped[list[IdentityBinding]] = relationship(
        back_populates="identity", cascade="all, delete-orphan", order_by="IdentityBinding.id"
    )

    @property
    def guardianships(self) -> list[Guardianship]:
        """Return the guardian–student pairs this identity may see."""
        return [b.guardianship for b in self.bindings]

    @property
    def is_bound(self) -> bool:
        """Return whether this identity is bound to anybody."""
        return self.staff_id is not None or bool(self.bindings)


class IdentityBinding(Base):
    """A proven link from an identity to one guardian–student pair."""

    __tablename__ = "identity_bindings"
    __table_args__ = (UniqueConstraint("identity_id", "guardianship_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"), index=True)
    guardianship_id: Mapped[int] = mapped_column(ForeignKey("guardianships.id"), index=True)
    bound_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    method: Mapped[str] = mapped_column(String(20), default="phone")

    identity: Mapped[Identity] = relationship(back_populates="bindings")
    guardianship: Mapped[Guardianship] = relationship()


class BindingCode(Base):
    """A one-time code a teacher hands to a family (or a staff member) to bind."""

    __tablename__ = "binding_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    guardianship_id: Mapped[int | None] = mapped_column(ForeignKey("guardianships.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class ChatGroup(Base):
    """A platform conversation (class group) mapped to a class."""

    __tablename__ = "chat_groups"
    __table_args__ = (UniqueConstraint("platform", "conversation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    conversation_id: Mapped[str] = mapped_column(String(128))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"), index=True)
    title: Mapped[str | None] = mapped_column(String(100))
    # This group's own group robot (群机器人) webhook key, a secret: a robot posts to its one group only.
    robot_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    school_class: Mapped[SchoolClass | None] = relationship()
