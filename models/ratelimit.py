"""Every platform call we make, so all processes share rate limits and reply windows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow
from models.identity import Identity


class SendLog(Base):
    """One message (or chunk) delivered on a channel to an address."""

    __tablename__ = "send_log"
    __table_args__ = (Index("ix_send_log_window", "channel", "address", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(30))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    address: Mapped[str] = mapped_column(String(128))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"), index=True)
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def record_send(
    session: Session, channel: str, school_id: int | None, address: str, outbox_id: int | None, now: dt.datetime
) -> None:
    """Log one delivered message."""
    session.add(SendLog(channel=channel, school_id=school_id, address=address, outbox_id=outbox_id, sent_at=now))
    session.flush()


def sends_since(session: Session, channel: str, address: str | None, since: dt.datetime) -> list[dt.datetime]:
    """Return the send times on a channel (to one address, or to all) since ``since``, oldest first."""
    query = select(SendLog.sent_at).where(SendLog.channel == channel, SendLog.sent_at > since)
    if address is not None:
        query = query.where(SendLog.address == address)
    return list(session.scalars(query.order_by(SendLog.sent_at)))


def next_slot(
    session: Session, channel: str, address: str | None, limit: int, window: dt.timedelta, now: dt.datetime
) -> dt.datetime | None:
    """Return when the next send is allowed under ``limit`` per ``window``, or None if it is allowed now."""
    times = sends_since(session, channel, address, now - window)
    if len(times) < limit:
        return None
    return times[len(times) - limit] + window


def last_inbound(session: Session, identity_id: int | None, platform: str, school_id: int | None,
                 external_id: str) -> dt.datetime | None:
    """Return when the person last wrote to us on ``platform`` (opens a reply window)."""
    if identity_id is not None:
        identity = session.get(Identity, identity_id)
    else:
        identity = session.scalar(select(Identity).where(
            Identity.platform == platform, Identity.school_id == school_id, Identity.external_id == external_id))
    return identity.last_inbound_at if identity is not None else None


def window_open(session: Session, channel: str, address: str, opened_at: dt.datetime | None,
                hours: int, max_messages: int, now: dt.datetime) -> bool:
    """Return whether a reply window (e.g. 5 messages within 48 h of the last inbound) allows one more."""
    if opened_at is None or now - opened_at >= dt.timedelta(hours=hours):
        return False
    count = session.scalar(select(func.count(SendLog.id)).where(
        SendLog.channel == channel, SendLog.address == address, SendLog.sent_at >= opened_at))
    return (count or 0) < max_messages
