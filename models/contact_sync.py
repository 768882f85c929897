"""When a school's contacts directory (家校通讯录) was asked for and last read.

A contacts-change callback only says "something changed"; like the 微信客服
cursor, the request is stored (``requests`` counts them), committed and
answered, and the directory is read afterwards. ``covered`` is the request
count the last successful read started from, so a change that arrives during
a read keeps the school pending and is read again; ``last_error`` says why
the last read was refused (shown by ``platforms check``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow


class ContactSync(Base):
    """One school's directory sync state for one source (``wecom``, ``dingtalk``)."""

    __tablename__ = "contact_syncs"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), unique=True)
    source: Mapped[str] = mapped_column(String(20))
    requests: Mapped[int] = mapped_column(default=0)
    covered: Mapped[int] = mapped_column(default=0)
    requested_at: Mapped[dt.datetime | None]
    synced_at: Mapped[dt.datetime | None]
    # The last change event seen, so its redelivery does not ask again.
    last_event: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def pending(self) -> bool:
        """Return whether a change was reported after the last successful read."""
        return self.requests > self.covered

    def __repr__(self) -> str:
        return f"ContactSync(school={self.school_id}, pending={self.pending})"


def contact_sync(session: Session, school_id: int, source: str, now: dt.datetime) -> ContactSync:
    """Return the school's sync row, creating it on first use."""
    row = session.scalar(select(ContactSync).where(ContactSync.school_id == school_id))
    if row is not None:
        return row
    row = ContactSync(school_id=school_id, source=source, requests=0, covered=0, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another worker created it first
        row = session.scalars(select(ContactSync).where(ContactSync.school_id == school_id)).one()
    return row


def request_sync(session: Session, school_id: int, source: str, event_key: str, now: dt.datetime) -> bool:
    """Record a change event; return False for a redelivery of the last one (nothing to do)."""
    row = contact_sync(session, school_id, source, now)
    if row.last_event == event_key[:200]:
        return False
    row.last_event, row.requested_at = event_key[:200], now
    row.requests += 1
    return True


def record_result(row: ContactSync, covered: int, now: dt.datetime, error: str | None) -> None:
    """Record a read: on success the requests counted up to ``covered`` are done; on failure they stay pending."""
    if error is None:
        row.covered, row.synced_at, row.last_error = max(row.covered, covered), now, None
    else:
        row.last_error = error[:2000]
