"""Answers to the ticket questions (group 10): 回访 满意/基本满意/不满意, which child, 没解决."""

from __future__ import annotations

import re
import unicodedata

from bot.message import InboundMessage, Reply
from handlers.context import Context
from handlers.registry import Registry
from models import conversation, faq, routing, ticket_notify, ticket_service
from models.ticket_notify import CALLBACK
from models.tickets import SATISFACTION_NAMES, Ticket, TicketError

CHILD_QUESTION = "ticket_child"
FAQ_FOLLOWUP = "faq"
SATISFACTION = {"满意": "satisfied", "1": "satisfied", "基本满意": "basic", "2": "basic",
                "不满意": "unsatisfied", "3": "unsatisfied", "非常满意": "satisfied", "很满意": "satisfied"}
NOT_HELPED = frozenset({"没解决", "没有解决", "未解决", "不能解决", "没用", "不行", "还是不清楚"})
_STRIP = re.compile(r"[\s。.!！~～,，、]+")


def _clean(text: str) -> str:
    return _STRIP.sub("", unicodedata.normalize("NFKC", text or ""))


def _child_choice(text: str, options: list[str]) -> int | None:
    """Return the chosen option index from ``1`` or a child's name."""
    text = text.removeprefix("回复")
    if text.isdigit() and 1 <= int(text) <= len(options):
        return int(text) - 1
    hits = [i for i, name in enumerate(options) if name and name in text]
    return hits[0] if len(hits) == 1 else None


class TicketAnswerHandler:
    """Takes a parent's short answer to the ticket question they were last asked."""

    def _match(self, msg: InboundMessage, ctx: Context) -> tuple[str, object] | None:
        if msg.msgtype != "text":
            return None
        text = _clean(msg.text)
        if not text or len(text) > 12:
            return None
        ident, now, session = ctx.actor.identity.id, ctx.now, ctx.session
        latest = conversation.latest_pending(session, ident, now)
        # Digits belong to the most recent question; words are unambiguous.
        if latest is not None and latest.kind == CHILD_QUESTION:
            names = [_student_name(ctx, gid) for gid in latest.payload.get("options", [])]
            choice = _child_choice(text, names)
            if choice is not None:
                return CHILD_QUESTION, (latest, choice)
        if text in SATISFACTION and (text.isdigit() is False or (latest is not None and latest.kind == CALLBACK)):
            question = conversation.pending(session, ident, CALLBACK, now)
            if question is not None:
                return CALLBACK, (question, SATISFACTION[text])
        if text in NOT_HELPED:
            question = conversation.pending(session, ident, FAQ_FOLLOWUP, now)
            if question is not None:
                return FAQ_FOLLOWUP, question
        return None

    def check(self, msg: InboundMessage, ctx: Context) -> bool:
        """Take the message when it answers one of this person's open ticket questions."""
        return self._match(msg, ctx) is not None

    def handle(self, msg: InboundMessage, ctx: Context) -> list[Reply]:
        """Record the answer and carry on."""
        kind, data = self._match(msg, ctx)  # type: ignore[misc]
        if kind == CHILD_QUESTION:
            return _answer_child(msg, ctx, *data)  # type: ignore[misc]
        if kind == CALLBACK:
            return _answer_callback(msg, ctx, *data)  # type: ignore[misc]
        return _answer_not_helped(msg, ctx, data)


def _student_name(ctx: Context, guardianship_id: int) -> str:
    for gs in ctx.actor.guardianships:
        if gs.id == guardianship_id:
            return gs.student.name
    return ""


def _answer_child(msg: InboundMessage, ctx: Context, question, choice: int) -> list[Reply]:
    from handlers.tickets import create_from_text

    payload = dict(question.payload)
    conversation.answered(ctx.session, ctx.actor.identity.id, CHILD_QUESTION)
    gid = payload["options"][choice]
    gs = next((g for g in ctx.actor.guardianships if g.id == gid), None)
    replies = create_from_text(msg, ctx, payload["text"], gs, payload.get("inbound_id"), in_group=False)
    return [r if r.to is not None else Reply(r.text, private=True) for r in replies]


def _answer_not_helped(msg: InboundMessage, ctx: Context, question) -> list[Reply]:
    from handlers.tickets import create_from_text

    payload = dict(question.payload)
    conversation.answered(ctx.session, ctx.actor.identity.id, FAQ_FOLLOWUP)
    pairs = ctx.actor.guardianships
    replies = create_from_text(msg, ctx, payload["text"], pairs[0] if len(pairs) == 1 else None,
                               payload.get("inbound_id"), in_group=False)
    ticket = ctx.services.get("last_ticket")
    faq.mark_not_helped(ctx.session, payload["answer_id"], ticket.id if ticket is not None else None)
    return [r if r.to is not None else Reply(r.text, private=True) for r in replies]


def _answer_callback(msg: InboundMessage, ctx: Context, question, answer: str) -> list[Reply]:
    from handlers.tickets import notice_replies

    session = ctx.session
    conversation.answered(session, ctx.actor.identity.id, CALLBACK)
    ticket = session.get(Ticket, question.payload.get("ticket_id"))
    if ticket is None:
        return [Reply("这条回访已失效，谢谢您。", private=True)]
    try:
        ticket_service.record_callback_answer(session, ticket, answer, ctx.actor.identity.id, ctx.now)
    except TicketError as exc:
        return [Reply(exc.message, private=True)]
    if answer == "unsatisfied":
        return [Reply(f"很抱歉没有让您满意。编号 {ticket.number} 已重新交办（重办），并报学校领导督办，"
                      "我们会尽快再联系您。", private=True)] + notice_replies(_reopen_notices(ctx, ticket))
    owner_text = f"【回访】{ticket.number} 家长评价：{SATISFACTION_NAMES[answer]}，已销号。"
    return [Reply(f"感谢您的评价！编号 {ticket.number} 已销号。有其他问题随时留言。", private=True)] + \
        notice_replies(ticket_notify.to_staff(session, ticket.assignee, owner_text, ticket))


def _reopen_notices(ctx: Context, ticket: Ticket) -> list[ticket_notify.Notice]:
    session, tz = ctx.session, ctx.settings.app.timezone
    notices = ticket_notify.to_staff(session, ticket.assignee,
                                     ticket_notify.assignee_text(ticket, tz, intro="重办·家长不满意"), ticket)
    text = (f"【重办督办】{ticket_notify.headline(ticket)} 家长回访不满意，已重办"
            f"（第 {ticket.reopen_count} 次）。承办人：{ticket.assignee.name if ticket.assignee else '—'}。"
            f"发送「查看 {ticket.number}」了解详情，「督办 {ticket.number}」催办。")
    skip = {ticket.about_staff_id, ticket.assignee_id} - {None}
    for leader in routing.staff_with_roles(session, ticket.school_id, ["director"]) or \
            routing.staff_with_roles(session, ticket.school_id, ["principal"]):
        if leader.id not in skip:
            notices += ticket_notify.to_staff(session, leader, text, ticket, urgent=ticket.urgency == "urgent")
    return notices


def register(registry: Registry) -> None:
    """Add the answer handler to the conversations group."""
    registry.add(TicketAnswerHandler(), group=10)
