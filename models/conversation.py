"""Questions the bot is waiting for someone to answer (which child? 满意? 确认发送?).

One row per (identity, kind). A short answer such as ``1`` or ``满意`` belongs
to the person's most recent open question, so handlers check
``latest_pending()`` before taking it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base


class PendingQuestion(Base):
    """An open question to one identity."""

    __tablename__ = "pending_questions"
    __table_args__ = (UniqueConstraint("identity_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    asked_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


def ask(session: Session, identity_id: int, kind: str, payload: dict[str, Any], *, now: dt.datetime,
        ttl: dt.timedelta) -> PendingQuestion:
    """Open (or replace) the question of this kind for an identity."""
    row = session.scalar(select(PendingQuestion).where(
        PendingQuestion.identity_id == identity_id, PendingQuestion.kind == kind))
    if row is None:
        row = PendingQuestion(identity_id=identity_id, kind=kind)
        session.add(row)
    row.payload, row.asked_at, row.expires_at = payload, now, now + ttl
    session.flush()
    return row


def pending(session: Session, identity_id: int, kind: str, now: dt.datetime) -> PendingQuestion | None:
    """Return the open, unexpired question of this kind."""
    return session.scalar(select(PendingQuestion).where(
        PendingQuestion.identity_id == identity_id, PendingQuestion.kind == kind,
        PendingQuestion.expires_at > now))


def latest_pending(session: Session, identity_id: int, now: dt.datetime) -> PendingQuestion | None:
    """Return the most recently asked open question of any kind."""
    return session.scalar(select(PendingQuestion).where(
        PendingQuestion.identity_id == identity_id, PendingQuestion.expires_at > now,
    ).order_by(PendingQuestion.asked_at.desc(), PendingQuestion.id.desc()).limit(1))


def answered(session: Session, identity_id: int, kind: str) -> None:
    """Close the question of this kind."""
    session.execute(delete(PendingQuestion).where(
        PendingQuestion.identity_id == identity_id, PendingQuestion.kind == kind))
