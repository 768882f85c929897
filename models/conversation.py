"""Questions the bot is waiting for someone to answer (which child? 满意? 确认发送?).

Most kinds hold one open question per identity (``ask`` replaces it). The
"which child?" question is a queue (``enqueue``): a parent of two who writes
three messages has three questions, asked one at a time, oldest first; the
ones not asked yet are ``waiting``. A short answer such as ``1`` or ``满意``
belongs to the person's most recently asked open question, so handlers check
``latest_pending()`` before taking it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base
from models.identity import Identity


class PendingQuestion(Base):
    """An open question to one identity (or, ``waiting``, one queued behind another)."""

    __tablename__ = "pending_questions"
    # The expiry sweep looks questions up by kind and deadline.
    __table_args__ = (Index("ix_pending_questions_kind_expires_at", "kind", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    asked_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    # Queued behind an earlier question of the same kind; asked when that one is answered.
    waiting: Mapped[bool] = mapped_column(default=False)

    identity: Mapped[Identity] = relationship()

    def __repr__(self) -> str:
        return f"<PendingQuestion {self.id} {self.kind} identity={self.identity_id}{' waiting' if self.waiting else ''}>"


def ask(session: Session, identity_id: int, kind: str, payload: dict[str, Any], *, now: dt.datetime,
        ttl: dt.timedelta) -> PendingQuestion:
    """Open (or replace) the question of this kind for an identity."""
    row = session.scalar(select(PendingQuestion).where(
        PendingQuestion.identity_id == identity_id, PendingQuestion.kind == kind).order_by(PendingQuestion.id))
    if row is None:
        row = PendingQuestion(identity_id=identity_id, kind=kind)
        session.add(row)
    row.payload, row.asked_at, row.expires_at, row.waiting = payload, now, now + ttl, False
    session.flush()
    return row


def enqueue(session: Session, identity_id: int, kind: str, payload: dict[str, Any], *, now: dt.datetime,
            ttl: dt.timedelta) -> PendingQuestion:
    """Add a question to the identity's queue of this kind; it is asked at once only if the queue was empty.

    Returns:
        The new row; ``waiting`` is True when an earlier question is still open.
    """
    ahead = queue(session, identity_id, kind, now)
    row = PendingQuestion(identity_id=identity_id, kind=kind, payload=payload, asked_at=now, expires_at=now + ttl,
                          waiting=bool(ahead))
    session.add(row)
    session.flush()
    return row


def queue(session: Session, identity_id: int, kind: str, now: dt.datetime) -> list[PendingQuestion]:
    """Return the unexpired questions of this kind, the one being asked first."""
    return list(session.scalars(select(PendingQuestion).where(
        PendingQuestion.identity_id == identity_id, PendingQuestion.kind == kind, PendingQuestion.expires_at > now,
    ).order_by(PendingQuestion.waiting, PendingQuestion.id)))


def advance(session: Session, identity_id: int, kind: str, now: dt.datetime) -> tuple[PendingQuestion | None, bool]:
    """Make sure the oldest open question of this kind is the one being asked.

    Returns:
        (that question or None, whether it was waiting until now and so still has to be put to the person).
    """
    rows = queue(session, identity_id, kind, now)
    if not rows:
        return None, False
    head = rows[0]
    if not head.waiting:
        return head, False
    head.waiting, head.asked_at = False, now
    session.flush()
    return head, True


def drop(session: Session, row: PendingQuestion) -> None:
    """Close one question."""
    session.delete(row)
    session.flush()


def expired(session: Session, kind: str, now: dt.datetime, limit: int = 500) -> list[PendingQuestion]:
    """Return questions of this kind nobody answered in time, oldest first."""
    return list(session.scalars(select(PendingQuestion).where(
        PendingQuestion.kind == kind, PendingQuestion.expires_at <= now,
    ).order_by(PendingQuestion.expires_at, PendingQuestion.id).limit(limit)))


def pending(session: Session, identity_id: int, kind: str, now: dt.datetime) -> PendingQuestion | None:
    """Return the open, unexpired question of this kind (the one being asked, for a queue)."""
    return session.scalar(select(PendingQuestion).where(
        PendingQuestion.identity_id == identity_id, PendingQuestion.kind == kind,
        PendingQuestion.expires_at > now, PendingQuestion.waiting.is_(False)).order_by(PendingQuestion.id).limit(1))


def latest_pending(session: Session, identity_id: int, now: dt.datetime) -> PendingQuestion | None:
    """Return the most recently asked open question of any kind (queued ones are not asked yet)."""
    return session.scalar(select(PendingQuestion).where(
        PendingQuestion.identity_id == identity_id, PendingQuestion.expires_at > now,
        PendingQuestion.waiting.is_(False),
    ).order_by(PendingQuestion.asked_at.desc(), PendingQuestion.id.desc()).limit(1))


def answered(session: Session, identity_id: int, kind: str) -> None:
    """Close every question of this kind."""
    session.execute(delete(PendingQuestion).where(
        PendingQuestion.identity_id == identity_id, PendingQuestion.kind == kind))


def open_kinds(session: Session, identity_id: int, now: dt.datetime) -> set[str]:
    """Return the kinds of the identity's open, unexpired questions (queued ones are not asked yet)."""
    return set(session.scalars(select(PendingQuestion.kind).where(
        PendingQuestion.identity_id == identity_id, PendingQuestion.expires_at > now,
        PendingQuestion.waiting.is_(False)).distinct()))
