"""The sender: takes due outbox rows, hands each to its platform channel, records the result."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.exceptions import PermanentSendError, SendError, TransientSendError
from models.outbox import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(hours=2)


class Channel(Protocol):
    """A way to deliver a message on one platform."""

    def send(self, session: Session, row: OutboxMessage, now: dt.datetime) -> str | None:
        """Deliver the row; return the channel name used. Raise ``SendError`` on failure."""


def backoff(attempts: int) -> dt.timedelta:
    """Return the delay before retry number ``attempts`` (exponential, capped)."""
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


class Sender:
    """Deliver outbox rows through the registered channels."""

    def __init__(self, channels: Mapping[str, Channel]) -> None:
        self.channels = dict(channels)

    def due_ids(self, session: Session, now: dt.datetime, limit: int = 200) -> list[int]:
        """Return ids of pending rows whose time has come."""
        return list(session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.urgent.desc(), OutboxMessage.id)
            .limit(limit)
        ))

    def send_ids(self, session: Session, ids: Iterable[int], now: dt.datetime) -> int:
        """Try to send the given rows now; return how many were sent.

        Each row is claimed with a conditional update first, so two processes
        never send the same row; the caller commits.
        """
        sent = 0
        for row_id in ids:
            claimed = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.SENDING)
            ).rowcount
            if not claimed:
                continue
            row = session.get(OutboxMessage, row_id, populate_existing=True)
            assert row is not None
            sent += self._send_one(session, row, now)
        return sent

    def drain(self, session: Session, now: dt.datetime, limit: int = 200) -> int:
        """Send every due row (the scheduler's ``drain_outbox`` job)."""
        return self.send_ids(session, self.due_ids(session, now, limit), now)

    def _send_one(self, session: Session, row: OutboxMessage, now: dt.datetime) -> int:
        channel = self.channels.get(row.platform)
        row.attempts += 1
        try:
            if channel is None:
                raise PermanentSendError(f"no channel for platform {row.platform!r}", "no_channel")
            row.channel = channel.send(session, row, now) or row.platform
        except TransientSendError as exc:
            self._retry(row, now, exc)
            return 0
        except PermanentSendError as exc:
            row.status, row.last_error, row.error_code = OutboxStatus.FAILED, str(exc), exc.code
            log.warning("outbox %s failed permanently: %s", row.id, exc.code)
            return 0
        except SendError as exc:
            self._retry(row, now, exc)
            return 0
        row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, None
        return 1

    @staticmethod
    def _retry(row: OutboxMessage, now: dt.datetime, exc: SendError) -> None:
        row.last_error, row.error_code = str(exc), exc.code
        if row.attempts >= MAX_ATTEMPTS:
            row.status = OutboxStatus.FAILED
            return
        delay = backoff(row.attempts)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            delay = max(delay, dt.timedelta(seconds=retry_after))
        row.status, row.next_attempt_at = OutboxStatus.PENDING, now + delay
