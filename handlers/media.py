"""Pictures, files and voice notes people send (group MEDIA): join them to the right matter.

A parent's picture joins the ticket they wrote to within ``media.join_minutes``
(before or after: a text that arrives later picks up pictures waiting for it,
``join_waiting``); otherwise the bot asks 「这张图片是关于哪件事？」 with their
open tickets, or asks them to describe it. Nothing is ever said in a class
group about a picture: every answer is private. A staff member's picture or
file waits for their next notice (``handlers.notices`` takes it). Media the
inbox worker refused (too big, wrong type …) gets its Chinese answer.
"""

from __future__ import annotations

import datetime as dt
import re

from bot.message import InboundMessage, Reply
from config.texts import media_texts, refusal_text
from handlers import filters
from handlers.context import PARENT, Context
from handlers.registry import MEDIA, FuncHandler, Registry
from models import conversation, media, media_access, ticket_access
from models.tickets import Ticket

MEDIA_WHICH = "media_which"
_NUMBER = re.compile(r"\d{4}-\d{3,5}|\d{1,5}")


_is_media = filters.MEDIA & ~filters.STRANGER


def refusal_replies(msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Return the answer for media the inbox worker did not keep (none when all was kept)."""
    if not msg.media_refused:
        return []
    return [Reply(refusal_text(msg.media_refused, ctx.settings.media.max_bytes), private=msg.is_group)]


def media_message(msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Keep a picture, file or voice note with the right matter, privately."""
    rows = media.by_ids(ctx.session, msg.attachments)
    replies = refusal_replies(msg, ctx)
    if not rows:
        return replies or [Reply(refusal_text("download_failed", ctx.settings.media.max_bytes), private=msg.is_group)]
    if ctx.actor.is_staff and PARENT not in ctx.actor.roles:
        return replies + _staff_media(msg, ctx, rows)
    media.claim(rows, identity_id=ctx.actor.identity.id)
    texts = media_texts()
    since = ctx.now - dt.timedelta(minutes=ctx.settings.media.join_minutes)
    ticket = media.recent_ticket_of(ctx.session, ctx.actor.identity.id, since)
    if ticket is not None:
        return replies + join(msg, ctx, ticket, rows)
    open_tickets = [t for t in _parent_tickets(ctx) if t.is_open]
    if open_tickets:
        listing = "\n".join(f"{t.number}：{_excerpt(t.text)}" for t in open_tickets[:5])
        conversation.ask(ctx.session, ctx.actor.identity.id, MEDIA_WHICH,
                         {"attachments": [r.id for r in rows], "tickets": [t.id for t in open_tickets[:5]]},
                         now=ctx.now, ttl=dt.timedelta(hours=ctx.settings.tickets.question_ttl_hours))
        return replies + [Reply(str(texts["ask_which"]).format(tickets=listing), private=msg.is_group)]
    return replies + [Reply(str(texts["ask_describe"]), private=msg.is_group)]


def join(msg: InboundMessage, ctx: Context, ticket: Ticket, rows: list[media.Attachment]) -> list[Reply]:
    """Join attachments to a ticket, tell the parent privately and the assignee with signed links."""
    if not media.attach_to_ticket(ctx.session, rows, ticket, ctx.now):
        return []
    what = media.summary(rows)
    ack = Reply(str(media_texts()["joined"]).format(what=what, number=ticket.number), private=msg.is_group)
    notices = media_access.assignee_notices(ctx.session, ctx.settings, ticket, rows, ctx.now)
    return [ack] + [Reply(n.text, to=n.to, urgent=n.urgent, ref=n.ref) for n in notices]


def join_waiting(msg: InboundMessage, ctx: Context, ticket: Ticket) -> list[Reply]:
    """After a parent's text opened or joined ``ticket``: attach what came with it or waits for it."""
    since = ctx.now - dt.timedelta(minutes=ctx.settings.media.join_minutes)
    rows = media.by_ids(ctx.session, msg.attachments)
    media.claim(rows, identity_id=ctx.actor.identity.id)
    waiting = media.unattached(ctx.session, since=since, identity_id=ctx.actor.identity.id)
    question = conversation.pending(ctx.session, ctx.actor.identity.id, MEDIA_WHICH, ctx.now)
    if question is not None:  # they were asked which matter: describing a new one answers it too
        asked = media.by_ids(ctx.session, question.payload.get("attachments", []))
        waiting += [r for r in asked if r.ticket_id is None and r.purged_at is None]
        conversation.answered(ctx.session, ctx.actor.identity.id, MEDIA_WHICH)
    rows = list({r.id: r for r in rows + waiting}.values())
    replies = refusal_replies(msg, ctx)
    if not rows:
        return replies
    return replies + join(msg, ctx, ticket, rows)


def _parent_tickets(ctx: Context) -> list[Ticket]:
    ids = [gs.id for gs in ctx.actor.guardianships]
    return ticket_access.tickets_for_parent(ctx.session, ctx.actor.identity.id, ids, limit=10)


def _excerpt(text: str) -> str:
    return text if len(text) <= 20 else text[:20] + "…"


def _staff_media(msg: InboundMessage, ctx: Context, rows: list[media.Attachment]) -> list[Reply]:
    assert ctx.actor.staff is not None
    media.claim(rows, identity_id=ctx.actor.identity.id, staff_id=ctx.actor.staff.id)
    text = str(media_texts()["staff_pending"]).format(what=media.summary(rows),
                                                      minutes=ctx.settings.media.join_minutes * 3)
    return [Reply(text, private=True)]


def _is_which_answer(msg: InboundMessage, ctx: Context) -> bool:
    if not (filters.TEXT & filters.PARENT)(msg, ctx) or len(msg.text.strip()) > 20:
        return False
    question = conversation.pending(ctx.session, ctx.actor.identity.id, MEDIA_WHICH, ctx.now)
    return question is not None and _chosen(msg.text, question.payload, ctx) is not None


def _chosen(text: str, payload: dict, ctx: Context) -> Ticket | None:
    found = _NUMBER.search(text.strip())
    if not found:
        return None
    wanted = found.group(0)
    for ticket in _parent_tickets(ctx):
        if ticket.id in payload.get("tickets", []) and (ticket.number == wanted or ticket.number.endswith(
                "-" + wanted.zfill(4))):
            return ticket
    return None


def _which_answer(msg: InboundMessage, ctx: Context) -> list[Reply]:
    question = conversation.pending(ctx.session, ctx.actor.identity.id, MEDIA_WHICH, ctx.now)
    assert question is not None
    ticket = _chosen(msg.text, question.payload, ctx)
    assert ticket is not None
    conversation.answered(ctx.session, ctx.actor.identity.id, MEDIA_WHICH)
    rows = media.by_ids(ctx.session, question.payload.get("attachments", []))
    return join(msg, ctx, ticket, [r for r in rows if r.ticket_id is None])


def register(registry: Registry) -> None:
    """Add the media handler (MEDIA) and the answer to 「这张图片是关于哪件事？」 (ANSWERS)."""
    registry.add(FuncHandler(_is_media, media_message, "media_message"), group=MEDIA)
    registry.add_answer({MEDIA_WHICH}, _is_which_answer, _which_answer, "media_which")
