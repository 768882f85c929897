"""网格 referral by chat: ``转属地 编号 网格 原因``, ``属地反馈 编号 结果``, ``转办单 编号``, ``网格员``.

The school keeps the ticket: the grid contact gets the case (privately when
on the platform, otherwise as a printable 属地转办单), the parent is told, and
属地反馈 resolves the ticket so the usual 回访 and 销号 follow.
"""

from __future__ import annotations

from bot.message import InboundMessage, Reply
from handlers.commands import command
from handlers.context import EVERYONE, HEAD_TEACHER, LEADER, TEACHER, Context
from handlers.exceptions import Forbidden, HandlerError, UsageError
from handlers.replies import notice_replies
from handlers.ticket_commands import ledger, resolution_notices, staff_ticket
from models import exports, grid, grid_notify, people, ticket_notify
from models.tickets import Ticket

LEADERS = frozenset({LEADER})
STAFF = frozenset({TEACHER, HEAD_TEACHER, LEADER})
NO_CONTACTS = ("本校尚未登记网格员：请在花名册「教职工」表中添加角色为「网格员」的联系人（职责栏填社区/街道），"
               "或由管理员写入 config/grid.yaml。")


def _sheet_link(ctx: Context, ticket: Ticket) -> str:
    staff = ctx.actor.staff
    assert staff is not None
    _, url = exports.create_download(ctx.session, staff, "referral", ctx.settings, ctx.now, ticket_id=ticket.id)
    return url


@command("转属地", roles=LEADERS, args=(2, 3), rest=True, private=True)
@ledger
def refer_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Hand a ticket to a grid contact."""
    staff = ctx.actor.staff
    assert staff is not None
    ticket = staff_ticket(ctx, args[0], act=False)
    known = grid.contacts(ctx.session, staff.school)
    if not known:
        raise HandlerError(NO_CONTACTS)
    contact = grid.find_contact(ctx.session, staff.school, args[1])
    if contact is None:
        names = "、".join(c.label for c in known)
        raise UsageError(refer_command, f"没有找到网格「{args[1]}」。本校网格员：{names}。")
    reason = args[2] if len(args) > 2 else ""
    referral = grid.refer(ctx.session, ticket, contact, reason, staff, ctx.now)
    tz = ctx.settings.app.timezone
    lines = [f"工单 {ticket.number} 已转属地：{contact.label}。家长已收到告知；学校仍负责回访和销号。"]
    if referral.delivery == "private":
        lines.append("网格员已在平台上收到转办内容。")
    else:
        minutes = ctx.settings.exports.link_ttl_minutes
        lines.append(f"网格员不在平台上，请打印属地转办单交给网格员（{minutes} 分钟内有效，仅限本人）：\n"
                     f"{_sheet_link(ctx, ticket)}")
        if contact.phone:
            lines.append(f"网格员电话：{contact.phone}")
    lines.append(f"属地办理后请登记：属地反馈 {ticket.number} 结果")
    return [Reply("\n".join(lines), private=True)] + notice_replies(
        grid_notify.referral_notices(ctx.session, ticket, referral, staff, tz))


@command("属地反馈", roles=STAFF, args=2, rest=True, private=True)
@ledger
def feedback_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Record what the grid reported; the ticket is resolved and the parent asked (回访)."""
    staff = ctx.actor.staff
    assert staff is not None
    ticket = staff_ticket(ctx, args[0], act=False)
    if not staff.is_leader and ticket.assignee_id != staff.id:
        raise Forbidden(f"工单 {ticket.number} 不由您办理；属地反馈由承办人或学校领导登记。")
    referral = grid.record_feedback(ctx.session, ticket, args[1], staff, ctx.now)
    notices = resolution_notices(ctx, ticket)
    if ticket.assignee_id != staff.id:
        notices += grid_notify.feedback_notices(ctx.session, ticket, referral)
    return [Reply(f"已登记属地反馈，工单 {ticket.number} 按办结处理，将向家长回访；家长满意后销号。",
                  private=True)] + notice_replies(notices)


@command("转办单", roles=STAFF, args=1, private=True)
@ledger
def sheet_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Give a download link to the printable 属地转办单 of a referred ticket."""
    ticket = staff_ticket(ctx, args[0], act=False)
    if grid.referral_of(ctx.session, ticket.id) is None:
        raise HandlerError(f"工单 {ticket.number} 没有转属地。")
    return [Reply(f"属地转办单（{ctx.settings.exports.link_ttl_minutes} 分钟内有效，仅限本人）：\n"
                  f"{_sheet_link(ctx, ticket)}", private=True)]


@command("网格员", roles=LEADERS, private=True)
def contacts_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """List the school's grid contacts."""
    staff = ctx.actor.staff
    assert staff is not None
    known = grid.contacts(ctx.session, staff.school)
    if not known:
        return [Reply(NO_CONTACTS, private=True)]
    lines = ["本校网格员："]
    lines += [f"· {c.label}｜{c.phone or '无电话'}｜{'平台可达' if c.recipient else '打印转办单'}" for c in known]
    lines.append(f"待属地反馈的工单：{grid.open_referrals(ctx.session, staff.school_id)} 件")
    return [Reply("\n".join(lines), private=True)]


@command("绑定网格员", roles=EVERYONE, args=2, private=True)
def bind_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """A grid contact on the platform registers their address, to receive referred cases privately."""
    identity, cfg = ctx.actor.identity, ctx.settings.binding
    if identity.locked_until is not None and identity.locked_until > ctx.now:
        return [Reply("尝试次数过多，请稍后再试，或联系学校登记。", private=True)]
    school = people.school_of(ctx.session, identity.school_id)
    contact = grid.bind_contact(ctx.session, school, identity.platform, identity.external_id, args[0], args[1])
    if contact is None:
        outcome = people.record_failure(identity, ctx.now, cfg.max_failures, cfg.lock_minutes)
        left = f"（还可尝试 {outcome.remaining} 次）" if outcome.status == "mismatch" else ""
        return [Reply(f"没有找到这位网格员，或手机号后四位不符{left}。网格员由学校在花名册中登记。", private=True)]
    identity.failed_attempts = 0
    return [Reply(f"{contact.name}（{contact.area}），已登记为{school.name}的网格联系人。学校转来的校外事项会私信发给您；"
                  "办理后请告知学校，由学校登记属地反馈并回访家长。", private=True)]


def auto_refer(ctx: Context, ticket: Ticket) -> list[ticket_notify.Notice]:
    """Refer a new parent ticket at once when the routing rule says its matter lies outside the school."""
    if not grid.matches_outside_rule(ticket.text, ticket.category):
        return []
    known = grid.contacts(ctx.session, ticket.school)
    if not known:
        return []
    contact = next((c for c in known if c.area and c.area in ticket.text), known[0])
    referral = grid.refer(ctx.session, ticket, contact, "校外事项（按转属地规则自动转办）", None, ctx.now)
    return grid_notify.referral_notices(ctx.session, ticket, referral, None, ctx.settings.app.timezone)
