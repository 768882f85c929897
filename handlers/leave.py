"""Leave notes (请假): relayed to the head teacher, never ticketed, never lost.

A leave note is not a problem for the ledger (the taxonomy labels it
``none``), but a parent who writes "孩子发烧了明天请假一天" expects the class
teacher to know. This handler runs before the parent-message handler and
only takes messages that are leave notes and nothing more.
"""

from __future__ import annotations

import re

from bot.message import InboundMessage, Reply
from handlers import classifier, filters, which_child
from handlers.children import named_child
from handlers.context import Context
from handlers.registry import LEAVE, FuncHandler, Registry
from models import people
from models.directory import Guardianship

_LEAVE = re.compile(r"请(个|一|半|两|几)?[天日]?假|病假|事假|不能来上学|不去学校了|在家休息[一两几]?天")
# "already told the teacher" / "the note was handed in": a status report, nothing to relay.
_ALREADY = re.compile(r"(已经|已)(跟|和|向|给)?(班主任|老师).{0,4}(说|讲|请|报)|假条.{0,8}(交|给)|已请假")


def is_leave_note(text: str) -> bool:
    """Return whether the text asks for leave (and is not just reporting it was done)."""
    return bool(_LEAVE.search(text)) and not _ALREADY.search(text)


def _only_leave(msg: InboundMessage, ctx: Context) -> bool:
    c = classifier.classify(msg.text)
    # A leave note is chatter to the ledger; when illness is its reason the classifier may
    # see a health matter, which is still just a leave note unless it is urgent.
    return c.kind == "none" or (c.category == "wellbeing" and c.urgency != "urgent" and c.kind in ("help", "complaint"))


_check = filters.PARENT & filters.text(is_leave_note) & _only_leave


def _child(msg: InboundMessage, ctx: Context) -> Guardianship | None:
    pairs = ctx.actor.guardianships
    if msg.is_group and ctx.group is not None:
        in_class = [gs for gs in pairs if gs.student.class_id == ctx.group.class_id]
        if len(in_class) == 1 and named_child(msg.text, pairs) in (None, in_class[0]):
            return in_class[0]
    return named_child(msg.text, pairs)


def _relay(msg: InboundMessage, ctx: Context) -> list[Reply]:
    gs = _child(msg, ctx)
    if gs is None:
        return which_child.ask(msg, ctx, msg.text.strip(), list(ctx.actor.guardianships), which_child.LEAVE)
    return relay(msg, ctx, gs, msg.text.strip())


def relay(msg: InboundMessage, ctx: Context, gs: Guardianship, text: str, note: str = "") -> list[Reply]:
    """Pass a leave note about ``gs``'s child to the class's head teacher and tell the parent who was told."""
    head = gs.student.school_class.head_teacher
    recipients = people.staff_recipients(ctx.session, head) if head is not None else []
    if not recipients:
        return [Reply("班主任还没有开通连心，请直接电话或当面告知班主任。", private=msg.is_group)]
    line = f"【请假】{gs.display_name}（{gs.student.school_class.name}）：{text}{note}"
    replies = [Reply(line, to=r, ref=f"leave:{ctx.inbound_id}") for r in recipients[:1]]
    return [*replies, Reply(f"已转告{gs.student.school_class.name}班主任{head.name}老师。祝孩子早日康复！"
                            if re.search("病|烧|疼|痛|咳|吐|医院|不舒服", text) else
                            f"已转告{gs.student.school_class.name}班主任{head.name}老师。", private=msg.is_group)]


def register(registry: Registry) -> None:
    """Take leave notes before the parent-message handler classifies them away."""
    registry.add(FuncHandler(_check, _relay, "leave_note"), group=LEAVE)
