"""The safety review tier (疑似紧急): possible dangers a person looks at within minutes.

The classifier flags a message for review when a danger concept fired or the learned
p(urgent) passed its threshold, without rating it urgent (handlers/_combine.py). Such a
ticket carries ``needs_review``; its head teacher and the school's on-duty leader get it at
once with the one-step commands ``确认紧急 编号`` / ``非紧急 编号``. Unanswered after
``tickets.review_minutes`` the review sweep escalates it as urgent to the principal. Every
message here is sent as urgent: quiet hours never hold it. Each answer is kept as a labelled
correction for the classifier's learning loop.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import deadlines, outbox, people
from models.base import utcnow
from models.directory import Staff
from models.routing import routing_config, staff_with_duties, staff_with_roles
from models.ticket_notify import Notice, headline, local, send, to_staff, urgent_alert_text, who
from models.tickets import OPEN_STATES, ClassifierCorrection, Ticket, add_event

__all__ = [
    "ON_DUTY", "ReviewError", "confirm_urgent", "correction_rows", "dismiss_review", "flag_notices", "review_text",
    "reviewers", "sweep_reviews",
]

# The 花名册 duty of the leader on duty (值班领导); without one, the first notify_urgent role.
ON_DUTY = "值班"


class ReviewError(ValueError):
    """A review command that cannot apply (already answered, not flagged); the message is Chinese."""


def on_duty_leaders(session: Session, school_id: int, exclude: set[int]) -> list[Staff]:
    """Return the staff on duty (duty 值班), else the first notify_urgent role that has anybody."""
    found = [s for s in staff_with_duties(session, school_id, [ON_DUTY]) if s.id not in exclude]
    if found:
        return found
    for role in routing_config().get("notify_urgent") or ["director", "principal"]:
        found = [s for s in staff_with_roles(session, school_id, [role]) if s.id not in exclude]
        if found:
            return found[:1]
    return []


def reviewers(session: Session, ticket: Ticket) -> list[Staff]:
    """Return who reviews a flagged ticket: the head teacher and the on-duty leader (never the accused)."""
    skip = {ticket.about_staff_id} - {None}
    out: list[Staff] = []
    head = ticket.school_class.head_teacher if ticket.school_class is not None else None
    if head is not None and head.active and head.id not in skip:
        out.append(head)
    for leader in on_duty_leaders(session, ticket.school_id, skip | {s.id for s in out}):  # type: ignore[arg-type]
        out.append(leader)
    if ticket.assignee is not None and ticket.assignee.id not in skip and ticket.assignee not in out and not out:
        out.append(ticket.assignee)
    return out


def review_text(ticket: Ticket, tz: str, minutes: int) -> str:
    """Return the review request: what happened and the two one-step answers."""
    n = ticket.number
    return (f"【疑似紧急·请立即查看】{headline(ticket)}\n学生：{who(ticket)}\n内容：{ticket.text}\n"
            f"如属紧急请回复「确认紧急 {n}」，不紧急请回复「非紧急 {n}」。"
            f"{minutes} 分钟内无人确认，将按紧急事项报告校长。")


def flag_notices(session: Session, ticket: Ticket, tz: str, minutes: int) -> list[Notice]:
    """Return the review requests for a newly flagged ticket (urgent: never held by quiet hours)."""
    notices: list[Notice] = []
    for staff in reviewers(session, ticket):
        notices += to_staff(session, staff, review_text(ticket, tz, minutes), ticket, urgent=True)
    return notices


def _check(ticket: Ticket) -> None:
    if not ticket.needs_review:
        raise ReviewError(f"工单 {ticket.number} 不在待确认状态（已确认或无需确认）。")


def _correction(session: Session, ticket: Ticket, actor: Staff | None, to_urgency: str, now: dt.datetime) -> None:
    session.add(ClassifierCorrection(
        ticket_id=ticket.id, school_id=ticket.school_id, text=ticket.text, from_category=ticket.original_category,
        to_category=ticket.category, from_kind=ticket.kind, to_kind=ticket.kind, from_urgency="review",
        to_urgency=to_urgency, staff_id=actor.id if actor is not None else None, at=now,
    ))


def confirm_urgent(session: Session, ticket: Ticket, actor: Staff, now: dt.datetime | None = None,
                   tz: str = "Asia/Shanghai", *, enqueue: bool = True) -> list[Notice]:
    """确认紧急: rate the ticket urgent (urgent deadlines), alert the leaders; return the notices.

    With ``enqueue`` (the web console) the alerts go straight to the outbox; the chat command passes
    False and sends them as replies through the message pipeline.
    """
    _check(ticket)
    now = now or utcnow()
    _correction(session, ticket, actor, "urgent", now)
    ticket.needs_review = False
    ticket.reviewed_at = now
    ticket.reviewed_by_id = actor.id
    _make_urgent(ticket, now, tz)
    add_event(session, ticket, "review_confirmed", now, staff=actor)
    notices = _urgent_alerts(session, ticket, tz, exclude={actor.id})
    if enqueue:
        send(session, notices, now)
    return notices


def dismiss_review(session: Session, ticket: Ticket, actor: Staff, now: dt.datetime | None = None) -> None:
    """非紧急: the flag was a false alarm; the ticket goes on as a normal one."""
    _check(ticket)
    now = now or utcnow()
    _correction(session, ticket, actor, ticket.urgency, now)
    ticket.needs_review = False
    ticket.reviewed_at = now
    ticket.reviewed_by_id = actor.id
    add_event(session, ticket, "review_dismissed", now, staff=actor)


def _make_urgent(ticket: Ticket, now: dt.datetime, tz: str) -> None:
    ticket.urgency = "urgent"
    respond_by, resolve_by = deadlines.deadlines_for("urgent", ticket.created_at, ticket.school.code, tz)
    ticket.respond_by = min(ticket.respond_by or respond_by, respond_by)
    ticket.resolve_by = min(ticket.resolve_by or resolve_by, resolve_by)


def _urgent_alerts(session: Session, ticket: Ticket, tz: str, exclude: set[int]) -> list[Notice]:
    from models.routing import urgent_watchers

    skip = exclude | ({ticket.about_staff_id} - {None})  # type: ignore[operator]
    notices: list[Notice] = []
    for leader in urgent_watchers(session, ticket.school_id, exclude=skip):
        notices += to_staff(session, leader, urgent_alert_text(ticket, tz), ticket, urgent=True)
    return notices


def principals(session: Session, ticket: Ticket) -> list[Staff]:
    """Return the principals (directors or admins when a school has none), never the accused."""
    skip = {ticket.about_staff_id}
    for roles in (["principal"], ["director"], ["admin"]):
        found = [s for s in staff_with_roles(session, ticket.school_id, roles) if s.id not in skip]
        if found:
            return found
    return []


def sweep_reviews(session: Session, settings, now: dt.datetime) -> dict[str, int]:
    """Escalate flagged tickets nobody answered within tickets.review_minutes, as urgent, to the principal.

    Idempotent: an escalated ticket loses its flag in the same transaction, and the outbox rows carry a
    dedupe key. Working hours and quiet hours play no part.
    """
    minutes = settings.tickets.review_minutes
    tz = settings.app.timezone
    due = session.scalars(
        select(Ticket).where(Ticket.needs_review.is_(True), Ticket.state.in_([str(s) for s in OPEN_STATES]),
                             Ticket.created_at <= now - dt.timedelta(minutes=minutes)).order_by(Ticket.id)
    ).all()
    done = 0
    for ticket in due:
        with session.begin_nested():
            ticket.needs_review = False
            _make_urgent(ticket, now, tz)
            text = (f"【疑似紧急·超时未确认】{headline(ticket)}\n学生：{who(ticket)}\n内容：{ticket.text}\n"
                    f"{minutes} 分钟内班主任和值班领导均未确认，已按紧急事项处理，请立即过问。"
                    f"办结时限 {local(ticket.resolve_by, tz)}。发送「督办 {ticket.number}」催办。")
            leaders = principals(session, ticket)
            for leader in leaders:
                for recipient in people.staff_recipients(session, leader)[:1]:
                    outbox.enqueue(session, recipient, text, now=now, audience="staff", urgent=True,
                                   ref=f"ticket:{ticket.id}", dedupe_key=f"review_escalated:{ticket.id}:{leader.id}")
            add_event(session, ticket, "review_escalated", now, data={"to": [s.name for s in leaders]})
        done += 1
    return {"review_escalated": done}


def correction_rows(session: Session) -> list[dict[str, Any]]:
    """Return the staff's corrections as labelled rows (latest correction of a ticket wins).

    A correction to 无需处理 is a ``none`` row; an urgency of ``review`` (a flag answered 非紧急)
    becomes ``normal``. Rows are ordered by id so training stays deterministic.
    """
    latest: dict[int, dict[str, Any]] = {}
    for c in session.scalars(select(ClassifierCorrection).order_by(ClassifierCorrection.id)):
        row = latest.get(c.ticket_id) or {"id": f"correction-{c.id}", "text": c.text}
        row["kind"] = c.to_kind or row.get("kind") or "complaint"
        row["category"] = None if row["kind"] == "none" else c.to_category
        urgency = c.to_urgency or row.get("urgency") or "normal"
        row["urgency"] = None if row["kind"] == "none" else ("normal" if urgency == "review" else urgency)
        latest[c.ticket_id] = row
    return list(latest.values())
