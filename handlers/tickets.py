"""Parents' free text (group 50): classify, then praise, FAQ answer, or a ticket.

In a class group the bot only acknowledges (number, no content) and goes on
in private; chatter is left alone. Answers to the questions this module asks
(which child? 没解决) are handled in ``handlers.ticket_answers``.
"""

from __future__ import annotations

import datetime as dt

from bot.message import InboundMessage, Reply
from handlers import child_questions, classifier, filters, notice_acks, ticket_answers, which_child
from handlers.children import named_child
from handlers.context import Context
from handlers.registry import PARENT_MESSAGES, FuncHandler, Registry
from handlers.ticket_answers import FAQ_FOLLOWUP
from handlers.ticket_intake import create_from_text, school_of
from models import conversation, faq, praise, ticket_notify
from models.directory import Guardianship

PRIVATE_ACK = "好的，收到。有需要反映的问题、求助或咨询，直接留言就行，我会转给负责老师。"


def _candidates(msg: InboundMessage, ctx: Context) -> list[Guardianship]:
    """Return the children a message may be about (in a class group: that class's)."""
    pairs = list(ctx.actor.guardianships)
    if msg.is_group and ctx.group is not None and ctx.group.class_id is not None:
        in_class = [gs for gs in pairs if gs.student.class_id == ctx.group.class_id]
        pairs = in_class or pairs
    return pairs


def parent_message(msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Act on a bound parent's message according to its classification.

    An acknowledgement that opens a longer message (收到，谢谢老师！请问…) counts for
    the family's open notice, and the rest is handled on its own.
    """
    text = msg.text.strip()
    ack, rest = notice_acks.split_acknowledgement(text)
    if not ack or not rest.strip():
        return _act(msg, ctx, text)
    acked = notice_acks.acknowledge(msg, ctx)
    replies = _act(msg, ctx, rest.strip())
    if acked and replies == [Reply(PRIVATE_ACK)]:
        return acked
    return acked + replies


def _act(msg: InboundMessage, ctx: Context, text: str) -> list[Reply]:
    c = classifier.classify(text)
    if c.kind == "none":
        return [] if msg.is_group else [Reply(PRIVATE_ACK)]
    pairs = _candidates(msg, ctx)
    if c.kind == "praise":
        return _praise(msg, ctx, text, c.category, pairs[0] if len(pairs) == 1 else named_child(text, pairs))
    if c.kind == "inquiry" and not c.review:  # a possible danger is never answered by the FAQ
        entry = faq.match_faq(text, school_of(ctx).code)
        if entry is not None:
            return _faq_answer(msg, ctx, text, entry)
    if len(pairs) > 1:
        named = named_child(text, list(ctx.actor.guardianships))
        if named is None or named not in pairs:
            return which_child.ask(msg, ctx, text, pairs, which_child.TICKET)
        pairs = [named]
    return create_from_text(msg, ctx, text, pairs[0] if pairs else None, ctx.inbound_id).replies


def _praise(msg: InboundMessage, ctx: Context, text: str, category: str | None,
            gs: Guardianship | None) -> list[Reply]:
    row = praise.record_praise(
        ctx.session, school_id=ctx.actor.identity.school_id, text=text, now=ctx.now,
        identity_id=ctx.actor.identity.id, student=gs.student if gs else None,
        school_class=ctx.group.school_class if ctx.group is not None and gs is None else None,
        category=category, source_inbound_id=ctx.inbound_id,
    )
    replies: list[Reply] = []
    addresses = _staff_addresses(ctx, row.staff) if row.staff is not None else []
    if addresses:
        who = gs.display_name if gs else ctx.actor.display_name
        replies += [Reply(f"【家长表扬】{who}：{text}", to=r) for r in addresses]
        thanks = f"谢谢您的肯定！我们会转达给{ticket_notify.signature(row.staff).split('（')[0]}。"
    else:
        # Nobody to message yet: the praise is recorded and reaches the leaders' daily digest.
        thanks = "谢谢您的肯定！已记录在案，学校领导会在每日简报中看到并转达。"
    return [Reply(thanks, mention_sender=msg.is_group), *replies]


def _staff_addresses(ctx: Context, staff):
    from models.people import staff_recipients

    return staff_recipients(ctx.session, staff)


def _faq_answer(msg: InboundMessage, ctx: Context, text: str, entry: faq.FaqEntry) -> list[Reply]:
    row = faq.log_answer(ctx.session, ctx.actor.identity.school_id, ctx.actor.identity.id, text, entry, ctx.now)
    conversation.ask(ctx.session, ctx.actor.identity.id, FAQ_FOLLOWUP,
                     {"answer_id": row.id, "text": text, "inbound_id": ctx.inbound_id}, now=ctx.now,
                     ttl=dt.timedelta(hours=ctx.settings.tickets.question_ttl_hours))
    return [Reply(f"{entry.answer}\n如果没有解决您的问题，请回复「没解决」，我会转给老师处理。",
                  mention_sender=msg.is_group)]


def register(registry: Registry) -> None:
    """Add the parent-message handler (group 50) and the answers to its questions (group 10)."""
    registry.add(FuncHandler(filters.TEXT & filters.PARENT & filters.NOT_EMPTY, parent_message, "parent_message"), group=PARENT_MESSAGES)
    child_questions.register(registry)
    ticket_answers.register(registry)
