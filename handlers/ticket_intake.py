"""Opening a ticket from a parent's message: the ticket (or the open one it joins), the notices, the acknowledgements.

Used by the parent-message handler (``handlers.tickets``), the answers that
settle which child a message is about (``handlers.child_questions``) and 没解决
after an FAQ answer (``handlers.ticket_answers``); it imports none of them.
"""

from __future__ import annotations

from typing import NamedTuple

from bot.message import InboundMessage, Reply
from handlers import classifier, media
from handlers.context import Context
from handlers.grid import auto_refer
from handlers.replies import notice_replies
from models import labels, review, routing, ticket_notify, ticket_service
from models.directory import Guardianship, School
from models.tickets import Ticket

URGENT_ADVICE = "如孩子正面临人身危险，请立即拨打 110（报警）或 120（急救），并电话联系学校。"


def school_of(ctx: Context) -> School:
    """Return the parent's school (through their child)."""
    return ctx.actor.guardianships[0].student.school


class Filed(NamedTuple):
    """What filing a parent's message did: the ticket it opened or joined, and what to say."""

    ticket: Ticket
    replies: list[Reply]


def create_from_text(msg: InboundMessage, ctx: Context, text: str, gs: Guardianship | None,
                     inbound_id: int | None, in_group: bool | None = None) -> Filed:
    """Open a ticket for a parent's message (or append it to the same open issue) and say so."""
    in_group = msg.is_group if in_group is None else in_group
    c = classifier.classify(text)
    session, identity = ctx.session, ctx.actor.identity
    school = school_of(ctx)
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
        before = duplicate.kind
        ticket_service.append(session, duplicate, text, identity.id, ctx.now, kind=kind)
        raised = f"（已转为{labels.kind_name(duplicate.kind)}）" if duplicate.kind != before else ""
        notices = ticket_notify.to_staff(session, duplicate.assignee,
                                         f"【家长补充】{duplicate.number}{raised}：{text}", duplicate)
        return Filed(duplicate, _acks(duplicate, in_group, tz, appended=True) + notice_replies(notices)
                     + media.join_waiting(msg, ctx, duplicate))
    ticket = ticket_service.open_ticket(
        session, school=school, kind=kind, category=category, urgency=urgency, text=text,
        now=ctx.now, tz=tz, identity_id=identity.id, guardianship=gs, student=student, school_class=school_class,
        confidence=c.confidence, original_category=original, about_staff=about, source_inbound_id=inbound_id,
        needs_review=flagged,
    )
    notices = ticket_notify.opened_notices(session, ticket, tz)
    if ticket.needs_review:
        notices += review.flag_notices(session, ticket, tz, ctx.settings.tickets.review_minutes)
    notices += auto_refer(ctx, ticket)
    return Filed(ticket, _acks(ticket, in_group, tz) + notice_replies(notices) + media.join_waiting(msg, ctx, ticket))


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
