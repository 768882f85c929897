"""How tickets read on a phone: list lines, the staff detail view, the parent's progress view."""

from __future__ import annotations

import datetime as dt

from models.labels import (
    category_name,
    close_reason_name,
    event_name,
    kind_name,
    satisfaction_name,
    state_name,
)
from models.ticket_notify import headline, local, signature, who
from models.tickets import Ticket

# What a parent sees of the history: never internal steps (transfers, 督办, reasons of a 驳回).
PARENT_ACTIONS = frozenset({"created", "appended", "accepted", "replied", "referred", "resolved", "reopened", "closed"})
SENT_BACK = "学校复核：退回继续办理"


def list_line(ticket: Ticket, now: dt.datetime, tz: str) -> str:
    """Return one line of a ticket list, overdue marked."""
    flag = " ⚠超期" if ticket.is_overdue(now) else ""
    owner = f"｜{ticket.assignee.name}" if ticket.assignee else ""
    return (f"· {headline(ticket)}｜{ticket.state_name}｜{who(ticket)}{owner}"
            f"｜时限 {local(ticket.resolve_by, tz)}{flag}")


def event_line(event, tz: str) -> str:
    """Return one line of a ticket's history."""
    actor = event.actor_staff.name if event.actor_staff is not None else ("家长" if event.actor_identity_id else "系统")
    name = event_name(event.action)
    extra = ""
    if event.action in ("assigned", "transferred") and event.data:
        extra = f" → {event.data.get('assignee', '')}"
    elif event.action == "returned" and event.data:
        extra = f" → {event.data.get('to', '')}"
    elif event.action == "recategorized" and event.data:
        extra = f" {category_name(event.data['from'])} → {category_name(event.data['to'])}"
    elif event.action == "kind_raised" and event.data:
        extra = f" {kind_name(event.data['from'])} → {kind_name(event.data['to'])}"
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
    referred = next((e for e in reversed(ticket.events) if e.action == "referred"), None)
    if referred is not None:
        waiting = not any(e.action == "grid_feedback" and e.id > referred.id for e in ticket.events)
        lines.append(f"已转属地：{local(referred.at, tz)}（{(referred.data or {}).get('contact', '')}）"
                     + ("，待属地反馈" if waiting else "，属地已反馈"))
    if ticket.extension_days:
        lines.append(f"待审批延期：{ticket.extension_days} 个工作日")
    if ticket.resolution:
        lines.append(f"处理结果：{ticket.resolution}")
    if ticket.satisfaction:
        lines.append(f"回访：{satisfaction_name(ticket.satisfaction)}")
    lines.append("处理记录：")
    lines += [f"  {event_line(e, tz)}" for e in ticket.events]
    return "\n".join(lines)


def parent_progress(ticket: Ticket, tz: str) -> str:
    """Return what a parent sees of their own ticket: state, owner's role, deadline, replies."""
    owner = signature(ticket.assignee) if ticket.assignee else "学校"
    shown = _told_parent(ticket.events)
    # A resolution leaders may still send back is not news for the parent yet.
    state = state_name("in_progress") if ticket.state == "resolved" and ticket.callback_asked_at is None \
        else ticket.state_name
    lines = [f"编号 {ticket.number}（{category_name(ticket.category)}）：{state}",
             f"办理：{owner}　预计办结：{local(ticket.resolve_by, tz)}"]
    if ticket.close_reason:
        lines.append(f"销号：{close_reason_name(ticket.close_reason)}")
    lines.append("进展：")
    for event in ticket.events:
        if event.action == "resolution_rejected" and event.id in shown:
            lines.append(f"  {local(event.at, tz)} {SENT_BACK}")
        if event.action not in PARENT_ACTIONS or (event.action == "resolved" and event.id not in shown):
            continue
        name = event_name(event.action)
        text = f"：{event.text}" if event.text and event.action in ("replied", "resolved", "appended") else ""
        if event.action == "referred":
            text = f"：{(event.data or {}).get('contact', '属地')}办理，学校跟进回访"
        lines.append(f"  {local(event.at, tz)} {name}{text}")
    return "\n".join(lines)


def _told_parent(events: list) -> set[int]:
    """Return the ids of the 办结 the parent was asked about (回访) and of the 驳回 that took one back.

    A resolution sent back before the 回访 question went out was never news for
    the parent, so neither it nor its 驳回 appears in their view.
    """
    told: set[int] = set()
    pending = None
    for event in events:
        if event.action == "resolved":
            pending = event
        elif event.action == "callback_asked" and pending is not None:
            told.add(pending.id)
        elif event.action == "resolution_rejected" and pending is not None:
            if pending.id in told:
                told.add(event.id)
            pending = None
    return told
