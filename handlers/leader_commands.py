"""Directors' and principals' ticket commands: 全部工单, 超期, 督办, 指派, 延期审批, 驳回."""

from __future__ import annotations

from bot.message import InboundMessage, Reply
from handlers.commands import command
from handlers.context import LEADER, Context
from handlers.exceptions import UsageError
from handlers.replies import notice_replies
from handlers.ticket_commands import ledger, staff_ticket, tz
from handlers.ticket_views import list_line
from models import leader_actions, routing, ticket_access, ticket_notify

LEADERS = frozenset({LEADER})


@command("全部工单", roles=LEADERS, private=True)
def all_tickets(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """List the school's tickets, open first."""
    tickets = ticket_access.tickets_for_school(ctx.session, ctx.actor.staff)
    if not tickets:
        return [Reply("本校目前没有工单。")]
    open_count = sum(1 for t in tickets if t.is_open)
    lines = [f"全校工单（未办结 {open_count}）："] + [list_line(t, ctx.now, tz(ctx)) for t in tickets]
    return [Reply("\n".join(lines))]


@command("超期", roles=LEADERS, private=True, aliases=("超期工单",))
def overdue(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """List the open tickets past their deadline."""
    staff = ctx.actor.staff
    tickets = [t for t in ticket_access.overdue_tickets(ctx.session, staff.school_id, ctx.now)
               if ticket_access.can_view(staff, t)]
    if not tickets:
        return [Reply("没有超期工单。")]
    lines = [f"超期工单（{len(tickets)}）："] + [list_line(t, ctx.now, tz(ctx)) for t in tickets]
    lines.append("发送「督办 编号」催办。")
    return [Reply("\n".join(lines))]


@command("督办", roles=LEADERS, args=(1, 2), rest=True, private=True)
@ledger
def supervise(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """督办: remind the assignee, recorded in the history."""
    ticket, leader = staff_ticket(ctx, args[0]), ctx.actor.staff
    notices = leader_actions.supervise(ctx.session, ticket, leader, ctx.now, tz(ctx), args[1] if len(args) > 1 else None)
    return [Reply(f"已督办 {ticket.number}（{ticket.assignee.name if ticket.assignee else '未分派'}）。")] + \
        notice_replies(notices)


@command("指派", roles=LEADERS, args=(2, 3), rest=True, private=True)
@ledger
def assign(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """指派: give a ticket to a named staff member."""
    ticket, leader = staff_ticket(ctx, args[0]), ctx.actor.staff
    target = routing.staff_by_name(ctx.session, leader.school_id, args[1])
    if target is None:
        raise UsageError(assign, f"本校没有「{args[1]}」这位老师。")
    notices = leader_actions.assign(ctx.session, ticket, leader, target, ctx.now, tz(ctx),
                                    args[2] if len(args) > 2 else None)
    return [Reply(f"已将 {ticket.number} 指派给{target.name}。")] + notice_replies(notices)


def _decide(args: list[str], ctx: Context, approve: bool) -> list[Reply]:
    ticket, leader = staff_ticket(ctx, args[0]), ctx.actor.staff
    notices = leader_actions.decide_extension(ctx.session, ticket, leader, approve, ctx.now, tz(ctx),
                                              args[1] if len(args) > 1 else None)
    when = ticket_notify.local(ticket.resolve_by, tz(ctx))
    mine = f"已批准，新时限 {when}。" if approve else f"已驳回延期，时限仍为 {when}。"
    return [Reply(f"{ticket.number} {mine}")] + notice_replies(notices)


@command("批准延期", roles=LEADERS, args=(1, 2), rest=True, private=True)
@ledger
def approve_extension(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """批准延期: move the deadline by the days asked."""
    return _decide(args, ctx, True)


@command("驳回延期", roles=LEADERS, args=(1, 2), rest=True, private=True)
@ledger
def deny_extension(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """驳回延期: keep the deadline."""
    return _decide(args, ctx, False)


@command("驳回", roles=LEADERS, args=2, rest=True, private=True)
@ledger
def reject(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """驳回: 整改不到位不予销号 — send a resolution back to the assignee."""
    ticket, leader = staff_ticket(ctx, args[0]), ctx.actor.staff
    notices = leader_actions.reject(ctx.session, ticket, leader, args[1], ctx.now)
    return [Reply(f"已驳回 {ticket.number}，退回{ticket.assignee.name if ticket.assignee else ''}继续办理。")] + \
        notice_replies(notices)
