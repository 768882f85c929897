"""Ticket lifecycle services: open, assign, handle, resolve, 回访, close — every step an event.

States: new → assigned → in_progress → resolved → closed, and
resolved → reopened → in_progress when the parent answers 不满意 (重办).
Each service takes ``session`` and ``now``, never commits, and raises
``TicketError`` (Chinese message) for an action the ledger refuses.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import deadlines, routing
from models.directory import Guardianship, School, SchoolClass, Staff, Student
from models.labels import SATISFACTION_NAMES
from models.similarity import same_matter
from models.tickets import (
    OPEN_STATES,
    ClassifierCorrection,
    Ticket,
    TicketError,
    TicketState,
    add_event,
    ensure_prefix,
    next_number,
)

S = TicketState


def open_ticket(
    session: Session, *, school: School, kind: str, category: str, urgency: str, text: str, now: dt.datetime,
    tz: str, identity_id: int | None = None, guardianship: Guardianship | None = None,
    student: Student | None = None, school_class: SchoolClass | None = None, confidence: float | None = None,
    original_category: str | None = None, about_staff: Staff | None = None, source_inbound_id: int | None = None,
    needs_review: bool = False,
) -> Ticket:
    """Create a numbered ticket with its deadlines and assign it by the routing rules."""
    if school_class is None and student is not None:
        school_class = student.school_class
    respond_by, resolve_by = deadlines.deadlines_for(urgency, now, school.code, tz)
    ensure_prefix(session, school)
    ticket = Ticket(
        school_id=school.id, number=next_number(session, school.id, now, tz), kind=kind, category=category,
        original_category=original_category if original_category is not None else category, urgency=urgency,
        text=text, classifier_confidence=confidence, identity_id=identity_id,
        guardianship_id=guardianship.id if guardianship else None, student_id=student.id if student else None,
        class_id=school_class.id if school_class else None, about_staff_id=about_staff.id if about_staff else None,
        state=S.NEW, respond_by=respond_by, resolve_by=resolve_by, source_inbound_id=source_inbound_id,
        needs_review=needs_review, created_at=now, updated_at=now,
    )
    session.add(ticket)
    add_event(session, ticket, "created", now, identity_id=identity_id, text=text,
              data={"kind": kind, "category": category, "urgency": urgency, "confidence": confidence,
                    **({"review": True} if needs_review else {})})
    session.flush()
    owner = routing.route(session, school, kind=kind, category=category, urgency=urgency,
                          school_class=school_class, about_staff=about_staff)
    if owner is not None:
        assign(session, ticket, owner, now, reason="按分派规则")
    return ticket


# How strongly a kind asks the school to act: an appended message may only raise it.
KIND_STRENGTH = {"inquiry": 0, "suggestion": 1, "help": 2, "complaint": 3}


def find_duplicate(session: Session, identity_id: int, category: str, student_id: int | None, now: dt.datetime,
                   hours: int = 24, text: str | None = None) -> Ticket | None:
    """Return the same parent's open ticket on the same matter from the last ``hours``.

    Same category (and child), and, when ``text`` is given, the same matter by
    ``models.similarity.same_matter`` against the ticket's text or anything
    already appended to it; the most recent such ticket wins.
    """
    query = select(Ticket).where(
        Ticket.identity_id == identity_id, Ticket.category == category, Ticket.state.in_(OPEN_STATES),
        Ticket.created_at >= now - dt.timedelta(hours=hours),
    )
    if student_id is not None:
        query = query.where(Ticket.student_id == student_id)
    for ticket in session.scalars(query.order_by(Ticket.id.desc()).limit(20)):
        if text is None:
            return ticket
        said = [ticket.text] + [e.text for e in ticket.events if e.action == "appended" and e.text]
        if any(same_matter(earlier, text) for earlier in said):
            return ticket
    return None


def append(session: Session, ticket: Ticket, text: str, identity_id: int | None, now: dt.datetime,
           kind: str | None = None) -> None:
    """Add a repeated or follow-up message from the parent to an open ticket.

    A stronger ``kind`` (a complaint following an inquiry) raises the ticket's kind, recorded as ``kind_raised``.
    """
    add_event(session, ticket, "appended", now, identity_id=identity_id, text=text)
    if kind is not None and KIND_STRENGTH.get(kind, -1) > KIND_STRENGTH.get(ticket.kind, -1):
        add_event(session, ticket, "kind_raised", now, identity_id=identity_id,
                  data={"from": ticket.kind, "to": kind})
        ticket.kind = kind


def note(session: Session, ticket: Ticket, action: str, text: str, now: dt.datetime) -> None:
    """Record a system note on the ticket (e.g. ``child_unconfirmed``: filed without the parent's answer)."""
    add_event(session, ticket, action, now, text=text)


def _check_open(ticket: Ticket) -> None:
    if ticket.state == S.CLOSED:
        raise TicketError(f"工单 {ticket.number} 已销号，不能再操作。")
    if ticket.state == S.RESOLVED:
        raise TicketError(f"工单 {ticket.number} 已办结，正在等待家长回访。")


def assign(session: Session, ticket: Ticket, staff: Staff, now: dt.datetime, *, by: Staff | None = None,
           reason: str | None = None, action: str = "assigned") -> None:
    """Give the ticket to a staff member (never to the person it complains about)."""
    _check_open(ticket)
    if staff.id == ticket.about_staff_id:
        raise TicketError("该工单涉及被反映人本人，不能交由其办理。")
    if staff.school_id != ticket.school_id or not staff.active:
        raise TicketError(f"{staff.name}不是本校在岗教职工。")
    ticket.assignee_id, ticket.assignee = staff.id, staff
    if ticket.state != S.REOPENED:
        ticket.state = S.ASSIGNED
    add_event(session, ticket, action, now, staff=by, text=reason, data={"assignee_id": staff.id,
                                                                         "assignee": staff.name})


def accept(session: Session, ticket: Ticket, staff: Staff, now: dt.datetime) -> None:
    """接单: the assignee starts work."""
    _check_open(ticket)
    if ticket.state == S.IN_PROGRESS:
        raise TicketError(f"工单 {ticket.number} 已在办理中。")
    ticket.state = S.IN_PROGRESS
    ticket.responded_at = ticket.responded_at or now
    add_event(session, ticket, "accepted", now, staff=staff)


def reply(session: Session, ticket: Ticket, staff: Staff, text: str, now: dt.datetime) -> None:
    """Record a reply to the parent (the caller relays it); a first reply also counts as 接单."""
    if ticket.state == S.CLOSED:
        raise TicketError(f"工单 {ticket.number} 已销号，不能再回复。")
    if ticket.state in (S.NEW, S.ASSIGNED, S.REOPENED):
        ticket.state = S.IN_PROGRESS
    ticket.responded_at = ticket.responded_at or now
    add_event(session, ticket, "replied", now, staff=staff, text=text)


def transfer(session: Session, ticket: Ticket, by: Staff, to: Staff, reason: str, now: dt.datetime) -> None:
    """转办: hand the ticket to a colleague, with the reason."""
    if to.id == ticket.assignee_id:
        raise TicketError(f"工单 {ticket.number} 已由{to.name}办理。")
    assign(session, ticket, to, now, by=by, reason=reason, action="transferred")


def return_to_director(session: Session, ticket: Ticket, by: Staff, reason: str, school: School,
                       now: dt.datetime) -> Staff:
    """退回: the assignee says it is not theirs; a leader gets it back for re-routing."""
    _check_open(ticket)
    exclude = {by.id} | ({ticket.about_staff_id} if ticket.about_staff_id else set())
    leaders = [s for s in routing.staff_with_roles(session, school.id, ["director", "principal", "admin"])
               if s.id not in exclude]
    if not leaders:
        raise TicketError("本校没有可以重新分派的主任或校长，请直接联系学校负责人。")
    first = [s for s in leaders if s.role == leaders[0].role]
    leader = routing.least_loaded(session, first) or leaders[0]
    ticket.assignee_id, ticket.assignee, ticket.state = leader.id, leader, S.NEW
    add_event(session, ticket, "returned", now, staff=by, text=reason, data={"to_id": leader.id, "to": leader.name})
    return leader


def resolve(session: Session, ticket: Ticket, staff: Staff, resolution: str, now: dt.datetime) -> None:
    """办结: record what was done; the parent is asked next (回访)."""
    _check_open(ticket)
    if not resolution.strip():
        raise TicketError("请写明处理结果。")
    ticket.state, ticket.resolved_at, ticket.resolution = S.RESOLVED, now, resolution
    ticket.responded_at = ticket.responded_at or now
    add_event(session, ticket, "resolved", now, staff=staff, text=resolution)


def reject_resolution(session: Session, ticket: Ticket, leader: Staff, reason: str, now: dt.datetime) -> None:
    """驳回: 整改不到位不予销号 — a leader sends a resolution back before it is closed."""
    if ticket.state != S.RESOLVED:
        raise TicketError(f"工单 {ticket.number} 当前为「{ticket.state_name}」，只有已办结的工单可以驳回。")
    ticket.state, ticket.resolved_at, ticket.callback_asked_at = S.IN_PROGRESS, None, None
    add_event(session, ticket, "resolution_rejected", now, staff=leader, text=reason)


def record_callback_answer(session: Session, ticket: Ticket, answer: str, identity_id: int | None,
                           now: dt.datetime, words: str | None = None) -> None:
    """Store the parent's 回访 answer: 满意/基本满意 close the ticket, 不满意 reopens it (重办).

    ``words``: what the parent wrote when it was more than the answer itself (kept in the event's data).
    """
    if answer not in SATISFACTION_NAMES:
        raise ValueError(answer)
    if ticket.state != S.RESOLVED:
        raise TicketError(f"工单 {ticket.number} 当前为「{ticket.state_name}」，无需回访。")
    ticket.satisfaction = answer
    data = {"satisfaction": answer} | ({"words": words} if words else {})
    add_event(session, ticket, "callback_answered", now, identity_id=identity_id, text=SATISFACTION_NAMES[answer],
              data=data)
    if answer == "unsatisfied":
        reopen(session, ticket, now, identity_id=identity_id)
    else:
        close(session, ticket, answer, now, identity_id=identity_id)


def reopen(session: Session, ticket: Ticket, now: dt.datetime, identity_id: int | None = None) -> None:
    """重办: the parent is not satisfied; the ticket goes back to its owner and is escalated."""
    if ticket.state != S.RESOLVED:
        raise TicketError(f"工单 {ticket.number} 当前为「{ticket.state_name}」，不能重办。")
    ticket.state, ticket.reopen_count = S.REOPENED, ticket.reopen_count + 1
    ticket.resolved_at, ticket.callback_asked_at, ticket.escalated_at = None, None, now
    add_event(session, ticket, "reopened", now, identity_id=identity_id)


def close(session: Session, ticket: Ticket, reason: str, now: dt.datetime, *, identity_id: int | None = None,
          staff: Staff | None = None) -> None:
    """销号: close a resolved ticket (reason ``satisfied``, ``basic`` or ``not_reached``)."""
    if ticket.state == S.CLOSED:
        raise TicketError(f"工单 {ticket.number} 已销号，不能重复销号。")
    if ticket.state != S.RESOLVED:
        raise TicketError(f"工单 {ticket.number} 尚未办结，不能销号。")
    ticket.state, ticket.closed_at, ticket.close_reason = S.CLOSED, now, reason
    add_event(session, ticket, "closed", now, identity_id=identity_id, staff=staff, data={"reason": reason})


def request_extension(session: Session, ticket: Ticket, staff: Staff, days: int, reason: str,
                      now: dt.datetime) -> None:
    """延期申请: ask a leader for ``days`` more working days."""
    _check_open(ticket)
    if not 1 <= days <= 30:
        raise TicketError("延期天数应为 1 到 30 个工作日。")
    if ticket.extension_days:
        raise TicketError(f"工单 {ticket.number} 已有待审批的延期申请。")
    ticket.extension_days = days
    add_event(session, ticket, "extension_requested", now, staff=staff, text=reason, data={"days": days})


def decide_extension(session: Session, ticket: Ticket, leader: Staff, approve: bool, now: dt.datetime, *,
                     school_code: str, tz: str, reason: str | None = None) -> None:
    """批准延期 moves the resolve-by deadline by the days asked; 驳回延期 leaves it."""
    if not ticket.extension_days:
        raise TicketError(f"工单 {ticket.number} 没有待审批的延期申请。")
    days, ticket.extension_days = ticket.extension_days, None
    if approve:
        old = ticket.resolve_by
        ticket.resolve_by = deadlines.extend(old, days, now, school_code, tz)
        add_event(session, ticket, "extension_approved", now, staff=leader, text=reason,
                  data={"days": days, "from": old.isoformat() if old else None,
                        "to": ticket.resolve_by.isoformat()})
    else:
        add_event(session, ticket, "extension_denied", now, staff=leader, text=reason, data={"days": days})


def supervise(session: Session, ticket: Ticket, leader: Staff, now: dt.datetime, text: str | None = None) -> None:
    """督办: a leader presses the assignee; recorded in the history."""
    _check_open(ticket)
    add_event(session, ticket, "supervised", now, staff=leader, text=text)


def recategorize(session: Session, ticket: Ticket, staff: Staff, category: str, now: dt.datetime) -> None:
    """改类: correct the category and keep the correction for the classifier's learning."""
    if category == ticket.category:
        raise TicketError(f"工单 {ticket.number} 已是该类别。")
    session.add(ClassifierCorrection(ticket_id=ticket.id, school_id=ticket.school_id, text=ticket.text,
                                     from_category=ticket.category, to_category=category, from_kind=ticket.kind,
                                     to_kind=ticket.kind, from_urgency=ticket.urgency, to_urgency=ticket.urgency,
                                     staff_id=staff.id, at=now))
    add_event(session, ticket, "recategorized", now, staff=staff, data={"from": ticket.category, "to": category})
    ticket.category = category


def change_kind(session: Session, ticket: Ticket, staff: Staff, kind: str, now: dt.datetime) -> None:
    """改为: correct the kind (投诉/求助/建议/咨询/表扬/无需处理) and keep it as a labelled correction.

    ``none`` (无需处理) and ``praise`` are recorded for learning; the ticket keeps an actionable kind
    (the teacher closes it with 办结 as usual).
    """
    if kind == ticket.kind:
        raise TicketError(f"工单 {ticket.number} 已是该诉求类型。")
    session.add(ClassifierCorrection(ticket_id=ticket.id, school_id=ticket.school_id, text=ticket.text,
                                     from_category=ticket.category, to_category=ticket.category,
                                     from_kind=ticket.kind, to_kind=kind, from_urgency=ticket.urgency,
                                     to_urgency=ticket.urgency, staff_id=staff.id, at=now))
    add_event(session, ticket, "kind_corrected", now, staff=staff, data={"from": ticket.kind, "to": kind})
    if kind in KIND_STRENGTH:
        ticket.kind = kind


def mark_callback_asked(session: Session, ticket: Ticket, now: dt.datetime) -> None:
    """Note that the 回访 question went out (scheduler idempotency)."""
    ticket.callback_asked_at = now
    add_event(session, ticket, "callback_asked", now)
