"""What tickets say to people: texts, private recipients, the 回访 question.

Handlers turn ``Notice`` objects into ``Reply(to=...)`` intents; the
scheduler calls ``send`` (or ``ask_callback``) to put them in the outbox.
Ticket details only ever go to private chats.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.message import USER, Recipient
from models import conversation, outbox, ticket_service
from models.directory import Staff
from models.identity import Identity
from models.labels import category_name, kind_name
from models.people import staff_recipients
from models.tickets import Ticket

CALLBACK = "callback"  # the pending-question kind of the 回访
CALLBACK_OPTIONS = "回复 1 满意 / 2 基本满意 / 3 不满意"


@dataclasses.dataclass(frozen=True)
class Notice:
    """A private message about a ticket."""

    to: Recipient
    text: str
    urgent: bool = False
    ref: str | None = None
    audience: str = "staff"  # parent | staff (the outbox's quiet-hours rules differ)


def local(when: dt.datetime | None, tz: str) -> str:
    """Format a time for a phone screen: 11月24日 10:00."""
    if when is None:
        return "—"
    t = when.astimezone(ZoneInfo(tz))
    return f"{t.month}月{t.day}日 {t:%H:%M}"


def signature(staff: Staff) -> str:
    """Return how a staff member signs to parents: surname + role, never a phone."""
    if staff.is_leader:
        return f"{staff.name[0]}{staff.role_name}" if not staff.name.endswith(staff.role_name) else staff.name
    if staff.role == "head_teacher":
        return f"{staff.name[0]}老师（班主任）"
    return f"{staff.name[0]}老师"


def parent_recipient(session: Session, ticket: Ticket) -> Recipient | None:
    """Return the private address of the parent who raised the ticket."""
    identity = session.get(Identity, ticket.identity_id) if ticket.identity_id else None
    if identity is None:
        return None
    return Recipient(identity.platform, USER, identity.external_id, identity.school_id, identity_id=identity.id)


def to_parent(session: Session, ticket: Ticket, text: str, urgent: bool = False) -> list[Notice]:
    """Return a notice to the ticket's parent (none when they cannot be reached)."""
    recipient = parent_recipient(session, ticket)
    return [Notice(recipient, text, urgent, f"ticket:{ticket.id}", "parent")] if recipient else []


def to_staff(session: Session, staff: Staff | None, text: str, ticket: Ticket, urgent: bool = False) -> list[Notice]:
    """Return notices to every private address of a staff member."""
    if staff is None:
        return []
    return [Notice(r, text, urgent, f"ticket:{ticket.id}") for r in staff_recipients(session, staff)]


def who(ticket: Ticket) -> str:
    """Return the student and class a ticket concerns."""
    if ticket.student is not None:
        return f"{ticket.student.name}（{ticket.student.school_class.name}）"
    return ticket.school_class.name if ticket.school_class is not None else "—"


def headline(ticket: Ticket) -> str:
    """Return ``2026-0001 食堂餐饮·投诉`` (plus ``【紧急】``)."""
    flag = "【紧急】" if ticket.urgency == "urgent" else ""
    return f"{flag}{ticket.number} {category_name(ticket.category)}·{kind_name(ticket.kind)}"


def assignee_text(ticket: Ticket, tz: str, intro: str = "新工单") -> str:
    """Return the private message that hands a ticket to its owner, with the commands to act."""
    n = ticket.number
    return "\n".join([
        f"【{intro}】{headline(ticket)}",
        f"学生：{who(ticket)}",
        f"内容：{ticket.text}",
        f"响应时限：{local(ticket.respond_by, tz)}　办结时限：{local(ticket.resolve_by, tz)}",
        f"接单 {n}｜回复 {n} 内容｜办结 {n} 处理结果",
        f"转办 {n} 姓名 原因｜退回 {n} 原因｜延期 {n} 天数 原因｜改类 {n} 类别",
    ])


def urgent_alert_text(ticket: Ticket, tz: str) -> str:
    """Return the alert leaders get at once for an urgent ticket."""
    owner = ticket.assignee.name if ticket.assignee else "未分派"
    return (f"【紧急工单】{headline(ticket)}\n学生：{who(ticket)}\n内容：{ticket.text}\n"
            f"已分派：{owner}，办结时限 {local(ticket.resolve_by, tz)}。发送「督办 {ticket.number}」催办。")


def opened_notices(session: Session, ticket: Ticket, tz: str) -> list[Notice]:
    """Return what goes out when a ticket opens: the assignee's task, and urgent alerts."""
    from models.routing import urgent_watchers

    notices = to_staff(session, ticket.assignee, assignee_text(ticket, tz), ticket, ticket.urgency == "urgent")
    if ticket.urgency == "urgent":
        skip = {ticket.about_staff_id, ticket.assignee_id} - {None}
        for leader in urgent_watchers(session, ticket.school_id, exclude=skip):  # type: ignore[arg-type]
            notices += to_staff(session, leader, urgent_alert_text(ticket, tz), ticket, urgent=True)
    return notices


def callback_text(ticket: Ticket) -> str:
    """Return the 回访 question."""
    return (f"【回访】您反映的问题（编号 {ticket.number}）已办结。\n处理结果：{ticket.resolution or '—'}\n"
            f"请问您对处理结果是否满意？{CALLBACK_OPTIONS}")


def ask_callback(session: Session, ticket: Ticket, now: dt.datetime, *, ttl: dt.timedelta,
                 enqueue: bool = True) -> list[Notice]:
    """Ask the parent 满意/基本满意/不满意 about a resolved ticket (the scheduler's 回访 job calls this).

    Opens the pending ``callback`` question and, with ``enqueue``, writes the
    message to the outbox; returns the notices either way. Idempotent: a
    ticket whose question already went out, or that is not resolved, gets nothing.
    """
    if ticket.state != "resolved" or ticket.callback_asked_at is not None:
        return []
    notices = to_parent(session, ticket, callback_text(ticket))
    if ticket.identity_id is not None:
        conversation.ask(session, ticket.identity_id, CALLBACK, {"ticket_id": ticket.id}, now=now, ttl=ttl)
    ticket_service.mark_callback_asked(session, ticket, now)
    if enqueue:
        send(session, notices, now)
    return notices


def send(session: Session, notices: list[Notice], now: dt.datetime) -> None:
    """Put notices in the outbox (for callers outside the message pipeline)."""
    for notice in notices:
        outbox.enqueue(session, notice.to, notice.text, now=now, audience=notice.audience, urgent=notice.urgent,
                       ref=notice.ref)
