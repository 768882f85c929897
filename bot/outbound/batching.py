"""Send several outbox rows in one platform call (DingTalk ``batchSend``: up to 20 users).

A channel opts in with ``batch_key(session, row, now)`` (rows with equal,
non-None keys may share one call: same school, format, title and text, one
chunk, no better route), ``max_batch`` and ``send_batch(session, rows, now)``,
which returns each row's outcome (None = delivered, or a ``SendError``). The
sender's rules still hold: every row is claimed on its own before the call,
quiet hours hold single rows back, no transaction is open during the call,
and every row is marked (sent, retried, failed) individually.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.exceptions import AwaitContact, PermanentSendError, SendError, WindowClosedError
from models import ratelimit
from models.outbox import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)


class Sender(Protocol):
    """What batching needs of ``bot.outbound.sender.Sender`` (which calls in here: no import back)."""

    channels: Mapping[str, Any]
    hold: Callable[[OutboxMessage, dt.datetime], Any] | None

    def _claim(self, session: Session, row_id: int, now: dt.datetime) -> OutboxMessage | None: ...

    def _lock(self, session: Session) -> None: ...

    def wait(self, row: OutboxMessage, exc: AwaitContact) -> None: ...

    def _fail(self, row: OutboxMessage, exc: SendError) -> None: ...

    def _retry(self, row: OutboxMessage, now: dt.datetime, exc: SendError) -> None: ...


def plan(sender: Sender, session: Session, ids: list[int], now: dt.datetime) -> tuple[list[int], list[list[int]]]:
    """Split ``ids`` into rows to send one by one and batches of rows sharing one call.

    Rows keep their order; a batch never holds the same address twice (one
    call would deliver it once) unless the channel joins the rows' texts
    (``batch_distinct_addresses = False``).
    """
    if not any(hasattr(c, "batch_key") for c in sender.channels.values()) or len(ids) < 2:
        return ids, []
    rows = session.scalars(select(OutboxMessage).where(
        OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.PENDING)).all()
    groups: dict[Hashable, list[list[OutboxMessage]]] = {}
    for row in sorted(rows, key=lambda r: ids.index(r.id)):
        channel = sender.channels.get(row.platform)
        key = channel.batch_key(session, row, now) if hasattr(channel, "batch_key") else None
        if key is None:
            continue
        batches = groups.setdefault((row.platform, key), [])
        distinct = getattr(channel, "batch_distinct_addresses", True)
        target = next((b for b in batches if len(b) < channel.max_batch  # type: ignore[union-attr]
                       and not (distinct and any(r.address == row.address for r in b))), None)
        if target is None:
            batches.append(target := [])
        target.append(row)
    session.commit()  # release the read (SQLite holds its write lock from BEGIN IMMEDIATE)
    batches = [[r.id for r in b] for bs in groups.values() for b in bs if len(b) > 1]
    batched = {i for b in batches for i in b}
    return [i for i in ids if i not in batched], batches


def send_batch(sender: Sender, session: Session, ids: list[int], now: dt.datetime) -> int:
    """Claim the rows, deliver them in one call, mark each; return how many were sent."""
    rows = [row for row_id in ids if (row := sender._claim(session, row_id, now)) is not None]
    if not rows:
        return 0
    sender._lock(session)
    ready: list[OutboxMessage] = []
    for row in rows:
        held = sender.hold(row, now) if sender.hold is not None else None
        if held is not None and held > now:
            row.status, row.next_attempt_at, row.claimed_at = OutboxStatus.PENDING, held, None
        else:
            row.attempts += 1
            ready.append(row)
    session.commit()  # no transaction stays open during the network call
    if not ready:
        return 0
    channel: Any = sender.channels[ready[0].platform]
    try:
        spec, outcomes = channel.send_batch(session, ready, now)
    except SendError as exc:
        spec, outcomes = None, {row.id: exc for row in ready}
    except Exception as exc:  # a bug must not stop the queue: retry like a transient error
        log.exception("outbox batch %s: unexpected error", [r.id for r in ready])
        session.rollback()
        spec, outcomes = None, {row.id: SendError(f"{type(exc).__name__}: {exc}"[:500], "internal") for row in ready}
    sender._lock(session)
    sent = 0
    for row in ready:
        outcome = outcomes.get(row.id)
        if outcome is None and spec is not None:
            row.status, row.sent_at, row.last_error, row.error_code = OutboxStatus.SENT, now, None, None
            row.sent_chars, row.channel, row.claimed_at = len(row.text), spec.name, None
            key = channel.batch_rate_key(row) if hasattr(channel, "batch_rate_key") else row.address
            ratelimit.record_send(session, spec.name, row.school_id, key, row.id, now)
            sent += 1
        elif isinstance(outcome, AwaitContact):
            sender.wait(row, outcome)
        elif isinstance(outcome, PermanentSendError | WindowClosedError):
            sender._fail(row, outcome)
        else:
            sender._retry(row, now, outcome or SendError("no outcome", "internal"))
    session.commit()
    return sent
