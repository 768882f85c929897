"""The sender: takes due outbox rows, hands each to its platform channel, records the result.

Policy (see docs/outbox.md): a row is claimed in its own committed
transaction (pending → sending), the platform is called outside any lock,
and each delivered chunk is committed at once, so a crash resends at most the
one chunk in flight (a sweep returns rows stuck in ``sending``). Transient
failures back off exponentially; permanent ones are recorded with the
platform's code; rate limits and reply windows come from ``bot.outbound.limits`` and a
shared ``send_log`` table, and a closed window moves on to the next route.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from sqlalchemy import false, select, update
from sqlalchemy.orm import Session

from bot.exceptions import AwaitContact, PermanentSendError, SendError, TransientSendError, WindowClosedError
from bot.outbound import batching
from bot.outbound.limits import RouteSpec, split_utf8
from models import outbox, ratelimit
from models.outbox import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(hours=2)
STUCK_AFTER = dt.timedelta(minutes=10)
NO_ROUTE = "对方超过48小时未发消息或已用完回复额度，且没有可用的替代渠道（学校通知/模板消息），消息未送达"

# hold(row, now) -> when to try instead (quiet hours), or None to send now.
Hold = Callable[[OutboxMessage, dt.datetime], dt.datetime | None]


@dataclasses.dataclass
class Route:
    """One way to deliver a row: its limits, the address limits count on, and the call.

    Attributes:
        spec: size, rate and window limits.
        deliver: sends one chunk of text; raises ``SendError`` subclasses.
        key: the address rates and windows are counted on (user, group, robot).
        opened_at: for window routes, when the person last wrote to us.
    """

    spec: RouteSpec
    deliver: Callable[[str], Any]
    key: str
    opened_at: dt.datetime | None = None


class Channel(Protocol):
    """A way to deliver a message on one platform.

    Simple channels implement ``send``; real platforms implement
    ``routes(session, row, now) -> list[Route]`` (preferred first, then
    fallbacks) and let the sender apply sizes, rates and windows. A channel
    may also send several rows in one call (see ``bot/outbound/batching.py``).
    """

    def send(self, session: Session, row: OutboxMessage, now: dt.datetime) -> str | None:
        """Deliver the row; return the channel name used. Raise ``SendError`` on failure."""


class _Later(Exception):
    """A rate limit: try this row again at ``when`` (not a failed attempt)."""

    def __init__(self, when: dt.datetime) -> None:
        super().__init__(when.isoformat())
        self.when = when


def backoff(attempts: int) -> dt.timedelta:
    """Return the delay before retry number ``attempts`` (exponential, capped)."""
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


class Sender:
    """Deliver outbox rows through the registered channels.

    Args:
        channels: platform name → channel.
        hold: optional quiet-hours hook; a returned time postpones the row.
        max_attempts: transient failures before a row is marked failed.
        stuck_after: how long a row may stay ``sending`` before it is retried.
    """

    def __init__(self, channels: Mapping[str, Channel], *, hold: Hold | None = None,
                 max_attempts: int = MAX_ATTEMPTS, stuck_after: dt.timedelta = STUCK_AFTER) -> None:
        self.channels = dict(channels)
        self.hold = hold
        self.max_attempts = max_attempts
        self.stuck_after = stuck_after

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

        Commits: each claim, each delivered chunk and each result is its own
        short transaction, so pass a session with no uncommitted work.
        """
        singles, batches = batching.plan(self, session, list(ids), now)
        sent = sum(batching.send_batch(self, session, batch, now) for batch in batches)
        for row_id in singles:
            row = self._claim(session, row_id, now)
            if row is None:
                continue
            try:
                sent += self._send_one(session, row, now)
            except Exception as exc:  # a bug or a database error must not stop the queue
                log.exception("outbox %s: unexpected error", row_id)
                session.rollback()
                row = session.get(OutboxMessage, row_id, populate_existing=True)
                if row is not None:
                    row.attempts += 1
                    self._retry(row, now, SendError(f"{type(exc).__name__}: {exc}"[:500], "internal"))
            session.commit()
        return sent

    def recover(self, session: Session, now: dt.datetime) -> int:
        """Return rows a crashed sender left in ``sending`` to the queue; return how many (committed)."""
        recovered = outbox.sweep_stuck(session, now, self.stuck_after)
        session.commit()
        if recovered:
            log.warning("outbox: %s rows stuck in sending returned to the queue", recovered)
        return recovered

    def drain(self, session: Session, now: dt.datetime, limit: int = 200) -> int:
        """Recover crashed claims, then send every due row."""
        self.recover(session, now)
        return self.send_ids(session, self.due_ids(session, now, limit), now)

    def _claim(self, session: Session, row_id: int, now: dt.datetime) -> OutboxMessage | None:
        # One round trip: the conditional update returns the row only to the sender that won it.
        row = session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING, claimed_at=now)
            .returning(OutboxMessage),
            execution_options={"populate_existing": True},
        ).first()
        session.commit()
        return row

    @staticmethod
    def _lock(session: Session) -> None:
        """On SQLite, start the transaction with a write so it holds the lock before it reads.

        A WAL reader that writes after another process committed fails at once
        with "database is locked" (its snapshot is stale); a transaction that
        begins with a write waits for the lock instead. PostgreSQL needs nothing.
        """
        if session.get_bind().dialect.name == "sqlite":
            session.execute(update(OutboxMessage).where(false()).values(id=OutboxMessage.id))

    def _send_one(self, session: Session, row: OutboxMessage, now: dt.datetime) -> int:
        self._lock(session)
        held = self.hold(row, now) if self.hold is not None else None
        if held is not None and held > now:
            row.status, row.next_attempt_at, row.claimed_at = OutboxStatus.PENDING, held, None
            return 0
        channel = self.channels.get(row.platform)
        row.attempts += 1
        try:
            if channel is None:
                raise PermanentSendError(f"没有 {row.platform} 平台的发送渠道", "no_channel")
            if hasattr(channel, "routes"):
                row.channel = self._deliver(session, row, channel.routes(session, row, now), now)
            else:
                row.channel = channel.send(session, row, now) or row.platform
        except _Later as later:
            row.attempts -= 1  # waiting for a rate limit is not a failure
            row.status, row.next_attempt_at, row.claimed_at = OutboxStatus.PENDING, later.when, None
            return 0
        except AwaitContact as exc:
            self.wait(row, exc)
            return 0
        except (PermanentSendError, WindowClosedError) as exc:
            self._fail(row, exc)
            return 0
        except SendError as exc:
            self._retry(row, now, exc)
            return 0
        row.status, row.sent_at, row.last_error, row.error_code = OutboxStatus.SENT, now, None, None
        return 1

    def _deliver(self, session: Session, row: OutboxMessage, routes: list[Route], now: dt.datetime) -> str:
        """Send what is left of the row over the first route that works; return its name."""
        closed: list[str] = []
        for route in routes:
            spec = route.spec
            try:
                while row.sent_chars < len(row.text) or not row.text:
                    self._lock(session)
                    chunk = split_utf8(row.text[row.sent_chars:], spec.limit(row.fmt))[0]
                    self._check_limits(session, route, now)
                    session.commit()  # no transaction stays open during the network call
                    try:
                        route.deliver(chunk)
                    finally:
                        self._lock(session)
                    row.sent_chars += len(chunk)
                    row.channel = spec.name
                    ratelimit.record_send(session, spec.name, row.school_id, route.key, row.id, now)
                    session.commit()  # a crash from here on never resends this chunk
                    if not row.text:
                        break
                return spec.name
            except WindowClosedError as exc:
                log.info("outbox %s: %s closed (%s), trying the next route", row.id, spec.name, exc.code)
                closed.append(f"{spec.name}:{exc.code}")
        raise WindowClosedError(NO_ROUTE, ",".join(closed)[:30] or "window_closed")

    @staticmethod
    def _check_limits(session: Session, route: Route, now: dt.datetime) -> None:
        spec = route.spec
        if spec.window is not None:
            hours, most = spec.window
            if not ratelimit.window_open(session, spec.name, route.key, route.opened_at, hours, most, now):
                raise WindowClosedError(f"{spec.name} window closed", "window")
        if spec.rate is not None:
            most, seconds = spec.rate
            when = ratelimit.next_slot(session, spec.name, route.key, most, dt.timedelta(seconds=seconds), now)
            if when is not None:
                raise _Later(when)

    @staticmethod
    def wait(row: OutboxMessage, exc: AwaitContact) -> None:
        """Keep the row until the person writes again (``outbox.release_awaiting``) or ``exc.until``."""
        row.attempts -= 1  # waiting for the person is not a failed attempt
        row.status, row.next_attempt_at, row.claimed_at = OutboxStatus.PENDING, exc.until, None
        row.error_code, row.last_error = outbox.AWAITING, str(exc)

    @staticmethod
    def _fail(row: OutboxMessage, exc: SendError) -> None:
        row.status, row.last_error, row.error_code, row.claimed_at = OutboxStatus.FAILED, str(exc), exc.code, None
        log.warning("outbox %s failed permanently: %s", row.id, exc.code)

    def _retry(self, row: OutboxMessage, now: dt.datetime, exc: SendError) -> None:
        row.last_error, row.error_code, row.claimed_at = str(exc), exc.code, None
        if row.attempts >= self.max_attempts:
            row.status = OutboxStatus.FAILED
            return
        delay = backoff(row.attempts)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            delay = max(delay, dt.timedelta(seconds=retry_after))
        row.status, row.next_attempt_at = OutboxStatus.PENDING, now + delay


__all__ = ["Channel", "Hold", "Route", "Sender", "TransientSendError", "backoff"]
