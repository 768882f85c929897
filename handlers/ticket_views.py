"""How tickets read on a phone: list lines, the staff detail view, the parent's progress view."""

from __future__ import annotations

import datetime as dt

from models.ticket_notify import category_name, headline, local, signature, who
from models.tickets import CLOSE_REASON_NAMES, SATISFACTION_NAMES, Ticket

ACTION_NAMES = {
    "created": "家长反映",
    "assigned": "分派",
    "accepted": "接单",
    "replied": "回复家长",
    "appended": "家长补充",
    "transferred": "转办",
    "returned": "退回重新分派",
    "resolved": "办结",
    "resolution_rejected": "驳回（整改不到位）",
    "callback_asked": "发出回访",
    "callback_answered": "家长回访",
    "reopened": "重办",
    "closed": "销号",
    "extension_requested": "申请延期",
    "extension_approved": "批准延期",
    "extension_denied": "驳回延期",
    "supervised": "督办",
    "recategorized": "改类",
}
# What a parent sees of the history: never internal steps (transfers, 驳回, 督办).
PARENT_ACTIONS = frozenset({"created", "appended", "accepted", "replied", "resolved", "reopened", "closed"})


def list_line(ticket: Ticket, now: dt.datetime, tz: str) -> str:
    """Return one line of a ticket list, overdue marked."""
    flag = " ⚠超期" if ticket.is_overdue(now) else ""
    owner = f"｜{ticket.assignee.name}" if ticket.assignee else ""
    return (f"· {headline(ticket)}｜{ticket.state_name}｜{who(ticket)}{owner}"
            f"｜时限 {local(ticket.resolve_by, tz)}{flag}")


def event_line(event, tz: str) -> str:
    """Return one line of a ticket's history."""
    actor = event.actor_staff.name if event.actor_staff is not None else ("家长" if event.actor_identity_id else "系统")
    name = ACTION_NAMES.get(event.action, event.action)
    extra = ""
    if event.action in ("assigned", "transferred") and event.data:
        extra = f" → {event.data.get('assignee', '')}"
    elif event.action == "returned" and event.data:
        extra = f" → {event.data.get('to', '')}"
    elif event.action == "recategorized" and event.data:
        extra = f" {category_name(event.data['from'])} → {category_name(event.data['to'])}"
    elif event.action in ("extension_requested", "extension_approved") and event.data:
        extra = f" {event.data.get('days')} 个工作日"
    text = f"：{event.text}" if event.text and event.action != "created" else ""
    return f"{local(event.at, tz)} {actor} {name}{extra}{text}"


def staff_detail(ticket: Ticket, now: dt.datetime, tz: str) -> str:
    """Return the full view of a ticket for staff who may see it."""
    lines = [
        f"【工单】{headline(ticket)}（{ticket.state_name}{'，⚠超期' if ticket.is_overdue(now) else ''}）",
        f"学生：{who(ticket)}",
        f"内容：{ticket.text}",
        f"承办人：{ticket.assignee.name if ticket.assignee else '未分派'}",
        f"响应时限：{local(ticket.respond_by, tz)}　办结时限：{local(ticket.resolve_by, tz)}",
    ]
    if ticket.extension_days:
        lines.append(f"待审批延期：{ticket.extension_days} 个工作日")
    if ticket.resolution:
        lines.append(f"处理结果：{ticket.resolution}")
    if ticket.satisfaction:
        lines.append(f"回访：{SATISFACTION_NAMES.get(ticket.satisfaction, ticket.satisfaction)}")
    lines.append("处理记录：")
    lines += [f"  {event_line(e, tz)}" for e in ticket.events]
    return "\n".join(lines)


def parent_progress(ticket: Ticket, tz: str) -> str:
    """Return what a parent sees of their own ticket: state, owner's role, deadline, replies."""
    owner = signature(ticket.assignee) if ticket.assignee else "学校"
    lines = [f"编号 {ticket.number}（{category_name(ticket.category)}）：{ticket.state_name}",
             f"办理：{owner}　预计办结：{local(ticket.resolve_by, tz)}"]
    if ticket.close_reason:
        lines.append(f"销号：{CLOSE_REASON_NAMES.get(ticket.close_reason, ticket.close_reason)}")
    lines.append("进展：")
    for event in ticket.events:
        if event.action not in PARENT_ACTIONS:
            continue
        name = ACTION_NAMES[event.action]
        text = f"：{event.text}" if event.text and event.action in ("replied", "resolved", "appended") else ""
        lines.append(f"  {local(event.at, tz)} {name}{text}")
    return "\n".join(lines)
