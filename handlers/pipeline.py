"""One message through the bot: log it, know the sender, run handlers, queue replies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from bot.message import InboundMessage, Recipient, Reply
from config.settings import Settings
from handlers.context import Actor, Context
from handlers.registry import Registry
from models import inbound, outbox, people

log = logging.getLogger(__name__)

SORRY = "抱歉，系统开小差了，您的消息已记录，我们会尽快处理。"


@dataclasses.dataclass
class DispatchResult:
    """What dispatching one message did."""

    duplicate: bool = False
    inbound_id: int | None = None
    replies: list[Reply] = dataclasses.field(default_factory=list)
    outbox_ids: list[int] = dataclasses.field(default_factory=list)


def dispatch(
    msg: InboundMessage, *, session: Any, settings: Settings, registry: Registry, now: dt.datetime
) -> DispatchResult:
    """Persist the message, run the handlers and queue the replies.

    The caller owns the transaction and commits it. A redelivered message
    (same platform message id) does nothing and reports ``duplicate``.
    """
    record = inbound.record_inbound(
        session,
        platform=msg.platform,
        platform_msg_id=msg.msg_id,
        school_id=msg.school_id,
        conversation_id=msg.conversation_id,
        is_group=msg.is_group,
        sender_external_id=msg.sender_id,
        sender_name=msg.sender_name,
        msgtype=msg.msgtype,
        text=msg.text,
        raw=dict(msg.raw) if msg.raw else None,
        sent_at=msg.sent_at,
        received_at=now,
    )
    if record is None:
        return DispatchResult(duplicate=True)
    identity = people.touch_identity(session, msg.platform, msg.school_id, msg.sender_id, msg.sender_name, now)
    group = people.find_group(session, msg.platform, msg.conversation_id) if msg.is_group else None
    ctx = Context(session, settings, now, Actor.of(identity), group, record.id, {"registry": registry})
    try:
        with session.begin_nested():
            replies = registry.run(msg, ctx)
        record.status = "processed"
    except Exception as exc:  # one polite answer, one log line, the message kept
        log.exception("handler failed for inbound %s", record.id)
        record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        replies = [Reply(SORRY, private=msg.is_group)]
    # Set with the status so the record is updated once (fewer round trips before the ack).
    record.identity_id, record.processed_at = identity.id, now
    sender_audience = "staff" if ctx.actor.is_staff else "parent"
    ids = []
    for reply in replies:
        recipient = _recipient(reply, msg, identity.id)
        # Quiet hours follow whoever receives the message, not whoever caused it.
        audience = sender_audience if reply.to is None else people.audience_of(session, recipient)
        row = outbox.enqueue(
            session, recipient, _text(reply, msg, ctx), now=now,
            audience=audience, fmt=reply.fmt, title=reply.title, urgent=reply.urgent,
            ref=reply.ref, dedupe_key=reply.dedupe_key,
        )
        if row is not None:
            session.flush()
            ids.append(row.id)
    return DispatchResult(False, record.id, replies, ids)


def _recipient(reply: Reply, msg: InboundMessage, identity_id: int) -> Recipient:
    if reply.to is not None:
        return reply.to
    target = msg.sender if reply.private else msg.conversation
    if target.is_group:
        context = dict(target.context)
        if reply.mention_sender:
            context["mention"] = msg.sender_id
        return dataclasses.replace(target, context=context)
    return dataclasses.replace(target, identity_id=identity_id)


def _text(reply: Reply, msg: InboundMessage, ctx: Context) -> str:
    if reply.mention_sender and msg.is_group and reply.to is None and not reply.private:
        return f"@{ctx.actor.display_name} {reply.text}"
    return reply.text
