""""Which child?" for a parent of two: a queue of questions, one asked at a time, none lost.

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
import re
import unicodedata
from typing import Any

from bot.message import InboundMessage, Reply
from handlers.context import PARENT, Actor, Context
from handlers.pipeline import queue_replies
from handlers.registry import ANSWERS, Registry
from models import conversation, ticket_service
from models.directory import Guardianship

KIND = "ticket_child"  # the pending-question kind (the name predates leave notes)
TICKET, LEAVE = "ticket", "leave"
_ALL = re.compile(r"^(都是|都|全部是|全部|全是|全都是)")
_STRIP = re.compile(r"[\s。.!！~～,，、的]+")
EXCERPT = 20


def ask(msg: InboundMessage, ctx: Context, text: str, pairs: list[Guardianship], purpose: str) -> list[Reply]:
    """Queue the question "which child?" about ``text`` and say what to answer."""
    session, ident = ctx.session, ctx.actor.identity.id
    conversation.enqueue(session, ident, KIND, {
        "text": text, "options": [gs.id for gs in pairs], "inbound_id": ctx.inbound_id, "group": msg.is_group,
        "purpose": purpose},
        now=ctx.now, ttl=dt.timedelta(hours=ctx.settings.tickets.question_ttl_hours))
    head, _ = conversation.advance(session, ident, KIND, ctx.now)
    rows = conversation.queue(session, ident, KIND, ctx.now)
    assert head is not None  # the question just queued is open
    # With an earlier question still open, that one is asked (again) first; this one waits its turn.
    lead = "已收到，这条稍后也请您确认是哪个孩子的事。请先回复：\n" if len(rows) > 1 else "已收到您的留言。"
    question = Reply(lead + question_text(head, ctx.actor, len(rows)), private=True)
    if msg.is_group:
        return [Reply("已收到，请在私信中确认是哪个孩子的事。", mention_sender=True), question]
    return [question]


def question_text(row: conversation.PendingQuestion, actor: Actor, waiting: int = 1) -> str:
    """Return the question about one message, quoting it."""
    names = [_name(actor, gid) for gid in row.payload.get("options", [])]
    options = " / ".join(f"{i} {name}" for i, name in enumerate(names, 1))
    what = "请假" if row.payload.get("purpose") == LEAVE else "事"
    text = f"「{_excerpt(row.payload.get('text', ''))}」是哪个孩子的{what}？请回复 {options}"
    if waiting > 1:
        text += f"\n（共 {waiting} 条待确认；都是同一个孩子可回复「都是 1」）"
    return text


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def _name(actor: Actor, guardianship_id: int) -> str:
    return next((gs.student.name for gs in actor.guardianships if gs.id == guardianship_id), "")


def _clean(text: str) -> str:
    return _STRIP.sub("", unicodedata.normalize("NFKC", text or "")).removeprefix("回复")


def choice_of(text: str, names: list[str]) -> int | None:
    """Return the option chosen by ``1``/``2``, a child's full or given name; None if unclear."""
    if text.isdigit():
        return int(text) - 1 if 1 <= int(text) <= len(names) else None
    for matches in (lambda n: n in text, lambda n: len(n) > 2 and n[1:] in text):
        hits = [i for i, name in enumerate(names) if name and matches(name)]
        if len(hits) == 1:
            return hits[0]
        if hits:
            return None
    return None


class ChildAnswerHandler:
    """Takes a parent's answer to the "which child?" question being asked."""

    def _match(self, msg: InboundMessage, ctx: Context) -> tuple[Any, int, bool] | None:
        if msg.msgtype != "text" or PARENT not in ctx.actor.roles:
            return None
        text = _clean(msg.text)
        if not text or len(text) > 12:
            return None
        head = conversation.pending(ctx.session, ctx.actor.identity.id, KIND, ctx.now)
        if head is None:
            return None
        every = bool(_ALL.match(text))
        text = _ALL.sub("", text)
        choice = choice_of(text, [_name(ctx.actor, gid) for gid in head.payload.get("options", [])])
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
    from handlers.leave import relay
    from handlers.tickets import create_from_text

    text = payload.get("text", "")
    if payload.get("purpose") == LEAVE:
        replies = relay(msg, ctx, gs, text, note)
    else:
        replies = create_from_text(msg, ctx, text, gs, payload.get("inbound_id"), in_group=False)
        ticket = ctx.services.get("last_ticket")
        if note and ticket is not None:
            ticket_service.note(ctx.session, ticket, "child_unconfirmed", note.strip("（）"), ctx.now)
    return [r if r.to is not None else Reply(r.text, private=True, urgent=r.urgent) for r in replies]


def expire_questions(session: Any, settings: Any, now: dt.datetime) -> int:
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


def _settle(session: Any, settings: Any, row: conversation.PendingQuestion, now: dt.datetime) -> None:
    actor = Actor.of(row.identity)
    payload = dict(row.payload)
    conversation.drop(session, row)
    pairs = [gs for gs in actor.guardianships if gs.id in payload.get("options", [])]
    if PARENT not in actor.roles or not pairs:
        return  # unbound since: nobody left to file it for
    msg = _private_message(actor, payload.get("text", ""), now)
    ctx = Context(session, settings, now, actor, None, payload.get("inbound_id"))
    quoted = _excerpt(payload.get("text", ""))
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
    """Add the answer handler to the conversations group."""
    registry.add(ChildAnswerHandler(), group=ANSWERS)
