"""Parents' free text (group 50): classify, then praise, FAQ answer, or a ticket.

In a class group the bot only acknowledges (number, no content) and goes on
in private; chatter is left alone. Answers to the questions this module asks
(which child? 没解决) are handled in ``handlers.ticket_answers``.
"""

from __future__ import annotations

import datetime as dt

from bot.message import InboundMessage, Reply
from handlers import child_questions, classifier, media, notice_acks, ticket_answers
from handlers.children import named_child
from handlers.context import PARENT, Context
from handlers.registry import PARENT_MESSAGES, FuncHandler, Registry
from handlers.ticket_answers import FAQ_FOLLOWUP
from models import conversation, faq, labels, praise, review, routing, ticket_notify, ticket_service
from models.directory import Guardianship, School
from models.ticket_notify import Notice
from models.tickets import Ticket

URGENT_ADVICE = "如孩子正面临人身危险，请立即拨打 110（报警）或 120（急救），并电话联系学校。"
PRIVATE_ACK = "好的，收到。有需要反映的问题、求助或咨询，直接留言就行，我会转给负责老师。"


def notice_replies(notices: list[Notice]) -> list[Reply]:
    """Turn ticket notices into reply intents addressed to their recipients."""
    return [Reply(n.text, to=n.to, urgent=n.urgent, ref=n.ref) for n in notices]


def _is_parent_text(msg: InboundMessage, ctx: Context) -> bool:
    return msg.msgtype == "text" and PARENT in ctx.actor.roles and bool(msg.text.strip())


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
        entry = faq.match_faq(text, _school(ctx).code)
        if entry is not None:
            return _faq_answer(msg, ctx, text, entry)
    if len(pairs) > 1:
        named = named_child(text, list(ctx.actor.guardianships))
        if named is None or named not in pairs:
            return child_questions.ask(msg, ctx, text, pairs, child_questions.TICKET)
        pairs = [named]
    return create_from_text(msg, ctx, text, pairs[0] if pairs else None, ctx.inbound_id)


def _school(ctx: Context) -> School:
    """Return the parent's school (through their child)."""
    return ctx.actor.guardianships[0].student.school


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


def create_from_text(msg: InboundMessage, ctx: Context, text: str, gs: Guardianship | None,
                     inbound_id: int | None, in_group: bool | None = None) -> list[Reply]:
    """Open a ticket for a parent's message (or append it to the same open issue) and say so."""
    in_group = msg.is_group if in_group is None else in_group
    c = classifier.classify(text)
    session, identity = ctx.session, ctx.actor.identity
    school = _school(ctx)
    student = gs.student if gs else None
    school_class = student.school_class if student else (ctx.group.school_class if ctx.group else None)
    kind = c.kind if c.actionable else "inquiry"
    category = c.category or "other"
    original = category
    if c.confidence < ctx.settings.tickets.low_confidence and category != "teacher_conduct":
        category = "other"  # the head teacher triages it (改类 is stored for learning)
    about = None
    if original == "teacher_conduct":
        # a staff member is the subject only as the actor of a teacher_conduct matter: a teacher
        # greeted or addressed (「王老师，食堂的饭…」) is not the one complained of
        about = routing.named_staff(session, identity.school_id, text, school_class, role_words=True)
    urgency = c.urgency or "normal"
    flagged = c.review and urgency != "urgent"
    duplicate = ticket_service.find_duplicate(session, identity.id, category, student.id if student else None,
                                              ctx.now, ctx.settings.tickets.duplicate_hours, text=text)
    if duplicate is not None and urgency == "urgent" and duplicate.urgency != "urgent":
        duplicate = None  # an urgent message gets its own ticket: urgent deadlines and the leaders' alert
    if duplicate is not None and flagged and duplicate.urgency != "urgent" and not duplicate.needs_review:
        duplicate = None  # a possible danger gets its own ticket and its own safety review
    tz = ctx.settings.app.timezone
    if duplicate is not None:
        ctx.services["last_ticket"] = duplicate
        before = duplicate.kind
        ticket_service.append(session, duplicate, text, identity.id, ctx.now, kind=kind)
        raised = f"（已转为{labels.kind_name(duplicate.kind)}）" if duplicate.kind != before else ""
        notices = ticket_notify.to_staff(session, duplicate.assignee,
                                         f"【家长补充】{duplicate.number}{raised}：{text}", duplicate)
        return (_acks(duplicate, in_group, tz, appended=True) + notice_replies(notices)
                + media.join_waiting(msg, ctx, duplicate))
    ticket = ticket_service.open_ticket(
        session, school=school, kind=kind, category=category, urgency=urgency, text=text,
        now=ctx.now, tz=tz, identity_id=identity.id, guardianship=gs, student=student, school_class=school_class,
        confidence=c.confidence, original_category=original, about_staff=about, source_inbound_id=inbound_id,
        needs_review=flagged,
    )
    ctx.services["last_ticket"] = ticket
    from handlers.grid import auto_refer  # the 转属地 rule (handlers.grid imports this module's helpers)

    notices = ticket_notify.opened_notices(session, ticket, tz)
    if ticket.needs_review:
        notices += review.flag_notices(session, ticket, tz, ctx.settings.tickets.review_minutes)
    notices += auto_refer(ctx, ticket)
    return _acks(ticket, in_group, tz) + notice_replies(notices) + media.join_waiting(msg, ctx, ticket)


def _acks(ticket: Ticket, in_group: bool, tz: str, appended: bool = False) -> list[Reply]:
    """Acknowledge: in a group only the number; in private the details."""
    n = ticket.number
    if appended:
        detail = f"已收到，您的补充已并入编号 {n} 的反馈，负责老师会一并处理。发送「进度 {n}」查看进度。"
    else:
        owner = ticket_notify.signature(ticket.assignee) if ticket.assignee else "学校"
        detail = (f"已收到您的反馈，编号 {n}（{labels.category_name(ticket.category)}），已转交{owner}办理，"
                  f"将于 {ticket_notify.local(ticket.resolve_by, tz)} 前办结。发送「进度 {n}」随时查看进度。")
    urgent = ticket.urgency == "urgent"
    if urgent and not appended:
        detail += f"\n已按紧急事项处理，学校负责人已同时收到提醒。{URGENT_ADVICE}"
    elif ticket.needs_review and not appended:
        urgent = True  # the safety line is never held by quiet hours
        detail += f"\n已请值班老师立即查看。{URGENT_ADVICE}"
    if in_group:
        return [Reply(f"已收到，编号 {n}，处理进度会私信告知您", mention_sender=True, urgent=urgent),
                Reply(detail, private=True, urgent=urgent)]
    return [Reply(detail, urgent=urgent)]


def register(registry: Registry) -> None:
    """Add the parent-message handler (group 50) and the answers to its questions (group 10)."""
    registry.add(FuncHandler(_is_parent_text, parent_message, "parent_message"), group=PARENT_MESSAGES)
    child_questions.register(registry)
    ticket_answers.register(registry)
