"""校长接待日 by chat: leaders set the days and record meetings; parents book, list and cancel.

``设置接待日 每月第一个周一 14:00-17:00 [每场人数] [值班领导…]`` · ``接待日`` ·
``预约接待 [日期] [时间] [事由]`` · ``我的预约`` · ``取消预约 [编号]`` ·
``接待名单 [日期]`` · ``接待记录 预约编号 记录…`` (what the parent raised becomes tickets).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from bot.message import InboundMessage, Reply
from handlers._records import tickets_from_record
from handlers.commands import command
from handlers.context import EVERYONE, LEADER, PARENT, STRANGER, Context
from handlers.exceptions import HandlerError, UsageError
from handlers.time_expressions import parse_day
from models import labels, reception, reception_rules, routing, ticket_notify
from models.directory import Guardianship
from models.reception import ReceptionError, describe_slot

LEADERS = frozenset({LEADER})
PARENTS = frozenset({PARENT})
_MONTH_DAY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})(?=\s|$)")
_CLOCK = re.compile(r"^(\d{1,2})[:：](\d{2})(?=\s|$|[，,])")
FREE_SHOWN = 6


def _tz(ctx: Context) -> ZoneInfo:
    return ZoneInfo(ctx.settings.scheduler.timezone)


def _school_id(ctx: Context) -> int:
    return ctx.actor.staff.school_id if ctx.actor.staff is not None else ctx.actor.identity.school_id


def _schedule(ctx: Context) -> reception.ReceptionSchedule:
    schedule = reception.active_schedule(ctx.session, _school_id(ctx))
    if schedule is None:
        raise HandlerError("本校暂未开放校长接待日预约。如有问题，可直接发消息给我，学校会安排老师答复。")
    return schedule


@command("设置接待日", roles=LEADERS, args=(0, 12))
def set_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Set (or show, or close) the school's reception day."""
    staff = ctx.actor.staff
    assert staff is not None
    if not args:
        schedule = reception.active_schedule(ctx.session, staff.school_id)
        return [Reply(f"当前接待日：{schedule.label}" if schedule else "本校尚未设置接待日。\n用法："
                      f"{set_command.usage}")]
    if args[0] in ("关闭", "取消", "停止"):
        closed = reception.close_schedule(ctx.session, staff.school_id)
        return [Reply("已停止接待日预约（已有的预约保留）。" if closed else "本校尚未设置接待日。")]
    if len(args) < 2:
        raise UsageError(set_command)
    try:
        rule = reception_rules.parse_rule(args[0])
        starts, ends = reception_rules.parse_range(args[1])
    except reception_rules.RuleError as exc:
        raise UsageError(set_command, str(exc)) from exc
    rest = args[2:]
    slots = int(rest.pop(0)) if rest and rest[0].isdigit() else reception.DEFAULT_SLOTS
    rota = []
    for name in rest:
        found = routing.staff_by_name(ctx.session, staff.school_id, name)
        if found is None:
            raise UsageError(set_command, f"本校没有名为「{name}」的教职工。")
        rota.append(found)
    try:
        schedule = reception.set_schedule(ctx.session, staff.school_id, rule, starts, ends, slots, rota, staff, ctx.now)
    except ReceptionError as exc:
        raise UsageError(set_command, exc.message) from exc
    tz = _tz(ctx)
    days = reception.session_dates(schedule, ctx.now, tz)
    lines = [f"已设置校长接待日：{schedule.label}。"]
    if rota:
        lines.append("值班领导轮流：" + "、".join(s.name for s in rota))
    lines.append("近期接待日：" + "、".join(f"{d.month}月{d.day}日" for d in days) if days else "近期没有接待日。")
    lines.append("家长发送「预约接待 [日期] [事由]」即可预约；前一天提醒家长，当天早上把名单发给接待领导。")
    return [Reply("\n".join(lines))]


@command("接待日", roles=EVERYONE - {STRANGER})
def info_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Show the reception day and the free slots of the next sessions."""
    schedule, tz = _schedule(ctx), _tz(ctx)
    lines = [f"校长接待日：{schedule.label}"]
    for day in reception.session_dates(schedule, ctx.now, tz):
        free = reception.free_slots(ctx.session, schedule, day, tz, ctx.now)
        lines.append(f"· {day.month}月{day.day}日：空闲 {len(free)}/{schedule.slots}")
    lines.append("预约：预约接待 [日期] [事由]，例如「预约接待 孩子近视想调座位」")
    return [Reply("\n".join(lines))]


def parse_when(text: str, ctx: Context) -> tuple[dt.date | None, dt.time | None, str]:
    """Split 12月7日 14:30 事由 (date and time both optional) into its parts."""
    tz_name = ctx.settings.scheduler.timezone
    day, rest = None, text.strip()
    match = _MONTH_DAY.match(rest)
    if match:
        local = ctx.now.astimezone(_tz(ctx)).date()
        try:
            day = dt.date(local.year, int(match.group(1)), int(match.group(2)))
        except ValueError:
            day = None
        if day is not None and day < local:
            day = day.replace(year=local.year + 1)
        rest = rest[match.end():].strip()
    else:
        found = parse_day(rest, ctx.now, tz_name)
        if found is not None:
            day, rest = found[0], rest[found[1]:].strip()
    clock = None
    match = _CLOCK.match(rest)
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        clock, rest = dt.time(int(match.group(1)), int(match.group(2))), rest[match.end():].strip(" ，,")
    return day, clock, rest


def _child(ctx: Context, reason: str) -> Guardianship | None:
    kids = ctx.actor.guardianships
    named = [g for g in kids if g.student.name in reason]
    return (named or kids or [None])[0]


@command("预约接待", roles=PARENTS, args=(0, 2), rest=True, private=True, aliases=("预约校长接待",))
def book_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Book the first free slot (of a date, or at a time, when given)."""
    schedule, tz = _schedule(ctx), _tz(ctx)
    day, clock, reason = parse_when(" ".join(args), ctx)
    days = reception.session_dates(schedule, ctx.now, tz, count=4)
    if day is not None and not reception.is_session_day(schedule, day, ctx.now, tz):
        listed = "、".join(f"{d.month}月{d.day}日" for d in days)
        raise HandlerError(f"{day.month}月{day.day}日不是接待日。近期接待日：{listed or '暂无'}。")
    slot, free = None, []
    for candidate in [day] if day is not None else days:
        free = reception.free_slots(ctx.session, schedule, candidate, tz, ctx.now)
        if clock is not None:
            wanted = [s for s in free if s.astimezone(tz).time() == clock]
            if not wanted:
                times = "、".join(f"{s.astimezone(tz):%H:%M}" for s in free[:FREE_SHOWN]) or "无"
                raise HandlerError(f"{candidate.month}月{candidate.day}日 {clock:%H:%M} 不可预约。该日空闲时段：{times}。")
            slot = wanted[0]
        elif free:
            slot = free[0]
        if slot is not None:
            break
    if slot is None:
        raise HandlerError("近期接待日已约满。可以直接发消息反映问题，学校会安排老师答复；或下次接待日再预约。")
    try:
        booking = reception.book(ctx.session, schedule, ctx.actor.identity, _child(ctx, reason), slot, reason,
                                 ctx.now, tz)
    except ReceptionError as exc:
        raise HandlerError(exc.message) from exc
    lines = [f"已为您预约校长接待日：{describe_slot(slot, tz)}（预约编号 {booking.id}）。"]
    lines.append(f"事由：{reason}" if reason else "到校后可当面反映您关心的问题。")
    others = [s for s in free if s != slot][:FREE_SHOWN]
    if others:
        lines.append("当天其他空闲时段：" + "、".join(f"{s.astimezone(tz):%H:%M}" for s in others))
    lines.append("前一天会提醒您。改时间请先「取消预约」，再发送「预约接待 日期 时间 事由」。")
    return [Reply("\n".join(lines), private=True)]


@command("我的预约", roles=PARENTS, private=True)
def mine_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """List the person's upcoming bookings."""
    tz = _tz(ctx)
    bookings = reception.upcoming_for(ctx.session, ctx.actor.identity.id, ctx.now)
    if not bookings:
        return [Reply("您目前没有校长接待日预约。发送「预约接待 [日期] [事由]」预约。", private=True)]
    lines = ["您的接待日预约："]
    lines += [f"· {b.id}：{describe_slot(b.slot_at, tz)}" + (f"｜{b.reason}" if b.reason else "") for b in bookings]
    lines.append("取消请发送「取消预约 编号」。")
    return [Reply("\n".join(lines), private=True)]


@command("取消预约", roles=PARENTS, args=(0, 1), private=True)
def cancel_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Cancel one of the person's bookings (the only one when no number is given)."""
    bookings = reception.upcoming_for(ctx.session, ctx.actor.identity.id, ctx.now)
    if args:
        if not args[0].lstrip("#").isdigit():
            raise UsageError(cancel_command, "预约编号应为数字。")
        chosen = [b for b in bookings if b.id == int(args[0].lstrip("#"))]
        if not chosen:
            raise HandlerError(f"没有找到您的预约 {args[0]}。发送「我的预约」查看。")
    elif len(bookings) > 1:
        raise UsageError(cancel_command, "您有多个预约，请写明要取消的预约编号（发送「我的预约」查看）。")
    else:
        chosen = bookings
    if not chosen:
        return [Reply("您目前没有可取消的接待日预约。", private=True)]
    reception.cancel(chosen[0], ctx.now)
    return [Reply(f"已取消预约 {chosen[0].id}（{describe_slot(chosen[0].slot_at, _tz(ctx))}），时段已留给其他家长。",
                  private=True)]


@command("接待名单", roles=LEADERS, args=(0, 1), private=True)
def list_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Show a session's bookings (the next session by default)."""
    staff, tz = ctx.actor.staff, _tz(ctx)
    assert staff is not None
    if args:
        day, _, rest = parse_when(args[0], ctx)
        if day is None or rest:
            raise UsageError(list_command, "日期格式例如 12月7日、12-07 或 下周一。")
    else:
        schedule = _schedule(ctx)
        days = reception.session_dates(schedule, ctx.now, tz, count=1)
        if not days:
            return [Reply("近期没有接待日。", private=True)]
        day = days[0]
    from models.reception_notify import list_text

    schedule = reception.active_schedule(ctx.session, staff.school_id)
    host = reception.host_for(ctx.session, schedule, day) if schedule else None
    text = list_text(reception.day_bookings(ctx.session, staff.school_id, day, tz), day, host.name if host else None,
                     tz)
    return [Reply(text.replace("今日校长接待日", "校长接待日", 1), private=True)]


@command("接待记录", roles=LEADERS, args=2, rest=True, private=True, aliases=("接待登记",))
def record_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Record a meeting; what the parent raised (家长反映…, 家长希望…) becomes tickets."""
    staff = ctx.actor.staff
    assert staff is not None
    booking = reception.school_booking(ctx.session, staff.school_id, args[0])
    if booking is None:
        raise UsageError(record_command, f"没有找到预约「{args[0]}」。发送「接待名单」查看预约编号。")
    try:
        reception.record(booking, staff, args[1], ctx.now)
    except ReceptionError as exc:
        raise HandlerError(exc.message) from exc
    tickets = tickets_from_record(ctx, staff=staff, student=booking.student, notes=args[1], action="from_reception",
                                  data={"booking_id": booking.id}, identity_id=booking.identity_id,
                                  guardianship=booking.guardianship)
    reception.add_tickets(booking, [t.number for t in tickets])
    tz_name = ctx.settings.app.timezone
    told = [notice for t in tickets for notice in ticket_notify.to_parent(
        ctx.session, t, f"您在校长接待日反映的问题已登记，编号 {t.number}（{labels.category_name(t.category)}），"
                        f"将于 {ticket_notify.local(t.resolve_by, tz_name)} 前办结，办结后会向您回访。"
                        f"发送「进度 {t.number}」随时查看。")]
    lines = [f"已登记接待记录：预约 {booking.id}，{booking.visitor}。"]
    if tickets:
        lines.append(f"家长反映的 {len(tickets)} 件事已转为工单（以家长名义，按期办结后向家长回访）：")
        lines += [f"· {t.number}｜{t.assignee.name if t.assignee else '待分派'}｜{t.text[:30]}" for t in tickets]
    else:
        lines.append("记录中没有需要办理的家长诉求（写成「家长反映……」「家长希望……」即会转为工单）。")
    return [Reply("\n".join(lines), private=True)] + [Reply(n.text, to=n.to, ref=n.ref) for n in told]
