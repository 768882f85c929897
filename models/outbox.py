"""The persistent outbox: every outbound message is a row first."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.message import Recipient
from models.base import Base, utcnow


class OutboxStatus(enum.StrEnum):
    """Where an outbound message stands."""

    PENDING = "pending"  # due at next_attempt_at
    SENDING = "sending"  # claimed by a sender
    SENT = "sent"
    FAILED = "failed"  # permanent error, shown to admins


class OutboxMessage(Base):
    """One message to send, with its retry state."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    recipient_kind: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(128))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"), index=True)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    audience: Mapped[str] = mapped_column(String(10), default="parent")  # parent | staff | group
    fmt: Mapped[str] = mapped_column(String(10), default="text")
    title: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(default=False)
    ref: Mapped[str | None] = mapped_column(String(64), index=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    channel: Mapped[str | None] = mapped_column(String(30))  # the channel actually used
    claimed_at: Mapped[dt.datetime | None]  # when a sender took it (status sending)
    sent_chars: Mapped[int] = mapped_column(default=0)  # how much of a split text is already delivered
    last_error: Mapped[str | None] = mapped_column(Text)
    # DingTalk's codes are words, e.g. Forbidden.AccessDenied.AccessTokenPermissionDenied (50 characters).
    error_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]

    @property
    def recipient(self) -> Recipient:
        """Return the recipient this row addresses."""
        return Recipient(
            platform=self.platform,
            kind=self.recipient_kind,
            address=self.address,
            school_id=self.school_id,
            identity_id=self.identity_id,
            context=self.context or {},
        )


def enqueue(
    session: Session,
    recipient: Recipient,
    text: str,
    *,
    now: dt.datetime,
    audience: str = "parent",
    fmt: str = "text",
    title: str | None = None,
    urgent: bool = False,
    ref: str | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Add a message to the outbox; return None if ``dedupe_key`` was used before.

    The row is written in the caller's transaction, so a message exists
    exactly when the change that caused it is committed.
    """
    if dedupe_key is not None:
        existing = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    row = OutboxMessage(
        school_id=recipient.school_id,
        platform=recipient.platform,
        recipient_kind=recipient.kind,
        address=recipient.address,
        identity_id=recipient.identity_id,
        context=dict(recipient.context) or None,
        audience="group" if recipient.is_group else audience,
        fmt=fmt,
        title=title,
        text=text,
        urgent=urgent,
        ref=ref,
        dedupe_key=dedupe_key,
        next_attempt_at=now,
        created_at=now,
    )
    if dedupe_key is None:  # nothing else is unique: no savepoint needed (the webhook's hot path)
        session.add(row)
        session.flush()  # callers use row.id at once, as after the savepoint below
        return row
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


# error_code of a row that waits for its recipient to write again (a one-use reply handle).
AWAITING = "await_contact"


def release_awaiting(session: Session, platform: str, school_id: int, address: str, context: dict[str, Any],
                     now: dt.datetime) -> list[int]:
    """Give rows waiting for this person a fresh reply handle (their new message's context); return their ids.

    The rows become due now; the caller sends them with the reply to the new message.
    """
    rows = list(session.scalars(select(OutboxMessage).where(
        OutboxMessage.platform == platform, OutboxMessage.school_id == school_id,
        OutboxMessage.address == address, OutboxMessage.recipient_kind == "user",
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.error_code == AWAITING,
    ).order_by(OutboxMessage.id)))
    for row in rows:
        row.context = {**(row.context or {}), **context}
        row.next_attempt_at = now
    session.flush()
    return [row.id for row in rows]


def fan_out(session: Session, row: OutboxMessage, recipients: list[Recipient], now: dt.datetime) -> int:
    """Send a group message privately to each recipient instead; return how many copies were queued.

    For a group the bot cannot post to. A recipient who already has a private
    row about the same matter (``ref``, e.g. a notice's private copy) gets no
    second one; each copy is queued at most once (dedupe key).
    """
    covered: set[str] = set()
    if row.ref:
        covered = set(session.scalars(select(OutboxMessage.address).where(
            OutboxMessage.ref == row.ref, OutboxMessage.recipient_kind == "user",
            OutboxMessage.school_id == row.school_id)))
    text = f"【{row.title}】\n{row.text}" if row.title else row.text
    queued = 0
    for recipient in recipients:
        if recipient.address in covered:
            continue
        copy = enqueue(session, recipient, f"（班级群消息）{text}", now=now, audience="parent", fmt=row.fmt,
                       urgent=row.urgent, ref=row.ref, dedupe_key=f"fanout:{row.id}:{recipient.identity_id}")
        queued += copy is not None
    return queued


def message_url(secret: str, base_url: str, row_id: int, expires_at: dt.datetime) -> str:
    """Return the signed link to one outbox message's full text (for summaries that cannot hold it)."""
    from models import links

    return links.absolute_url(base_url, "m", links.make_token(secret, "message", {"o": row_id}, expires_at))


def message_view(session: Session, row_id: int) -> OutboxMessage | None:
    """Return a message for its page (only rows addressed to a person: a group message has no link)."""
    row = session.get(OutboxMessage, row_id)
    return row if row is not None and row.recipient_kind == "user" else None


def sweep_stuck(session: Session, now: dt.datetime, older_than: dt.timedelta) -> int:
    """Return rows stuck in ``sending`` (their sender crashed) to ``pending``; return how many.

    This makes delivery at-least-once: a sender that died after the platform
    accepted a message but before recording it will cause one resend.
    """
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < now - older_than)
        .values(status=OutboxStatus.PENDING, next_attempt_at=now, claimed_at=None)
    )
    return result.rowcount or 0


def is_stuck(row: OutboxMessage, now: dt.datetime, older_than: dt.timedelta) -> bool:
    """Tell whether a row has been ``sending`` longer than a live sender could take."""
    claimed = row.claimed_at
    if row.status != OutboxStatus.SENDING or claimed is None:
        return False
    if claimed.tzinfo is None:  # SQLite returns naive UTC
        claimed = claimed.replace(tzinfo=dt.UTC)
    return claimed < now - older_than


def list_messages(session: Session, *, failed_only: bool = False, stuck_before: dt.datetime | None = None,
                  limit: int = 50) -> list[OutboxMessage]:
    """Return the newest outbox rows: all, only permanent failures, or only rows claimed before ``stuck_before``."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if failed_only:
        query = query.where(OutboxMessage.status == OutboxStatus.FAILED)
    if stuck_before is not None:
        query = query.where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < stuck_before)
    return list(session.scalars(query))


def retry(session: Session, row_id: int, now: dt.datetime) -> OutboxMessage | None:
    """Put a failed row back in the queue (an admin fixed the cause); None if no such failed row."""
    row = session.get(OutboxMessage, row_id)
    if row is None or row.status != OutboxStatus.FAILED:
        return None
    row.status, row.next_attempt_at, row.attempts, row.claimed_at = OutboxStatus.PENDING, now, 0, None
    row.last_error = row.error_code = None
    session.flush()
    return row


def linked_address(session: Session, identity_id: int | None, platform: str) -> str | None:
    """Return the same family's id on another platform (e.g. the 家校通讯录 parent_userid).

    A kf or Official Account identity and a ``wecom_school`` identity are the
    same family when both are bound to a common guardian–student pair.
    """
    from models.identity import Identity, IdentityBinding

    if identity_id is None:
        return None
    mine = select(IdentityBinding.guardianship_id).where(IdentityBinding.identity_id == identity_id)
    return session.scalar(
        select(Identity.external_id)
        .join(IdentityBinding, IdentityBinding.identity_id == Identity.id)
        .where(Identity.platform == platform, IdentityBinding.guardianship_id.in_(mine))
        .order_by(Identity.id)
        .limit(1)
    )
