"""Leaders' ticket actions with what each one tells people: 督办, 指派, 延期审批, 驳回.

The chat commands (``handlers.leader_commands``) and the web console call
these, so an action does the same thing and sends the same messages from
either place. Each function changes the ticket through ``models.ticket_service``
(which writes the history with the actor), raises ``TicketError`` for what the
ledger refuses, and returns the private notices to send.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from models import conversation, ticket_notify, ticket_service
from models.directory import Staff
from models.ticket_notify import CALLBACK, Notice
from models.tickets import Ticket


def supervise(session: Session, ticket: Ticket, leader: Staff, now: dt.datetime, tz: str,
              note: str | None = None) -> list[Notice]:
    """督办: record it and press the assignee (unless the leader holds the ticket)."""
    ticket_service.supervise(session, ticket, leader, now, note)
    text = (f"【督办】{leader.name}{leader.role_name}督办 {ticket_notify.headline(ticket)}"
            f"{'：' + note if note else ''}\n办结时限 {ticket_notify.local(ticket.resolve_by, tz)}，请尽快办理。")
    return ticket_notify.to_staff(session, ticket.assignee, text, ticket) if ticket.assignee_id != leader.id else []


def assign(session: Session, ticket: Ticket, leader: Staff, target: Staff, now: dt.datetime, tz: str,
           reason: str | None = None) -> list[Notice]:
    """指派: give the ticket to ``target``, who gets the task privately."""
    ticket_service.assign(session, ticket, target, now, by=leader, reason=reason)
    text = ticket_notify.assignee_text(ticket, tz, intro=f"{leader.name}指派")
    return ticket_notify.to_staff(session, target, text, ticket)


def decide_extension(session: Session, ticket: Ticket, leader: Staff, approve: bool, now: dt.datetime, tz: str,
                     reason: str | None = None) -> list[Notice]:
    """批准延期 / 驳回延期: decide a pending request; the assignee hears the new (or unchanged) deadline."""
    days = ticket.extension_days
    ticket_service.decide_extension(session, ticket, leader, approve, now, school_code=leader.school.code, tz=tz,
                                    reason=reason)
    when = ticket_notify.local(ticket.resolve_by, tz)
    text = (f"【延期已批准】{ticket.number} 延期 {days} 个工作日，新时限 {when}。" if approve
            else f"【延期未批准】{ticket.number} 请按原时限 {when} 办结。")
    return ticket_notify.to_staff(session, ticket.assignee, text, ticket)


def reject(session: Session, ticket: Ticket, leader: Staff, reason: str, now: dt.datetime) -> list[Notice]:
    """驳回: 整改不到位不予销号 — back to the assignee; a parent already asked for the 回访 is told to wait."""
    asked = ticket.callback_asked_at is not None
    ticket_service.reject_resolution(session, ticket, leader, reason, now)
    notices = ticket_notify.to_staff(
        session, ticket.assignee,
        f"【驳回】{ticket_notify.headline(ticket)} 整改不到位不予销号：{reason}\n"
        f"请继续办理后重新发送「办结 {ticket.number} 处理结果」。", ticket)
    if asked and ticket.identity_id is not None:
        question = conversation.pending(session, ticket.identity_id, CALLBACK, now)
        if question is not None and question.payload.get("ticket_id") == ticket.id:
            conversation.answered(session, ticket.identity_id, CALLBACK)
        notices += ticket_notify.to_parent(session, ticket, f"您反映的问题（编号 {ticket.number}）的处理结果经学校复核，"
                                           "已退回继续办理，本次暂不需要评价；处理完成后会再请您评价。")
    return notices
