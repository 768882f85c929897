"""What the webhooks remember between deliveries: school codes and 微信客服 sync cursors."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow
from models.directory import School


class KfCursor(Base):
    """Where ``kf/sync_msg`` stopped for one school's kf account.

    A ``kf_msg_or_event`` callback stores its token here (``notified_at``);
    the sync after the response, or the scheduler's ``sync_kf``, pulls from
    ``cursor`` and records the next one. The sync tolerates overlap: every
    pulled message is deduplicated on its msgid.
    """

    __tablename__ = "kf_cursors"
    __table_args__ = (UniqueConstraint("school_id", "open_kfid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    open_kfid: Mapped[str] = mapped_column(String(64))
    cursor: Mapped[str | None] = mapped_column(String(256))
    sync_token: Mapped[str | None] = mapped_column(String(256))
    notified_at: Mapped[dt.datetime | None]
    synced_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def pending(self) -> bool:
        """Return whether an event arrived since the last sync."""
        return self.notified_at is not None and (self.synced_at is None or self.notified_at >= self.synced_at)


def school_id_for_code(session: Session, code: str) -> int | None:
    """Return the id of the school with this code."""
    return session.scalar(select(School.id).where(School.code == code))


def school_code(session: Session, school_id: int) -> str | None:
    """Return the code of a school (the key of ``settings.platforms``)."""
    return session.scalar(select(School.code).where(School.id == school_id))


def kf_cursor(session: Session, school_id: int, open_kfid: str, now: dt.datetime) -> KfCursor:
    """Return the cursor row of a kf account, creating it on first use."""
    stmt = select(KfCursor).where(KfCursor.school_id == school_id, KfCursor.open_kfid == open_kfid)
    row = session.scalar(stmt)
    if row is not None:
        return row
    row = KfCursor(school_id=school_id, open_kfid=open_kfid, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent callback created it first
        row = session.scalar(stmt)
        assert row is not None
    return row


def note_kf_event(session: Session, school_id: int, open_kfid: str, token: str | None, now: dt.datetime) -> KfCursor:
    """Record a ``kf_msg_or_event`` notification (idempotent for a redelivery)."""
    row = kf_cursor(session, school_id, open_kfid, now)
    if token:
        row.sync_token = token
    row.notified_at = now
    return row


def kf_cursors(session: Session, school_id: int) -> list[KfCursor]:
    """Return every known kf account cursor of a school."""
    return list(session.scalars(select(KfCursor).where(KfCursor.school_id == school_id).order_by(KfCursor.id)))


def advance_kf_cursor(row: KfCursor, next_cursor: str | None, now: dt.datetime) -> None:
    """Move the cursor after a page of messages was stored."""
    if next_cursor:
        row.cursor = next_cursor
    row.synced_at = now
