""""Which child?" answered: each answer files the message it was asked about; unanswered ones expire.

Every message that needs the question (a ticket or a leave note that names
no child) gets its own queued question; the parent answers them oldest first
(``1``, ``2``, a child's name, or ``都是 2`` for all of them), and each answer
files exactly the message it was asked about. A question nobody answers
within ``tickets.question_ttl_hours`` is settled by ``expire_questions`` (the
scheduler's ``sweep_questions`` job): a ticket under the first child with a
note, or a leave note relayed to every candidate child's head teacher.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from bot.message import InboundMessage, Reply
from config.settings import Settings
from handlers import filters
from handlers.context import PARENT, Actor, Context
from handlers.leave import relay
from handlers.pipeline import queue_replies
from handlers.registry import Registry
from handlers.ticket_intake import create_from_text
from handlers.which_child import ALL_PREFIX, KIND, LEAVE, child_name, choice_of, clean, excerpt, question_text
from models import conversation, ticket_service
from models.directory import Guardianship

if TYPE_CHECKING:
    from sqlalchemy.orm import Session  # the type only: handlers run no SQL


class ChildAnswerHandler:
    """Takes a parent's answer to the "which child?" question being asked."""

    def _match(self, msg: InboundMessage, ctx: Context) -> tuple[conversation.PendingQuestion, int, bool] | None:
        if not (filters.TEXT & filters.PARENT)(msg, ctx):
            return None
        text = clean(msg.text)
        if not text or len(text) > 12:
            return None
        head = conversation.pending(ctx.session, ctx.actor.identity.id, KIND, ctx.now)
        if head is None:
            return None
        every = bool(ALL_PREFIX.match(text))
        text = ALL_PREFIX.sub("", text)
        choice = choice_of(text, [child_name(ctx.actor, gid) for gid in head.payload.get("options", [])])
        if choice is None:
            return None
        if text.isdigit():
            # Digits belong to the most recently asked question (a 回访 may have come in between).
            latest = conversation.latest_pending(ctx.session, ctx.actor.identity.id, ctx.now)
            if latest is None or latest.id != head.id:
                return None
        return head, choice, every

    def check(self, msg: InboundMessage, ctx: Context) -> bool:
        """Take the message when it answers the question being asked."""
        return self._match(msg, ctx) is not None

    def handle(self, msg: InboundMessage, ctx: Context) -> list[Reply]:
        """File the message(s) the answer is about, then ask the next question if any."""
        head, choice, every = self._match(msg, ctx)  # type: ignore[misc]
        gid = head.payload["options"][choice]
        session, ident = ctx.session, ctx.actor.identity.id
        rows = conversation.queue(session, ident, KIND, ctx.now) if every else [head]
        replies: list[Reply] = []
        for row in rows:
            gs = _guardianship(ctx.actor, gid if gid in row.payload.get("options", []) else None)
            if gs is None:
                continue  # 都是 2 for a message asked in another class's group: it keeps its own question
            payload = dict(row.payload)
            conversation.drop(session, row)
            replies += _file(msg, ctx, payload, gs)
        nxt, _ = conversation.advance(session, ident, KIND, ctx.now)
        if nxt is not None:
            left = len(conversation.queue(session, ident, KIND, ctx.now))
            replies.append(Reply("下一条：" + question_text(nxt, ctx.actor, left), private=True))
        return replies


def _guardianship(actor: Actor, gid: int | None) -> Guardianship | None:
    return next((gs for gs in actor.guardianships if gs.id == gid), None)


def _file(msg: InboundMessage, ctx: Context, payload: dict[str, Any], gs: Guardianship, note: str = "") -> list[Reply]:
    """Do with the message what its answer allows: relay the leave note, or open (append to) a ticket."""
    text = payload.get("text", "")
    if payload.get("purpose") == LEAVE:
        replies = relay(msg, ctx, gs, text, note)
    else:
        ticket, replies = create_from_text(msg, ctx, text, gs, payload.get("inbound_id"), in_group=False)
        if note:
            ticket_service.note(ctx.session, ticket, "child_unconfirmed", note.strip("（）"), ctx.now)
    return [r if r.to is not None else Reply(r.text, private=True, urgent=r.urgent) for r in replies]


def expire_questions(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Settle "which child?" questions nobody answered in time; return how many.

    A ticket message is filed under the first child (an event notes that the
    parent did not confirm); a leave note is relayed to the head teacher of
    every child it may be about. The parent is told either way, and the next
    queued question (if any) is asked.
    """
    settled = 0
    for row in conversation.expired(session, KIND, now):
        with session.begin_nested():  # one question's failure leaves the others settled
            _settle(session, settings, row, now)
        settled += 1
    return settled


def _settle(session: Session, settings: Settings, row: conversation.PendingQuestion, now: dt.datetime) -> None:
    actor = Actor.of(row.identity)
    payload = dict(row.payload)
    conversation.drop(session, row)
    pairs = [gs for gs in actor.guardianships if gs.id in payload.get("options", [])]
    if PARENT not in actor.roles or not pairs:
        return  # unbound since: nobody left to file it for
    msg = _private_message(actor, payload.get("text", ""), now)
    ctx = Context(session, settings, now, actor, None, payload.get("inbound_id"))
    quoted = excerpt(payload.get("text", ""))
    if payload.get("purpose") == LEAVE:
        note = f"（家长未确认是哪个孩子：{'、'.join(gs.student.name for gs in pairs)}）"
        replies = [r for gs in _one_per_head_teacher(pairs) for r in _file(msg, ctx, payload, gs, note)]
        told = f"您的请假留言「{quoted}」没有确认是哪个孩子，已转告相关班主任。"
    else:
        first = pairs[0]
        note = f"（家长未确认是哪个孩子，先登记在{first.student.name}名下）"
        replies = _file(msg, ctx, payload, first, note)
        told = (f"您的留言「{quoted}」没有确认是哪个孩子，已先登记在{first.student.name}名下；"
                "如是其他孩子的事，请回复负责老师说明。")
    queue_replies([Reply(told, private=True), *replies], msg, ctx, session=session, now=now)
    nxt, fresh = conversation.advance(session, actor.identity.id, KIND, now)
    if nxt is not None and fresh:
        left = len(conversation.queue(session, actor.identity.id, KIND, now))
        queue_replies([Reply(question_text(nxt, actor, left), private=True)], msg, ctx, session=session, now=now)


def _one_per_head_teacher(pairs: list[Guardianship]) -> list[Guardianship]:
    seen: dict[object, Guardianship] = {}
    for gs in pairs:
        seen.setdefault(gs.student.school_class.head_teacher_id or gs.id, gs)
    return list(seen.values())


def _private_message(actor: Actor, text: str, now: dt.datetime) -> InboundMessage:
    """Return a stand-in for the parent's message, so that replies go to their private chat."""
    identity = actor.identity
    return InboundMessage(platform=identity.platform, school_id=identity.school_id, msg_id="", is_group=False,
                          conversation_id=identity.external_id, sender_id=identity.external_id, text=text,
                          sent_at=now)


def register(registry: Registry) -> None:
    """Take the answers to "which child?"."""
    answers = ChildAnswerHandler()
    registry.add_answer({KIND}, answers.check, answers.handle, "child_answer")
