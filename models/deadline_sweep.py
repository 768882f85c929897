"""Deadline sweep: remind assignees before respond-by/resolve-by, escalate when overdue.

One pass over the open tickets that are near or past a deadline (indexed
``(state, respond_by)`` and ``(state, resolve_by)``), not a job per ticket.
Each reminder or escalation is a ticket event; the event is also what makes
the sweep idempotent: a step fires only when no event of its kind exists
since the deadline it is about (so an approved extension moves the next
reminder with the deadline). Outbox dedupe keys name the deadline too, so a
second scheduler that slipped past the lease still sends nothing twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import Interval, and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from config.settings import Settings
from models import outbox, people
from models.base import UTCDateTime
from models.directory import Staff
from models.routing import staff_with_roles
from models.ticket_notify import headline, local, who
from models.tickets import OPEN_STATES, Ticket, TicketEvent, add_event

BATCH = 500  # at most this many tickets per step per tick; the rest follow next tick


@dataclasses.dataclass(frozen=True)
class Step:
    """One kind of deadline action."""

    action: str  # the ticket event it writes
    deadline: str  # "respond_by" | "resolve_by"
    escalate: bool


STEPS = (
    Step("reminded_respond", "respond_by", False),
    Step("reminded_resolve", "resolve_by", False),
    Step("escalated_respond", "respond_by", True),
    Step("escalated_resolve", "resolve_by", True),
)


def sweep_deadlines(session: Session, settings: Settings, now: dt.datetime) -> dict[str, int]:
    """Run every deadline step once; return how many tickets each step acted on."""
    cfg = settings.scheduler
    leads = {"respond_by": dt.timedelta(minutes=cfg.respond_remind_minutes),
             "resolve_by": dt.timedelta(hours=cfg.resolve_remind_hours)}
    counts: dict[str, int] = {}
    for step in STEPS:
        done = 0
        for ticket in due_for(session, step, now, leads[step.deadline]):
            with session.begin_nested():
                if step.escalate:
                    escalate(session, ticket, step, now, cfg.timezone)
                else:
                    remind(session, ticket, step, now, cfg.timezone)
            done += 1
        counts[step.action] = done
    return counts


def due_for(session: Session, step: Step, now: dt.datetime, lead: dt.timedelta) -> list[Ticket]:
    """Return the open tickets this step must act on now (one indexed query)."""
    deadline = getattr(Ticket, step.deadline)
    # Escalation fires from the deadline on; a reminder from ``lead`` before it until the deadline,
    # but never before half the time allowed has gone (an urgent ticket's 1 h to respond and
    # 24 h to resolve would otherwise remind the assignee of both at assignment).
    since = deadline if step.escalate else shift(session, deadline, -lead)
    window = deadline <= now if step.escalate else and_(
        deadline > now, deadline <= now + lead, half_gone(session, Ticket.created_at, deadline, now))
    already = exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.action == step.action,
                             TicketEvent.at >= since)
    query = select(Ticket).where(Ticket.state.in_(OPEN_STATES), deadline.is_not(None), window, ~already)
    if step.deadline == "respond_by":
        query = query.where(Ticket.responded_at.is_(None))
    else:  # while the grid works on a referred matter (转属地), the school is not chased for it
        from models.grid import TicketReferral

        query = query.where(~exists().where(TicketReferral.ticket_id == Ticket.id, TicketReferral.feedback_at.is_(None)))
    if not step.escalate:
        query = query.where(Ticket.assignee_id.is_not(None))
    elif step.deadline == "resolve_by":
        # Reopening (重办) already alerted the leaders about a passed deadline.
        query = query.where(or_(Ticket.escalated_at.is_(None), Ticket.escalated_at < Ticket.resolve_by))
    return list(session.scalars(query.order_by(deadline, Ticket.id).limit(BATCH)))


def shift(session: Session, column: Any, delta: dt.timedelta) -> Any:
    """Return ``column + delta`` in SQL (SQLite keeps datetimes as text, so it needs ``datetime()``)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.datetime(column, f"{int(delta.total_seconds()):+d} seconds")
    return column + literal(delta, Interval())


def half_gone(session: Session, start: Any, deadline: Any, now: dt.datetime) -> Any:
    """Return SQL for "half the time from ``start`` to ``deadline`` has passed at ``now``"."""
    if session.get_bind().dialect.name == "sqlite":
        at = literal(now, UTCDateTime())
        return func.julianday(start) + func.julianday(deadline) <= 2 * func.julianday(at)
    return start + (deadline - start) / 2 <= now


def remind(session: Session, ticket: Ticket, step: Step, now: dt.datetime, tz: str) -> None:
    """Tell the assignee a deadline is near, and note it on the ticket."""
    deadline = getattr(ticket, step.deadline)
    what = "响应（接单或回复家长）" if step.deadline == "respond_by" else "办结"
    text = (f"【时限提醒】{headline(ticket)}\n学生：{who(ticket)}\n"
            f"请在 {local(deadline, tz)} 前{what}。\n内容：{_short(ticket.text)}")
    _send(session, ticket.assignee, ticket, text, step, deadline, now)
    add_event(session, ticket, step.action, now, data={"deadline": deadline.isoformat(),
                                                       "to": ticket.assignee.name if ticket.assignee else None})


def escalate(session: Session, ticket: Ticket, step: Step, now: dt.datetime, tz: str) -> None:
    """Alert the directors (and the principal for an urgent ticket) that a deadline passed."""
    deadline = getattr(ticket, step.deadline)
    leaders = escalation_targets(session, ticket)
    owner = ticket.assignee.name if ticket.assignee else "未分派"
    what = "未响应" if step.deadline == "respond_by" else "逾期未办结"
    text = (f"【超时督办】{headline(ticket)} {what}\n学生：{who(ticket)}\n承办人：{owner}，"
            f"时限 {local(deadline, tz)}\n内容：{_short(ticket.text)}\n发送「督办 {ticket.number}」催办。")
    for leader in leaders:
        _send(session, leader, ticket, text, step, deadline, now)
    if ticket.assignee is not None and ticket.assignee not in leaders:
        notice = f"【已超时】{headline(ticket)} {what}（时限 {local(deadline, tz)}），已报告学校领导，请尽快处理。"
        _send(session, ticket.assignee, ticket, notice, step, deadline, now)
    if step.deadline == "resolve_by":
        ticket.escalated_at = now
    add_event(session, ticket, step.action, now, data={"deadline": deadline.isoformat(),
                                                       "to": [s.name for s in leaders]})


def escalation_targets(session: Session, ticket: Ticket) -> list[Staff]:
    """Return the directors (plus principals when urgent); principals if a school has no director.

    The staff member a complaint is about is never told about it.
    """
    roles = ["director", "principal"] if ticket.urgency == "urgent" else ["director"]
    skip = {ticket.about_staff_id}
    leaders = [s for s in staff_with_roles(session, ticket.school_id, roles) if s.id not in skip]
    if not leaders:
        leaders = [s for s in staff_with_roles(session, ticket.school_id, ["principal", "admin"]) if s.id not in skip]
    return leaders


def _send(session: Session, staff: Staff | None, ticket: Ticket, text: str, step: Step, deadline: dt.datetime,
          now: dt.datetime) -> None:
    if staff is None:
        return
    for recipient in people.staff_recipients(session, staff)[:1]:
        outbox.enqueue(session, recipient, text, now=now, audience="staff", urgent=ticket.urgency == "urgent",
                       ref=f"ticket:{ticket.id}",
                       dedupe_key=f"{step.action}:{ticket.id}:{staff.id}:{deadline.isoformat()}")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
