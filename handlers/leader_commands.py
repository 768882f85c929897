"""Directors' and principals' ticket commands: 全部工单, 超期, 督办, 指派, 延期审批, 驳回."""

from __future__ import annotations

from bot.message import InboundMessage, Reply
from handlers.commands import Command
from handlers.context import LEADER, Context
from handlers.exceptions import UsageError
from handlers.registry import Registry
from handlers.ticket_commands import ledger, staff_ticket, tz
from handlers.ticket_views import list_line
from handlers.tickets import notice_replies
from models import conversation, routing, ticket_access, ticket_notify, ticket_service
from models.ticket_notify import CALLBACK

LEADERS = frozenset({LEADER})


def all_tickets(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """List the school's tickets, open first."""
    tickets = ticket_access.tickets_for_school(ctx.session, ctx.actor.staff)
    if not tickets:
        return [Reply("本校目前没有工单。")]
    open_count = sum(1 for t in tickets if t.is_open)
    lines = [f"全校工单（未办结 {open_count}）："] + [list_line(t, ctx.now, tz(ctx)) for t in tickets]
    return [Reply("\n".join(lines))]


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


@ledger
def supervise(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """督办: remind the assignee, recorded in the history."""
    ticket, leader = staff_ticket(ctx, args[0]), ctx.actor.staff
    note = args[1] if len(args) > 1 else None
    ticket_service.supervise(ctx.session, ticket, leader, ctx.now, note)
    text = (f"【督办】{leader.name}{leader.role_name}督办 {ticket_notify.headline(ticket)}"
            f"{'：' + note if note else ''}\n办结时限 {ticket_notify.local(ticket.resolve_by, tz(ctx))}，请尽快办理。")
    notices = ticket_notify.to_staff(ctx.session, ticket.assignee, text, ticket) \
        if ticket.assignee_id != leader.id else []
    return [Reply(f"已督办 {ticket.number}（{ticket.assignee.name if ticket.assignee else '未分派'}）。")] + \
        notice_replies(notices)


@ledger
def assign(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """指派: give a ticket to a named staff member."""
    ticket, leader = staff_ticket(ctx, args[0]), ctx.actor.staff
    target = routing.staff_by_name(ctx.session, leader.school_id, args[1])
    if target is None:
        raise UsageError(_ASSIGN, f"本校没有「{args[1]}」这位老师。")
    ticket_service.assign(ctx.session, ticket, target, ctx.now, by=leader, reason=args[2] if len(args) > 2 else None)
    text = ticket_notify.assignee_text(ticket, tz(ctx), intro=f"{leader.name}指派")
    return [Reply(f"已将 {ticket.number} 指派给{target.name}。")] + \
        notice_replies(ticket_notify.to_staff(ctx.session, target, text, ticket))


def _decide(args: list[str], ctx: Context, approve: bool) -> list[Reply]:
    ticket, leader = staff_ticket(ctx, args[0]), ctx.actor.staff
    days = ticket.extension_days
    ticket_service.decide_extension(ctx.session, ticket, leader, approve, ctx.now, school_code=leader.school.code,
                                    tz=tz(ctx), reason=args[1] if len(args) > 1 else None)
    when = ticket_notify.local(ticket.resolve_by, tz(ctx))
    if approve:
        text, mine = f"【延期已批准】{ticket.number} 延期 {days} 个工作日，新时限 {when}。", f"已批准，新时限 {when}。"
    else:
        text, mine = f"【延期未批准】{ticket.number} 请按原时限 {when} 办结。", f"已驳回延期，时限仍为 {when}。"
    return [Reply(f"{ticket.number} {mine}")] + notice_replies(
        ticket_notify.to_staff(ctx.session, ticket.assignee, text, ticket))


@ledger
def approve_extension(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """批准延期: move the deadline by the days asked."""
    return _decide(args, ctx, True)


@ledger
def deny_extension(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """驳回延期: keep the deadline."""
    return _decide(args, ctx, False)


@ledger
def reject(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """驳回: 整改不到位不予销号 — send a resolution back to the assignee."""
    ticket, leader = staff_ticket(ctx, args[0]), ctx.actor.staff
    asked = ticket.callback_asked_at is not None
    ticket_service.reject_resolution(ctx.session, ticket, leader, args[1], ctx.now)
    notices = ticket_notify.to_staff(
        ctx.session, ticket.assignee,
        f"【驳回】{ticket_notify.headline(ticket)} 整改不到位不予销号：{args[1]}\n"
        f"请继续办理后重新发送「办结 {ticket.number} 处理结果」。", ticket)
    if asked and ticket.identity_id is not None:
        question = conversation.pending(ctx.session, ticket.identity_id, CALLBACK, ctx.now)
        if question is not None and question.payload.get("ticket_id") == ticket.id:
            conversation.answered(ctx.session, ticket.identity_id, CALLBACK)
        notices += ticket_notify.to_parent(ctx.session, ticket, f"您反映的问题（编号 {ticket.number}）的处理结果经学校复核，"
                                           "已退回继续办理，本次暂不需要评价；处理完成后会再请您评价。")
    return [Reply(f"已驳回 {ticket.number}，退回{ticket.assignee.name if ticket.assignee else ''}继续办理。")] + \
        notice_replies(notices)


_ASSIGN = Command("指派", assign, roles=LEADERS, min_args=2, max_args=3, rest=True, private_only=True)


def register(registry: Registry) -> None:
    """Add the leaders' ticket commands."""
    for command in (
        Command("全部工单", all_tickets, roles=LEADERS, private_only=True),
        Command("超期", overdue, roles=LEADERS, private_only=True, aliases=("超期工单",)),
        Command("督办", supervise, roles=LEADERS, min_args=1, max_args=2, rest=True, private_only=True),
        _ASSIGN,
        Command("批准延期", approve_extension, roles=LEADERS, min_args=1, max_args=2, rest=True, private_only=True),
        Command("驳回延期", deny_extension, roles=LEADERS, min_args=1, max_args=2, rest=True, private_only=True),
        Command("驳回", reject, roles=LEADERS, min_args=2, max_args=2, rest=True, private_only=True),
    ):
        registry.add_command(command)
