"""Answers to the ticket questions (group 10): 回访 满意/基本满意/不满意 and 没解决.

"Which child?" has its own queue and handler (``handlers.child_questions``).
"""

from __future__ import annotations

import re
import unicodedata

from bot.message import InboundMessage, Reply
from handlers import classifier, filters, which_child
from handlers.children import named_child
from handlers.context import Context
from handlers.registry import Registry
from handlers.replies import notice_replies
from handlers.satisfaction import is_explicit, parse_satisfaction
from handlers.ticket_intake import create_from_text
from models import conversation, faq, routing, ticket_notify, ticket_service
from models.labels import SATISFACTION_NAMES
from models.ticket_notify import CALLBACK
from models.tickets import Ticket, TicketError

FAQ_FOLLOWUP = "faq"
NOT_HELPED = frozenset({"没解决", "没有解决", "未解决", "不能解决", "没用", "不行", "还是不清楚"})
CLARIFY = "clarify"
# A 回访 answer in words may carry a sentence of explanation; a longer message is something new.
CALLBACK_WORDS_MAX = 40
SHORT = 12
POLITE_MAX = 8  # 好的 / 谢谢老师 / 收到了: politeness, not a judgement: ask again
_STRIP = re.compile(r"[\s。.!！~～,，、]+")


def _clean(text: str) -> str:
    return _STRIP.sub("", unicodedata.normalize("NFKC", text or ""))


class TicketAnswerHandler:
    """Takes a parent's answer to the ticket question they were last asked (回访, 没解决)."""

    def _match(self, msg: InboundMessage, ctx: Context) -> tuple[str, object] | None:
        if not filters.TEXT(msg, ctx):
            return None
        text = _clean(msg.text)
        if not text or len(text) > CALLBACK_WORDS_MAX:
            return None
        ident, now, session = ctx.actor.identity.id, ctx.now, ctx.session
        latest = conversation.latest_pending(session, ident, now)
        asked_last = latest is not None and latest.kind == CALLBACK
        answer = parse_satisfaction(text)
        # Digits and everyday words belong to the 回访 only when it is the latest question;
        # the survey's own words (满意/基本满意/不满意) are unambiguous in a short message.
        if answer is not None and (asked_last or (is_explicit(text) and not text.isdigit() and len(text) <= SHORT)):
            question = conversation.pending(session, ident, CALLBACK, now)
            if question is not None:
                return CALLBACK, (question, answer)
        if text in NOT_HELPED:
            question = conversation.pending(session, ident, FAQ_FOLLOWUP, now)
            if question is not None:
                return FAQ_FOLLOWUP, question
        if asked_last and answer is None and len(text) <= POLITE_MAX and classifier.classify(text).kind == "none":
            return CLARIFY, latest
        return None

    def check(self, msg: InboundMessage, ctx: Context) -> bool:
        """Take the message when it answers one of this person's open ticket questions."""
        return self._match(msg, ctx) is not None

    def handle(self, msg: InboundMessage, ctx: Context) -> list[Reply]:
        """Record the answer and carry on."""
        kind, data = self._match(msg, ctx)  # type: ignore[misc]
        if kind == CALLBACK:
            return _answer_callback(msg, ctx, *data)  # type: ignore[misc]
        if kind == CLARIFY:
            ticket = ctx.session.get(Ticket, data.payload.get("ticket_id"))  # type: ignore[attr-defined]
            number = f"（编号 {ticket.number}）" if ticket is not None else ""
            return [Reply(f"请问您对处理结果{number}是否满意？{ticket_notify.CALLBACK_OPTIONS}", private=True)]
        return _answer_not_helped(msg, ctx, data)


def _answer_not_helped(msg: InboundMessage, ctx: Context, question) -> list[Reply]:
    payload = dict(question.payload)
    conversation.answered(ctx.session, ctx.actor.identity.id, FAQ_FOLLOWUP)
    pairs = list(ctx.actor.guardianships)
    gs = named_child(payload["text"], pairs)
    if gs is None and len(pairs) > 1:
        faq.mark_not_helped(ctx.session, payload["answer_id"], None)
        return which_child.ask(msg, ctx, payload["text"], pairs, which_child.TICKET)
    ticket, replies = create_from_text(msg, ctx, payload["text"], gs, payload.get("inbound_id"), in_group=False)
    faq.mark_not_helped(ctx.session, payload["answer_id"], ticket.id)
    return [r if r.to is not None else Reply(r.text, private=True) for r in replies]


def _answer_callback(msg: InboundMessage, ctx: Context, question, answer: str) -> list[Reply]:
    session = ctx.session
    conversation.answered(session, ctx.actor.identity.id, CALLBACK)
    ticket = session.get(Ticket, question.payload.get("ticket_id"))
    if ticket is None:
        return [Reply("这条回访已失效，谢谢您。", private=True)]
    try:
        words = msg.text.strip()
        bare = _clean(words) in ("1", "2", "3", SATISFACTION_NAMES[answer])
        ticket_service.record_callback_answer(session, ticket, answer, ctx.actor.identity.id, ctx.now,
                                              words=None if bare else words)
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
    """Take the answers to 回访 and 没解决."""
    answers = TicketAnswerHandler()
    registry.add_answer({CALLBACK, FAQ_FOLLOWUP}, answers.check, answers.handle, "ticket_answer")
