"""A parent's 收到 / 已阅 / 👍 acknowledges their family's open notice.

Privately, or in the class group with an @-mention of the bot. The handler
takes a message only when it is a bare acknowledgement (the classifier says
``none`` and nothing but acknowledgement words and emoji remain) *and* the
family has a notice inside its window; anything else falls through to the
ticket handler, so real questions are never swallowed.
"""

from __future__ import annotations

import logging
import re

from bot.message import InboundMessage, Reply
from handlers import filters
from handlers.context import Context
from handlers.registry import Registry
from models import notice_acks

log = logging.getLogger(__name__)

ACK_WORDS = frozenset({
    "收到", "收到了", "已收到", "已阅", "已读", "阅", "已知悉", "知悉", "知道了", "好的", "好", "好的收到",
    "收到谢谢", "收到谢谢老师", "好的谢谢老师", "收到老师", "好的老师", "明白", "明白了", "ok", "嗯", "嗯嗯",
})
ACK_EMOJI = ("👍", "👌", "🙏", "✅", "🤝", "💪")
# WeChat / DingTalk emoticon codes such as [抱拳] [OK] [强].
_EMOTICON = re.compile(r"\[[^\[\]]{1,6}\]")
_NOISE = re.compile(r"[\s,.!?;:~，。！？；：、～…\-—\"'“”‘’]+")


def is_acknowledgement(text: str) -> bool:
    """Return whether a message says nothing but "received" (收到, 已阅, 👍, 收到[抱拳] …)."""
    had_symbol = bool(_EMOTICON.search(text)) or any(e in text for e in ACK_EMOJI)
    rest = _EMOTICON.sub("", text)
    for emoji in ACK_EMOJI:
        rest = rest.replace(emoji, "")
    rest = _NOISE.sub("", rest).lower()
    rest = re.sub(r"[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F]", "", rest)
    if not rest:
        return had_symbol
    return rest in ACK_WORDS and _classifier_agrees(text)


# Words that acknowledge or thank, and may open a message that goes on to ask something.
_ACK_UNITS = ("收到了", "已收到", "收到", "已阅", "已读", "已知悉", "知悉", "知道了", "好的", "好", "明白了", "明白",
              "嗯嗯", "嗯", "ok", "谢谢老师", "谢谢您", "谢谢", "感谢老师", "感谢", "多谢", "老师辛苦了", "辛苦老师了",
              "辛苦了", "收到老师", "好的老师")
_ACK_UNITS_LONGEST = tuple(sorted(_ACK_UNITS, key=len, reverse=True))
_SEPARATORS = re.compile(r"[\s,.!?;:~，。！？；：、～…]+")
_SYMBOL = re.compile(r"\[[^\[\]]{1,6}\]|[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F]")


def split_acknowledgement(text: str) -> tuple[str, str]:
    """Split a leading acknowledgement (收到，谢谢老师！) from what follows it.

    Only whole clauses made of acknowledgement words, emoji and emoticons
    count, so 「收到的资料费…」 and 「好多作业」 are not split. Returns
    ``(acknowledgement, rest)`` with ``acknowledgement + rest == text``;
    ``("", text)`` when the text does not open with an acknowledgement.
    """
    i, end, acked = 0, 0, False
    while i < len(text):
        sep = _SEPARATORS.match(text, i)
        if sep:
            i = sep.end()
            continue
        symbol = _SYMBOL.match(text, i)
        if symbol:
            acked |= symbol.group() in ACK_EMOJI or symbol.group().startswith("[")
            i = end = symbol.end()
            continue
        j = i
        while (unit := next((u for u in _ACK_UNITS_LONGEST if text[j:j + len(u)].lower() == u), None)) is not None:
            j += len(unit)
        whole = j > i and (j == len(text) or _SEPARATORS.match(text, j) or _SYMBOL.match(text, j))
        if not whole:
            break
        acked, i, end = True, j, j
    if not acked:
        return "", text
    sep = _SEPARATORS.match(text, end)
    end = sep.end() if sep else end
    return text[:end], text[end:]


def acknowledge(msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Record an acknowledgement that opens a longer message; return the note (none when no notice is open)."""
    students = _students(msg, ctx)
    if not any(notice_acks.open_notice_for(ctx.session, s, ctx.settings, ctx.now)[0] is not None for s in students):
        return []
    return _handle(msg, ctx)


def _classifier_agrees(text: str) -> bool:
    """Double-check with the classifier that nothing actionable hides in the message."""
    try:
        from handlers.classifier import classify

        return classify(text).kind == "none"
    except Exception:  # a broken classifier must not stop 收到 being counted: the word list decides
        log.exception("classifier failed on an acknowledgement candidate")
        return True


def _students(msg: InboundMessage, ctx: Context) -> list:
    students = [gs.student for gs in ctx.actor.guardianships]
    if msg.is_group:
        class_id = ctx.group.class_id if ctx.group is not None else None
        students = [s for s in students if s.class_id == class_id]
    return list({s.id: s for s in students}.values())


def _has_open_notice(msg: InboundMessage, ctx: Context) -> bool:
    return any(notice_acks.open_notice_for(ctx.session, s, ctx.settings, ctx.now)[0] is not None
               for s in _students(msg, ctx))


_check = filters.PARENT & filters.text(is_acknowledgement) & _has_open_notice


def _handle(msg: InboundMessage, ctx: Context) -> list[Reply]:
    via = "group" if msg.is_group else "private"
    new, old = notice_acks.ack_from_chat(ctx.session, _students(msg, ctx), via, ctx.settings, ctx.now,
                                         ctx.actor.identity.id)
    if new:
        ids = "、".join(str(n.id) for n in dict.fromkeys(new))
        text = f"已记录您已阅读通知（编号 {ids}），谢谢！"
    else:
        text = "您已确认过这条通知，谢谢！"
    # In the group a short private note avoids filling the class group with bot replies.
    return [Reply(text, private=msg.is_group)]


def register(registry: Registry) -> None:
    """Add the acknowledgement handler (after the pending-question answers)."""
    # A standing answer: no question is pending, the open notice is what 收到 answers.
    registry.add_answer((), _check, _handle, "notice_ack")
