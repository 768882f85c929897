"""One message through the bot: log it, know the sender, run handlers, queue replies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from bot.message import InboundMessage, Recipient, Reply
from config.logs import scrub
from config.settings import Settings
from handlers.context import Actor, Context
from handlers.registry import Registry
from models import inbound, outbox, people

if TYPE_CHECKING:
    from sqlalchemy.orm import Session  # the type only: handlers run no SQL

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
    msg: InboundMessage, *, session: Session, settings: Settings, registry: Registry, now: dt.datetime
) -> DispatchResult:
    """Persist the message, run the handlers and queue the replies.

    The caller owns the transaction and commits it. A redelivered message
    (same platform message id) does nothing and reports ``duplicate``.
    """
    record = receive(msg, session=session, now=now)
    if record is None:
        return DispatchResult(duplicate=True)
    if record.status == inbound.FETCH:  # media first: the inbox worker downloads it, then handles the message
        return DispatchResult(inbound_id=record.id)
    return handle(record, msg, session=session, settings=settings, registry=registry, now=now)


def receive(msg: InboundMessage, *, session: Session, now: dt.datetime) -> inbound.InboundRecord | None:
    """Store the message unhandled (status ``new``); return None for a redelivery."""
    return inbound.record_inbound(session, **_stored_fields(msg, now))


def receive_id(msg: InboundMessage, *, session: Session, now: dt.datetime) -> int | None:
    """Store the message unhandled and return its id (None for a redelivery).

    This is all a webhook does before it answers: one deduplicating insert.
    ``process`` / ``process_next`` handle the stored message afterwards.
    """
    return inbound.store_inbound(session, **_stored_fields(msg, now))


def _stored_fields(msg: InboundMessage, now: dt.datetime) -> dict[str, Any]:
    return {
        "platform": msg.platform,
        "platform_msg_id": msg.msg_id,
        "school_id": msg.school_id,
        "conversation_id": msg.conversation_id,
        "is_group": msg.is_group,
        "sender_external_id": msg.sender_id,
        "sender_name": msg.sender_name,
        "msgtype": msg.msgtype,
        "text": msg.text,
        "raw": dict(msg.raw) if msg.raw else None,
        "envelope": _envelope(msg, with_reply_handle=True),
        "sent_at": msg.sent_at,
        "received_at": now,
        "status": inbound.FETCH if msg.media else inbound.NEW,
    }


def process_next(
    *, session: Session, settings: Settings, registry: Registry, now: dt.datetime, received_before: dt.datetime
) -> DispatchResult | None:
    """Handle the oldest unhandled message stored before ``received_before``; None when there is none.

    The caller commits after each message (the claim and the handling are one
    transaction, so a crash leaves the message unhandled, never half-handled).
    Used by the web worker's inbox thread and the inbox-worker process
    (``bot/inbox_worker.py``) and by the scheduler's ``process_inbox`` sweep.
    """
    record = inbound.claim_next(session, received_before)
    if record is None:
        return None
    return handle(record, message_of(record), session=session, settings=settings, registry=registry, now=now)


def message_of(record: inbound.InboundRecord) -> InboundMessage:
    """Rebuild the normalised message from its stored form."""
    envelope = record.envelope or {}
    return InboundMessage(
        platform=record.platform,
        school_id=record.school_id or 0,
        msg_id=record.platform_msg_id,
        conversation_id=record.conversation_id or "",
        is_group=record.is_group,
        sender_id=record.sender_external_id or "",
        text=record.text,
        sent_at=record.sent_at or record.received_at,
        sender_name=record.sender_name,
        msgtype=record.msgtype,
        mentions=tuple(envelope.get("mentions") or ()),
        mentioned_bot=bool(envelope.get("mentioned_bot")),
        raw=record.raw,
        reply_context=dict(envelope.get("reply_context") or {}),
        outside_directory=bool(envelope.get("outside_directory")),
        attachments=tuple(int(i) for i in envelope.get("attachments") or ()),
        media_refused=envelope.get("media_refused"),
    )


def handle(
    record: inbound.InboundRecord, msg: InboundMessage, *, session: Session, settings: Settings,
    registry: Registry, now: dt.datetime,
) -> DispatchResult:
    """Run the handlers on a stored message and queue its replies in the outbox."""
    identity = people.touch_identity(session, msg.platform, msg.school_id, msg.sender_id, msg.sender_name, now)
    group = people.find_group(session, msg.platform, msg.conversation_id) if msg.is_group else None
    actor = Actor.of(identity, staff_allowed=not msg.outside_directory)
    ctx = Context(session, settings, now, actor, group, record.id, {"registry": registry})
    try:
        with session.begin_nested():
            replies = registry.run(msg, ctx)
        record.status = inbound.PROCESSED
    except Exception as exc:  # one polite answer, one log line, the message kept
        log.exception("handler failed for inbound %s", record.id)
        record.status, record.error = inbound.FAILED, scrub(f"{type(exc).__name__}: {exc}")[:2000]
        replies = [Reply(SORRY, private=msg.is_group)]
    # Set with the status so the record is updated once (fewer round trips before the ack).
    record.identity_id, record.processed_at = identity.id, now
    if msg.reply_context:
        # The reply handle (a bearer URL on DingTalk and the AI bot) is kept only until handled:
        # the replies below carry their own copy.
        record.envelope = _envelope(msg, with_reply_handle=False)
    ids = queue_replies(replies, msg, ctx, session=session, now=now)
    return DispatchResult(False, record.id, replies, ids)


def queue_replies(replies: list[Reply], msg: InboundMessage, ctx: Context, *, session: Session,
                  now: dt.datetime) -> list[int]:
    """Put replies to ``msg`` (from ``ctx.actor``) in the outbox; return the new rows' ids.

    Also used for what the bot says later about a message (an expired question).
    """
    sender_audience = "staff" if ctx.actor.is_staff else "parent"
    identity_id = ctx.actor.identity.id
    ids = []
    for reply in replies:
        recipient = _recipient(reply, msg, identity_id)
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
    return ids


def _envelope(msg: InboundMessage, *, with_reply_handle: bool) -> dict[str, Any] | None:
    """Return what a stored message needs beyond its columns to be handled later."""
    envelope: dict[str, Any] = {}
    if msg.mentions:
        envelope["mentions"] = list(msg.mentions)
    if msg.mentioned_bot:
        envelope["mentioned_bot"] = True
    if msg.outside_directory:
        envelope["outside_directory"] = True
    if with_reply_handle and msg.reply_context:
        envelope["reply_context"] = dict(msg.reply_context)
    if with_reply_handle and msg.media:  # what the inbox worker downloads (then replaced by attachments)
        envelope["media"] = [dict(m) for m in msg.media]
    if msg.attachments:
        envelope["attachments"] = list(msg.attachments)
    if msg.media_refused:
        envelope["media_refused"] = msg.media_refused
    return envelope or None


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
