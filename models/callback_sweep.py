"""回访 sweep: ask the parent about a resolved ticket, remind once, close as not reached.

* ``callback_delay_minutes`` after a ticket is resolved, the parent is asked
  privately 满意 / 基本满意 / 不满意 (``ticket_notify.ask_callback``, which
  sets ``callback_asked_at``: that column is the idempotency check).
* ``callback_remind_hours`` after the question, one reminder (a
  ``callback_reminded`` event since the question marks it done).
* ``callback_window_days`` after the question with no answer, the ticket is
  closed with reason ``not_reached`` — counted apart from the satisfaction
  rate, whose denominator holds answers only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from config.settings import Settings
from models import conversation, outbox, ticket_notify, ticket_service
from models.tickets import Ticket, TicketEvent, TicketState, add_event

BATCH = 500
REMINDED = "callback_reminded"


def sweep_callbacks(session: Session, settings: Settings, now: dt.datetime) -> dict[str, int]:
    """Ask, remind and expire 回访 questions that are due; return counts per step."""
    cfg = settings.scheduler
    window = dt.timedelta(days=cfg.callback_window_days)
    counts = {"asked": 0, "reminded": 0, "expired": 0}
    for ticket in due_to_ask(session, now, dt.timedelta(minutes=cfg.callback_delay_minutes)):
        with session.begin_nested():
            ticket_notify.ask_callback(session, ticket, now, ttl=window)
        counts["asked"] += 1
    for ticket in due_to_remind(session, now, dt.timedelta(hours=cfg.callback_remind_hours), window):
        with session.begin_nested():
            remind(session, ticket, now, window, cfg.timezone)
        counts["reminded"] += 1
    for ticket in due_to_expire(session, now, window):
        with session.begin_nested():
            expire(session, ticket, now)
        counts["expired"] += 1
    return counts


def due_to_ask(session: Session, now: dt.datetime, delay: dt.timedelta) -> list[Ticket]:
    """Return resolved tickets past the delay whose parent was not asked yet."""
    return list(session.scalars(select(Ticket).where(
        Ticket.state == TicketState.RESOLVED, Ticket.callback_asked_at.is_(None), Ticket.resolved_at <= now - delay,
    ).order_by(Ticket.resolved_at, Ticket.id).limit(BATCH)))


def due_to_remind(session: Session, now: dt.datetime, after: dt.timedelta, window: dt.timedelta) -> list[Ticket]:
    """Return tickets asked ``after`` ago, still unanswered and not yet reminded."""
    reminded = exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.action == REMINDED,
                              TicketEvent.at >= Ticket.callback_asked_at)
    return list(session.scalars(select(Ticket).where(
        Ticket.state == TicketState.RESOLVED, Ticket.callback_asked_at <= now - after,
        Ticket.callback_asked_at > now - window, ~reminded,
    ).order_by(Ticket.callback_asked_at, Ticket.id).limit(BATCH)))


def due_to_expire(session: Session, now: dt.datetime, window: dt.timedelta) -> list[Ticket]:
    """Return tickets whose 回访 window passed without an answer."""
    return list(session.scalars(select(Ticket).where(
        Ticket.state == TicketState.RESOLVED, Ticket.callback_asked_at <= now - window,
    ).order_by(Ticket.callback_asked_at, Ticket.id).limit(BATCH)))


def remind(session: Session, ticket: Ticket, now: dt.datetime, window: dt.timedelta, tz: str) -> None:
    """Ask once more, saying when the question closes, and keep the question open."""
    assert ticket.callback_asked_at is not None
    closes = ticket.callback_asked_at + window
    recipient = ticket_notify.parent_recipient(session, ticket)
    if recipient is not None:
        text = (f"【回访提醒】您反映的问题（编号 {ticket.number}）已办结，想听听您的意见。\n"
                f"处理结果：{ticket.resolution or '—'}\n{ticket_notify.CALLBACK_OPTIONS}"
                f"（{ticket_notify.local(closes, tz)} 前有效）")
        outbox.enqueue(session, recipient, text, now=now, audience="parent", ref=f"ticket:{ticket.id}",
                       dedupe_key=f"callback-remind:{ticket.id}:{ticket.callback_asked_at.isoformat()}")
        # The reminder makes this ticket the parent's latest question again.
        conversation.ask(session, recipient.identity_id, ticket_notify.CALLBACK, {"ticket_id": ticket.id},
                         now=now, ttl=closes - now)
    add_event(session, ticket, REMINDED, now, data={"reached": recipient is not None})


def expire(session: Session, ticket: Ticket, now: dt.datetime) -> None:
    """Close the ticket as 未回访 (not reached) and drop its open question."""
    ticket_service.close(session, ticket, "not_reached", now)
    if ticket.identity_id is not None:
        question = conversation.pending(session, ticket.identity_id, ticket_notify.CALLBACK, now)
        if question is not None and question.payload.get("ticket_id") == ticket.id:
            conversation.answered(session, ticket.identity_id, ticket_notify.CALLBACK)
