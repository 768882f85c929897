"""Platform access tokens cached in the database, shared by every process."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow


class AccessToken(Base):
    """One cached token (WeCom corp+secret, OA appid, DingTalk appKey)."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def get_token(session: Session, key: str, now: dt.datetime, margin: dt.timedelta = dt.timedelta(0)) -> str | None:
    """Return the cached token for ``key`` unless it expires within ``margin``."""
    row = session.scalar(select(AccessToken).where(AccessToken.key == key))
    if row is None or row.expires_at - margin <= now:
        return None
    return row.value


def store_token(session: Session, key: str, value: str, expires_at: dt.datetime, now: dt.datetime) -> None:
    """Save a freshly fetched token (the newest fetch wins)."""
    row = session.scalar(select(AccessToken).where(AccessToken.key == key))
    if row is None:
        row = AccessToken(key=key, value=value, expires_at=expires_at, updated_at=now)
        try:
            with session.begin_nested():
                session.add(row)
            return
        except IntegrityError:  # another process inserted it first: update theirs
            row = session.scalar(select(AccessToken).where(AccessToken.key == key))
            if row is None:
                raise
    row.value, row.expires_at, row.updated_at = value, expires_at, now
    session.flush()


def drop_token(session: Session, key: str) -> None:
    """Forget a token the platform rejected."""
    row = session.scalar(select(AccessToken).where(AccessToken.key == key))
    if row is not None:
        session.delete(row)
        session.flush()
