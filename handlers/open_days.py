"""学校开放日 / 家长课程 by chat.

Leaders: ``设置开放日 日期 [时间] 范围 名额 [说明]`` (and ``设置家长课程``), announced as a notice.
Parents: ``报名开放日 [编号]``, ``取消报名 [编号]``, ``开放日反馈 编号 听课 秩序 建议``.
Head teachers and leaders: ``开放日名单 [编号]``, ``开放日签到 编号 学生姓名…``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.message import InboundMessage, Reply
from config.settings import Settings
from handlers.commands import Command, command
from handlers.context import HEAD_TEACHER, LEADER, PARENT, Context
from handlers.exceptions import Forbidden, HandlerError, UsageError
from handlers.reception import parse_when
from handlers.surveys import comment_ticket
from models import exports, open_day_notify, open_days, scope
from models.open_days import CONFIRMED, COURSE, OPEN_DAY, RATING_NAMES, OpenDayError
from models.reception import describe_slot
from models.tickets import Ticket

if TYPE_CHECKING:
    from sqlalchemy.orm import Session  # the type only: handlers run no SQL

LEADERS = frozenset({LEADER})
PARENTS = frozenset({PARENT})
TEACHERS = frozenset({HEAD_TEACHER, LEADER})
DEFAULT_TIME = dt.time(9, 0)


def _tz(ctx: Context) -> ZoneInfo:
    return ZoneInfo(ctx.settings.scheduler.timezone)


def _create(kind: str, command: Command, args: list[str], ctx: Context) -> list[Reply]:
    staff = ctx.actor.staff
    assert staff is not None
    day, clock, rest = parse_when(" ".join(args), ctx)
    parts = rest.split(maxsplit=2)
    if day is None or len(parts) < 2 or not parts[1].isdigit():
        raise UsageError(command)
    try:
        parsed = scope.resolve_scope(ctx.session, staff.school_id, parts[0])
    except scope.ScopeError as exc:
        raise UsageError(command, str(exc)) from exc
    starts = dt.datetime.combine(day, clock or DEFAULT_TIME, tzinfo=_tz(ctx)).astimezone(dt.UTC)
    try:
        event = open_days.create(ctx.session, school_id=staff.school_id, kind=kind, starts_at=starts,
                                 scope_label=parsed.label, class_ids=list(parsed.class_ids), seats=int(parts[1]),
                                 info=parts[2] if len(parts) > 2 else "", by_id=staff.id, now=ctx.now)
    except OpenDayError as exc:
        raise UsageError(command, exc.message) from exc
    copies = open_day_notify.announce(ctx.session, ctx.settings, event, staff, ctx.now)
    return [Reply(f"已发布{event.kind_name}（编号 {event.id}）：{describe_slot(starts, _tz(ctx))}，{parsed.label}，"
                  f"名额 {event.seats} 个。通知已发出 {copies} 份，家长可点链接或回复「报名开放日 {event.id}」报名。\n"
                  f"查看报名：开放日名单 {event.id}")]


@command("设置开放日", roles=LEADERS, args=(3, 6), rest=True, private=True)
def set_open_day(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Open an open day for some classes and announce it."""
    return _create(OPEN_DAY, set_open_day, args, ctx)


@command("设置家长课程", roles=LEADERS, args=(3, 6), rest=True, private=True)
def set_course(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Open a parent-school session (家长课程) and announce it."""
    return _create(COURSE, set_course, args, ctx)


def _event_for_parent(ctx: Context, args: list[str], command: Command) -> tuple[open_days.OpenDay, object]:
    """Return the event a parent means (by number, else the next one) and the child it is for."""
    kids = [g.student for g in ctx.actor.guardianships]
    if args and not args[0].lstrip("#").isdigit():
        raise UsageError(command, "编号应为数字，例如「报名开放日 3」。")
    events = open_days.upcoming_for_students(ctx.session, kids, ctx.now)
    if args:
        events = [e for e in events if e.id == int(args[0].lstrip("#"))]
    if not events:
        raise HandlerError("目前没有您孩子班级可报名的开放日或家长课程。" if not args else
                           f"没有找到您可报名的开放日 {args[0]}。")
    event = events[0]
    named = [k for k in kids if len(args) > 1 and k.name == args[1]]
    child = next((k for k in named or kids if k.class_id in event.class_ids), None)
    return event, child


@command("报名开放日", roles=PARENTS, args=(0, 2), private=True, aliases=("报名家长课程",))
def sign_up_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Sign the family up (or onto the waiting list)."""
    event, child = _event_for_parent(ctx, args, sign_up_command)
    try:
        signup = open_days.sign_up(ctx.session, event, child, ctx.actor.identity.id, "chat", ctx.now)
    except OpenDayError as exc:
        raise HandlerError(exc.message) from exc
    when = describe_slot(event.starts_at, _tz(ctx))
    if signup.state == CONFIRMED:
        text = f"已为{child.name}家庭报名{event.kind_name}：{when}。前一天会提醒您；不能参加请回复「取消报名 {event.id}」。"
    else:
        text = (f"{event.kind_name}（{when}）名额已满，已为您登记候补第 {open_days.waiting_position(ctx.session, signup)} "
                "位；有家长取消时按顺序递补并通知您。")
    return [Reply(text, private=True)]


@command("取消报名", roles=PARENTS, args=(0, 2), private=True)
def cancel_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Cancel the family's sign-up; the first waiting family moves up."""
    event, child = _event_for_parent(ctx, args, cancel_command)
    signup = open_days.signup_of(ctx.session, event, child.id) if child is not None else None
    if signup is None or signup.state == open_days.CANCELLED:
        return [Reply(f"您没有报名这次{event.kind_name}。", private=True)]
    moved = open_days.cancel(ctx.session, signup, ctx.now)
    if moved is not None:
        open_day_notify.moved_up(ctx.session, moved, _tz(ctx), ctx.now)
    return [Reply(f"已取消{child.name}家庭的{event.kind_name}报名。", private=True)]


def _staff_event(ctx: Context, text: str | None, command: Command) -> open_days.OpenDay:
    staff = ctx.actor.staff
    assert staff is not None
    if text is not None:
        if not text.lstrip("#").isdigit():
            raise UsageError(command, "编号应为数字。")
        event = open_days.get(ctx.session, int(text.lstrip("#")), staff.school_id)
        if event is None:
            raise HandlerError(f"没有找到开放日 {text}。")
        return event
    latest = open_days.latest_for_school(ctx.session, staff.school_id)
    if latest is None:
        raise HandlerError("本校还没有开放日或家长课程。")
    return latest


def _own_classes(ctx: Context) -> set[int] | None:
    staff = ctx.actor.staff
    assert staff is not None
    return None if LEADER in ctx.actor.roles else set(scope.headed_class_ids(ctx.session, staff.id))


@command("开放日名单", roles=TEACHERS, args=(0, 1), private=True, aliases=("家长课程名单",))
def list_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """List the sign-ups (head teachers: their own classes), with attendance and feedback."""
    event = _staff_event(ctx, args[0] if args else None, list_command)
    own = _own_classes(ctx)
    if own is not None and not own & set(event.class_ids):
        raise Forbidden(f"这次{event.kind_name}不涉及您任班主任的班级。")
    rows = open_days.roster(ctx.session, event, own)
    confirmed = [r for r in rows if r.state == CONFIRMED]
    lines = [f"{event.kind_name} {event.id}（{describe_slot(event.starts_at, _tz(ctx))}，{event.scope_label}）："
             f"已报名 {open_days.confirmed_count(ctx.session, event)}/{event.seats}"
             + ("（本班）" if own is not None else "")]
    for r in rows:
        mark = "✓到场 " if r.attended else ""
        feedback = f"｜反馈：{RATING_NAMES.get(r.lesson, '')}/{RATING_NAMES.get(r.order_rating, '')}" if r.feedback_at else ""
        state = "" if r.state == CONFIRMED else "（候补）"
        lines.append(f"· {mark}{r.student.school_class.name} {r.student.name}家长{state}{feedback}")
    if not rows:
        lines.append("暂无报名。")
    elif confirmed:
        lines.append(f"签到：开放日签到 {event.id} {confirmed[0].student.name} …")
    return [Reply("\n".join(lines), private=True)]


@command("开放日签到", roles=TEACHERS, args=2, rest=True, private=True, aliases=("家长课程签到",))
def attend_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Record which families came (by student name)."""
    event = _staff_event(ctx, args[0], attend_command)
    own = _own_classes(ctx)
    names = [n for n in args[1].replace("、", " ").replace("，", " ").split() if n]
    if own is not None:
        others = {s.student.name for s in event.signups if s.student.class_id not in own}
        if any(n in others for n in names):
            raise Forbidden("班主任只能为本班家庭签到。")
    marked, unknown = open_days.mark_attended(event, names)
    text = f"已签到 {len(marked)} 户：{'、'.join(marked) or '无'}。"
    if unknown:
        text += f"\n未找到正式报名的：{'、'.join(unknown)}。"
    return [Reply(text, private=True)]


@command("开放日反馈", roles=PARENTS, args=(3, 4), rest=True, private=True, aliases=("家长课程反馈",))
def feedback_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Store the three answers; an actionable suggestion becomes a ticket."""
    if not args[0].lstrip("#").isdigit():
        raise UsageError(feedback_command, "第一个参数是开放日编号。")
    lesson, order = open_days.parse_rating(args[1]), open_days.parse_rating(args[2])
    if lesson is None or order is None:
        raise UsageError(feedback_command, "前两题请回答「满意」「一般」或「不满意」。")
    student_ids = [g.student_id for g in ctx.actor.guardianships]
    asked = [s for s in open_days.asked_feedback(ctx.session, student_ids) if s.open_day_id == int(args[0].lstrip("#"))]
    if not asked:
        raise HandlerError(f"没有找到邀请您反馈的开放日 {args[0]}。")
    signup = asked[0]
    ticket = file_feedback(ctx.session, ctx.settings, signup, lesson, order, args[3] if len(args) > 3 else "",
                           ctx.now, ctx.actor.identity.id)
    lines = ["感谢您的反馈！"]
    if ticket is not None:
        lines.append(f"您的建议已转为编号 {ticket.number} 的反馈，学校会安排办理，发送「进度 {ticket.number}」查看。")
    return [Reply("\n".join(lines), private=True)]


@command("导出开放日", roles=LEADERS, args=(0, 1), private=True, aliases=("导出家长课程",))
def export_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Give a download link to the sign-up, attendance and feedback sheet of an event."""
    staff = ctx.actor.staff
    assert staff is not None
    event = _staff_event(ctx, args[0] if args else None, export_command)
    try:
        _, url = exports.create_download(ctx.session, staff, "open_day", ctx.settings, ctx.now, open_day_id=event.id)
    except exports.ExportError as exc:
        raise HandlerError(str(exc)) from exc
    minutes = ctx.settings.exports.link_ttl_minutes
    return [Reply(f"{event.kind_name}签到及反馈表已生成，请在 {minutes} 分钟内下载（仅限您本人使用，请勿转发）：\n{url}",
                  private=True)]


@command("取消开放日", roles=LEADERS, args=(1, 2), rest=True, private=True, aliases=("取消家长课程",))
def cancel_event_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Call an event off and tell the families signed up or waiting."""
    event = _staff_event(ctx, args[0], cancel_event_command)
    try:
        open_days.cancel_event(event, ctx.now)
    except OpenDayError as exc:
        raise HandlerError(exc.message) from exc
    told = open_day_notify.cancelled(ctx.session, event, args[1] if len(args) > 1 else "", _tz(ctx), ctx.now)
    return [Reply(f"已取消{event.kind_name} {event.id}，已通知 {told} 位报名或候补的家长。", private=True)]


def file_feedback(session: Session, settings: Settings, signup: open_days.OpenDaySignup, lesson: int, order: int,
                  suggestion: str, now: dt.datetime, identity_id: int | None) -> Ticket | None:
    """Save the three answers (chat or form); an actionable suggestion becomes a ticket, once per family."""
    open_days.save_feedback(signup, lesson, order, suggestion, now)
    if not suggestion.strip() or signup.ticket_number is not None:
        return None
    ticket = comment_ticket(session, settings, suggestion.strip(), f"{signup.open_day.kind_name}意见", signup.student,
                            now, identity_id or signup.identity_id, anonymous=False)
    if ticket is not None:
        signup.ticket_number = ticket.number
    return ticket
