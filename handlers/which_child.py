""""Which child?" asked of a parent of two: the question and how an answer names a child.

A message that needs the question (a ticket or a leave note that names no
child) is queued here by the feature that received it; the answers are taken
by ``handlers.child_questions``, which files each message as its purpose says.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from bot.message import InboundMessage, Reply
from handlers.context import Actor, Context
from models import conversation
from models.directory import Guardianship

KIND = "ticket_child"  # the pending-question kind (the name predates leave notes)
TICKET, LEAVE = "ticket", "leave"
ALL_PREFIX = re.compile(r"^(都是|都|全部是|全部|全是|全都是)")
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
    names = [child_name(actor, gid) for gid in row.payload.get("options", [])]
    options = " / ".join(f"{i} {name}" for i, name in enumerate(names, 1))
    what = "请假" if row.payload.get("purpose") == LEAVE else "事"
    text = f"「{excerpt(row.payload.get('text', ''))}」是哪个孩子的{what}？请回复 {options}"
    if waiting > 1:
        text += f"\n（共 {waiting} 条待确认；都是同一个孩子可回复「都是 1」）"
    return text


def excerpt(text: str) -> str:
    """Return the start of a message, as quoted in the question."""
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def child_name(actor: Actor, guardianship_id: int) -> str:
    """Return the name of the child behind one of the actor's guardianships."""
    return next((gs.student.name for gs in actor.guardianships if gs.id == guardianship_id), "")


def clean(text: str) -> str:
    """Strip what surrounds a short answer (spaces, punctuation, 的, a leading 回复)."""
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
