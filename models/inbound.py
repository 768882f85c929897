"""The raw inbound message log, deduplicated on (platform, platform message id)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow

_UPSERT = {"postgresql": pg_insert, "sqlite": sqlite_insert}


class InboundRecord(Base):
    """One message or event as a platform delivered it."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("platform", "platform_msg_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    platform_msg_id: Mapped[str] = mapped_column(String(128))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    is_group: Mapped[bool] = mapped_column(default=False)
    sender_external_id: Mapped[str | None] = mapped_column(String(128))
    sender_name: Mapped[str | None] = mapped_column(String(100))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"), index=True)
    msgtype: Mapped[str] = mapped_column(String(20), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sent_at: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="new")
    processed_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


def record_inbound(session: Session, **fields: Any) -> InboundRecord | None:
    """Store a delivered message; return None when it was delivered before.

    On PostgreSQL and SQLite this is one ``INSERT … ON CONFLICT DO NOTHING
    RETURNING`` (the webhook's hot path: one round trip, and a concurrent
    redelivery never spoils the transaction). Other databases use a SELECT
    and an INSERT in a savepoint.
    """
    dialect = session.get_bind().dialect.name
    if dialect in _UPSERT:
        stmt = _UPSERT[dialect](InboundRecord).values(**fields).on_conflict_do_nothing(
            index_elements=["platform", "platform_msg_id"])
        return session.scalar(stmt.returning(InboundRecord))
    platform, msg_id = fields["platform"], fields["platform_msg_id"]
    existing = session.scalar(
        select(InboundRecord).where(InboundRecord.platform == platform, InboundRecord.platform_msg_id == msg_id)
    )
    if existing is not None:
        return None
    record = InboundRecord(**fields)
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        return None
    return record


def find_inbound(session: Session, platform: str, platform_msg_id: str) -> InboundRecord | None:
    """Return the stored message with this platform id, if any."""
    return session.scalar(
        select(InboundRecord).where(
            InboundRecord.platform == platform, InboundRecord.platform_msg_id == platform_msg_id
        )
    )
