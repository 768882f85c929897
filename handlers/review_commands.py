"""Staff commands that teach the classifier: 确认紧急 / 非紧急 (safety review) and 改为 (kind correction).

Each answer is stored as a labelled correction (models/review.py, models/ticket_service.py) that
``flask --app app classifier train --with-corrections`` folds into the learned weights.
"""

from __future__ import annotations

from bot.message import InboundMessage, Reply
from handlers.commands import command
from handlers.context import HEAD_TEACHER, LEADER, TEACHER, Context
from handlers.exceptions import Forbidden, HandlerError, UsageError
from handlers.replies import notice_replies
from models import labels, review, ticket_access, ticket_service
from models.tickets import Ticket, TicketError, find_ticket

STAFF = frozenset({TEACHER, HEAD_TEACHER, LEADER})
NOT_FOUND = "没有找到工单 {n}，或您无权查看。请核对编号（如 2026-0001）。"
# 改为 accepts these kind names (labels.yaml) and a few everyday words.
_KIND_WORDS = {"投诉": "complaint", "求助": "help", "建议": "suggestion", "咨询": "inquiry", "表扬": "praise",
               "无需处理": "none", "不用处理": "none", "闲聊": "none", "提问": "inquiry", "反映": "complaint"}


def _reviewable(ctx: Context, number: str) -> Ticket:
    """Return a flagged ticket the staff member may answer: a reviewer it was sent to, or who may act on it."""
    staff = ctx.actor.staff
    assert staff is not None
    ticket = find_ticket(ctx.session, staff.school_id, number)
    if ticket is None or staff.id == ticket.about_staff_id:
        raise Forbidden(NOT_FOUND.format(n=number))
    if not (ticket_access.can_view(staff, ticket) or staff in review.reviewers(ctx.session, ticket)):
        raise Forbidden(NOT_FOUND.format(n=number))
    return ticket


@command("确认紧急", roles=STAFF, args=1, private=True)
def confirm(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """确认紧急: the flagged ticket is urgent."""
    ticket = _reviewable(ctx, args[0])
    try:
        notices = review.confirm_urgent(ctx.session, ticket, ctx.actor.staff, now=ctx.now,
                                        tz=ctx.settings.app.timezone, enqueue=False)
    except review.ReviewError as exc:
        raise HandlerError(str(exc)) from exc
    return [Reply(f"已确认 {ticket.number} 为紧急事项，已按紧急时限处理并提醒学校负责人。谢谢您及时查看。",
                  urgent=True)] + notice_replies(notices)


@command("非紧急", roles=STAFF, args=1, private=True, aliases=("不紧急",))
def dismiss(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """非紧急: the flag was a false alarm."""
    ticket = _reviewable(ctx, args[0])
    try:
        review.dismiss_review(ctx.session, ticket, ctx.actor.staff, now=ctx.now)
    except review.ReviewError as exc:
        raise HandlerError(str(exc)) from exc
    return [Reply(f"已记录 {ticket.number} 非紧急，按一般事项办理。谢谢您帮助系统学习。")]


@command("改为", roles=STAFF, args=2, private=True)
def change_kind(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """改为: correct the kind of a ticket (kept as a classifier correction)."""
    staff = ctx.actor.staff
    assert staff is not None
    ticket = find_ticket(ctx.session, staff.school_id, args[0])
    if ticket is None or not ticket_access.can_view(staff, ticket):
        raise Forbidden(NOT_FOUND.format(n=args[0]))
    kind = _KIND_WORDS.get(args[1].strip("。.!！ "))
    if kind is None:
        raise UsageError(change_kind, f"没有「{args[1]}」这种诉求。可选：投诉、求助、建议、咨询、表扬、无需处理")
    try:
        ticket_service.change_kind(ctx.session, ticket, staff, kind, ctx.now)
    except TicketError as exc:
        raise HandlerError(exc.message) from exc
    return [Reply(f"已将 {ticket.number} 改为「{labels.kind_name(kind)}」，谢谢您帮助系统学习。")]
