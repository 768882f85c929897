"""Ticket chat commands for parents (我的反馈, 进度) and teachers (工单, 接单, 回复, 办结 …).

Leaders' commands are in ``handlers.leader_commands``; every ticket command
works in private chats only, so ticket details never appear in a group.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from bot.message import InboundMessage, Reply
from handlers import classifier
from handlers.commands import command
from handlers.context import HEAD_TEACHER, LEADER, PARENT, TEACHER, Context
from handlers.exceptions import Forbidden, HandlerError, UsageError
from handlers.replies import notice_replies
from handlers.ticket_views import list_line, parent_progress, staff_detail
from models import labels, media_access, routing, ticket_access, ticket_notify, ticket_service
from models.tickets import Ticket, TicketError, find_ticket

STAFF = frozenset({TEACHER, HEAD_TEACHER, LEADER})
NOT_FOUND = "没有找到工单 {n}，或您无权查看。请核对编号（如 2026-0001）。"


def ledger(func: Callable[..., list[Reply]]) -> Callable[..., list[Reply]]:
    """Show a ledger refusal (TicketError) to the person as a polite Chinese answer."""

    @functools.wraps(func)
    def wrapper(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
        try:
            return func(args, msg, ctx)
        except TicketError as exc:
            raise HandlerError(exc.message) from exc

    return wrapper


def staff_ticket(ctx: Context, number: str, act: bool = True) -> Ticket:
    """Return the ticket a staff member names, if they may see (and with ``act``, handle) it."""
    staff = ctx.actor.staff
    assert staff is not None
    ticket = find_ticket(ctx.session, staff.school_id, number)
    if ticket is None or not ticket_access.can_view(staff, ticket):
        raise Forbidden(NOT_FOUND.format(n=number))
    if act and not ticket_access.can_act(staff, ticket):
        raise Forbidden(f"工单 {ticket.number} 不由您办理，不能操作。")
    return ticket


def tz(ctx: Context) -> str:
    """Return the schools' time zone."""
    return ctx.settings.app.timezone


# --- parents -----------------------------------------------------------------------------------


# --- teachers ----------------------------------------------------------------------------------


@command("我的反馈", roles=frozenset({PARENT}), private=True)
def my_tickets(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """List the parent's own tickets and their states."""
    ids = [gs.id for gs in ctx.actor.guardianships]
    tickets = ticket_access.tickets_for_parent(ctx.session, ctx.actor.identity.id, ids)
    if not tickets:
        return [Reply("您还没有反馈记录。有问题可以直接留言，我会转给负责老师。")]
    lines = ["您的反馈："] + [
        f"· {t.number} {labels.category_name(t.category)}｜{t.state_name}" for t in tickets
    ]
    lines.append("发送「进度 编号」查看详情。")
    return [Reply("\n".join(lines))]


@command("进度", roles=frozenset({PARENT}), args=1, private=True)
def progress(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Show a parent the progress of one of their own tickets."""
    school_id = ctx.actor.identity.school_id
    ticket = find_ticket(ctx.session, school_id, args[0])
    ids = [gs.id for gs in ctx.actor.guardianships]
    if ticket is None or not ticket_access.parent_can_view(ctx.actor.identity.id, ids, ticket):
        raise Forbidden(f"没有找到您的反馈 {args[0]}。发送「我的反馈」查看您的全部反馈。")
    return [Reply(parent_progress(ticket, tz(ctx)))]


@command("工单", roles=STAFF, private=True, aliases=("我的工单", "待办", "我的待办"))
def my_work(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """List the teacher's tickets: open first, overdue marked."""
    staff = ctx.actor.staff
    assert staff is not None
    tickets = ticket_access.tickets_for_staff(ctx.session, staff)
    if not tickets:
        return [Reply("您目前没有工单。")]
    lines = [f"您的工单（{len(tickets)}）："] + [list_line(t, ctx.now, tz(ctx)) for t in tickets]
    lines.append("发送「查看 编号」看详情，「接单 编号」开始办理。")
    return [Reply("\n".join(lines))]


@command("查看", roles=STAFF, args=1, private=True)
def view(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Show a ticket's details and history, with a link of the viewer's own to each picture or file."""
    ticket = staff_ticket(ctx, args[0], act=False)
    text = staff_detail(ticket, ctx.now, tz(ctx))
    staff = ctx.actor.staff
    attachments = media_access.ticket_links(ctx.session, ctx.settings, ticket, staff, ctx.now) if staff else []
    if attachments:
        text += f"\n附件（{len(attachments)}，链接仅限您本人、限时有效）："
        text += "".join(f"\n  {i}. {row.label}：{url}" for i, (row, url) in enumerate(attachments, 1))
    return [Reply(text)]


@command("接单", roles=STAFF, args=1, private=True)
@ledger
def accept(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """接单: start work; the parent hears who took it."""
    ticket, staff = staff_ticket(ctx, args[0]), ctx.actor.staff
    ticket_service.accept(ctx.session, ticket, staff, ctx.now)
    told = ticket_notify.to_parent(ctx.session, ticket, f"您反映的问题（编号 {ticket.number}）已由"
                                   f"{ticket_notify.signature(staff)}受理，正在处理。")
    return [Reply(f"已接单 {ticket.number}，办结时限 {ticket_notify.local(ticket.resolve_by, tz(ctx))}。"
                  f"处理后发送「办结 {ticket.number} 处理结果」。")] + notice_replies(told)


@command("回复", roles=STAFF, args=2, rest=True, private=True)
@ledger
def reply(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """回复: relay a message to the parent privately, signed with the teacher's role."""
    ticket, staff = staff_ticket(ctx, args[0]), ctx.actor.staff
    text = args[1]
    ticket_service.reply(ctx.session, ticket, staff, text, ctx.now)
    told = ticket_notify.to_parent(ctx.session, ticket, f"【编号 {ticket.number} 回复】{text}\n"
                                   f"—— {ticket_notify.signature(staff)}")
    if not told:
        return [Reply(f"已记录回复，但家长暂时无法接收私信（{ticket.number}）。请电话联系。")]
    return [Reply(f"已转达给家长（{ticket.number}）。")] + notice_replies(told)


@command("转办", roles=STAFF, args=3, rest=True, private=True)
@ledger
def transfer(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """转办: hand the ticket to a colleague with a reason."""
    ticket, staff = staff_ticket(ctx, args[0]), ctx.actor.staff
    target = routing.staff_by_name(ctx.session, staff.school_id, args[1])
    if target is None:
        raise UsageError(transfer, f"本校没有「{args[1]}」这位老师。")
    ticket_service.transfer(ctx.session, ticket, staff, target, args[2], ctx.now)
    text = ticket_notify.assignee_text(ticket, tz(ctx), intro=f"转办工单·{staff.name}转来：{args[2]}")
    return [Reply(f"已将 {ticket.number} 转给{target.name}。")] + \
        notice_replies(ticket_notify.to_staff(ctx.session, target, text, ticket))


@command("办结", roles=STAFF, args=2, rest=True, private=True)
@ledger
def resolve(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """办结: record the result; the parent is asked 满意/基本满意/不满意 (回访)."""
    ticket, staff = staff_ticket(ctx, args[0]), ctx.actor.staff
    ticket_service.resolve(ctx.session, ticket, staff, args[1], ctx.now)
    delay = ctx.settings.scheduler.callback_delay_minutes
    mine = f"已办结 {ticket.number}，将向家长回访。" if delay <= 0 else \
        f"已办结 {ticket.number}，{delay} 分钟后向家长回访（此前学校领导可驳回）。"
    return [Reply(mine)] + notice_replies(resolution_notices(ctx, ticket))


def resolution_notices(ctx: Context, ticket: Ticket) -> list[ticket_notify.Notice]:
    """Ask the 回访 now when no delay is configured; otherwise say nothing yet.

    The delay (``scheduler.callback_delay_minutes``) is the leaders' window to
    驳回 a resolution: the parent hears of it only when the 回访 question — which
    carries the result — goes out, so 「已办结」 is never taken back.
    """
    sched = ctx.settings.scheduler
    if sched.callback_delay_minutes <= 0:
        ttl = dt.timedelta(days=sched.callback_window_days)
        return ticket_notify.ask_callback(ctx.session, ticket, ctx.now, ttl=ttl, enqueue=False)
    return []


@command("改类", roles=STAFF, args=2, private=True)
@ledger
def recategorize(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """改类: correct the category (kept as a classifier correction)."""
    ticket = staff_ticket(ctx, args[0])
    code = classifier.parse_category(args[1])
    if code is None:
        names = "、".join(labels.category_name(c) for c in classifier.CATEGORIES)
        raise UsageError(recategorize, f"没有「{args[1]}」这个类别。可选：{names}")
    ticket_service.recategorize(ctx.session, ticket, ctx.actor.staff, code, ctx.now)
    return [Reply(f"已将 {ticket.number} 改为「{labels.category_name(code)}」，谢谢您帮助系统学习。")]


@command("退回", roles=STAFF, args=2, rest=True, private=True)
@ledger
def give_back(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """退回: not mine — back to a leader for re-routing."""
    ticket, staff = staff_ticket(ctx, args[0]), ctx.actor.staff
    leader = ticket_service.return_to_director(ctx.session, ticket, staff, args[1], staff.school, ctx.now)
    text = (f"【退回】{ticket_notify.headline(ticket)} 由{staff.name}退回：{args[1]}\n"
            f"发送「查看 {ticket.number}」看详情，「指派 {ticket.number} 姓名」重新分派。")
    return [Reply(f"已将 {ticket.number} 退回{leader.name}重新分派。")] + \
        notice_replies(ticket_notify.to_staff(ctx.session, leader, text, ticket))


@command("延期", roles=STAFF, args=3, rest=True, private=True)
@ledger
def extension(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """延期: ask the leaders for more working days (the deadline moves only when approved)."""
    ticket, staff = staff_ticket(ctx, args[0]), ctx.actor.staff
    if not args[1].isdigit():
        raise UsageError(extension, "天数应为数字（工作日）。")
    ticket_service.request_extension(ctx.session, ticket, staff, int(args[1]), args[2], ctx.now)
    text = (f"【延期申请】{ticket_notify.headline(ticket)} {staff.name}申请延期 {args[1]} 个工作日：{args[2]}\n"
            f"当前时限 {ticket_notify.local(ticket.resolve_by, tz(ctx))}。"
            f"回复「批准延期 {ticket.number}」或「驳回延期 {ticket.number}」。")
    skip = {staff.id, ticket.about_staff_id} - {None}
    notices = []
    for leader in routing.staff_with_roles(ctx.session, staff.school_id, ["director", "principal"]):
        if leader.id not in skip:
            notices += ticket_notify.to_staff(ctx.session, leader, text, ticket)
    return [Reply(f"已提交 {ticket.number} 的延期申请，批准前时限不变。")] + notice_replies(notices)
