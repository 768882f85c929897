"""Quiet hours: when a due outbox row must wait for the morning (a pure policy).

Parents (private chats and class groups) get nothing during their quiet
window (default 21:30–07:30) except urgent-ticket messages. Staff have their
own window (default 22:00–07:00), which urgent-ticket alerts also break.
Anyone writing to us privately right now (a parent asking a question, a
principal sending 帮助 at 22:38) is answered at once: the grace follows the
recipient's ``identities.last_inbound_at``, whatever their role. The sender
asks :func:`hold_until` for every row it is about to deliver; a non-None
answer puts the row back with that ``next_attempt_at``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import object_session

from models.identity import Identity

PARENT, STAFF, GROUP = "parent", "staff", "group"


def window_end(now: dt.datetime, start: dt.time, end: dt.time, tz: ZoneInfo) -> dt.datetime | None:
    """Return when the quiet window containing ``now`` ends, or None if ``now`` is outside it.

    A window may wrap midnight (21:30–07:30) or not (12:00–13:30); an empty
    window (start == end) is never quiet.
    """
    if start == end:
        return None
    local = now.astimezone(tz)
    t = local.time()
    wraps = start > end
    inside = (t >= start or t < end) if wraps else (start <= t < end)
    if not inside:
        return None
    day = local.date()
    if wraps and t >= start:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, end, tzinfo=tz).astimezone(dt.UTC)


def hold_until(
    audience: str,
    urgent: bool,
    now: dt.datetime,
    *,
    parent_window: tuple[dt.time, dt.time],
    staff_window: tuple[dt.time, dt.time],
    tz: ZoneInfo,
    last_inbound_at: dt.datetime | None = None,
    reply_grace: dt.timedelta = dt.timedelta(minutes=10),
) -> dt.datetime | None:
    """Return when a message for ``audience`` may go out, or None to send now.

    Args:
        audience: ``parent``, ``group`` or ``staff`` (the outbox row's audience).
        urgent: urgent-ticket messages are never held, for parents or staff.
        now: the delivery attempt's time.
        parent_window / staff_window: (start, end) local times of the quiet windows.
        tz: the schools' time zone.
        last_inbound_at: when the recipient last wrote to us (private chats, parents and staff alike).
        reply_grace: a recipient who wrote within this long is answered at once.
    """
    if urgent:
        return None
    if audience != GROUP and last_inbound_at is not None and now - last_inbound_at <= reply_grace:
        return None
    return window_end(now, *(staff_window if audience == STAFF else parent_window), tz)


def quiet_hold(settings: Any) -> Callable[[Any, dt.datetime], dt.datetime | None]:
    """Return the sender's ``hold(row, now)`` hook for these settings."""
    cfg = settings.scheduler
    tz = ZoneInfo(cfg.timezone)
    parent_window = (cfg.quiet_start, cfg.quiet_end)
    staff_window = (cfg.staff_quiet_start, cfg.staff_quiet_end)
    grace = dt.timedelta(minutes=cfg.reply_grace_minutes)

    def hold(row: Any, now: dt.datetime) -> dt.datetime | None:
        last_inbound = None
        window = staff_window if row.audience == STAFF else parent_window
        if window_end(now, *window, tz) is None:  # daytime: no need to look the recipient up
            return None
        if row.audience == GROUP and (row.context or {}).get("mention") and now - row.created_at <= grace:
            return None  # answering someone who just @-mentioned the bot in this group: they are awake
        if row.audience != GROUP and row.identity_id is not None and not row.urgent:
            session = object_session(row)
            identity = session.get(Identity, row.identity_id) if session is not None else None
            last_inbound = identity.last_inbound_at if identity is not None else None
        return hold_until(row.audience, bool(row.urgent), now, parent_window=parent_window,
                          staff_window=staff_window, tz=tz, last_inbound_at=last_inbound, reply_grace=grace)

    return hold
