"""Reception-day messages: the parent's reminder the day before, the reception group's morning list.

One idempotent sweep (``scheduler.jobs.reception_sweep``) does both. The
reminder goes out from ``reception_reminder_time`` the day before (or at
once for a booking made later that day); the sender holds it through the
parent's quiet hours like every other parent message. The morning list goes
to the day's reception group from ``reception_list_time``; dedupe keys make
a rerun send nothing twice.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from models import outbox, people, reception
from models.reception import BOOKED, ReceptionBooking, ReceptionSchedule, describe_slot


def reminder_text(booking: ReceptionBooking, school_name: str, tz: ZoneInfo) -> str:
    """Return the parent's reminder."""
    lines = [f"温馨提醒：您预约了明天的校长接待日，时间 {describe_slot(booking.slot_at, tz)}，地点：{school_name}。"]
    if booking.reason:
        lines.append(f"事由：{booking.reason}")
    lines.append(f"请准时到校（预约编号 {booking.id}）；不能来请发送「取消预约」，把时段留给其他家长。")
    return "\n".join(lines)


def send_reminders(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Queue the day-before reminder of every booking for tomorrow not yet reminded; return how many."""
    tz = ZoneInfo(settings.scheduler.timezone)
    local = now.astimezone(tz)
    if local.time() < settings.scheduler.reception_reminder_time:
        return 0
    start = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    due = session.scalars(select(ReceptionBooking).where(
        ReceptionBooking.state == BOOKED, ReceptionBooking.reminded_at.is_(None),
        ReceptionBooking.slot_at >= start, ReceptionBooking.slot_at < start + dt.timedelta(days=1))
        .order_by(ReceptionBooking.id)).all()
    queued = 0
    for booking in due:
        booking.reminded_at = now
        recipient = people.identity_recipient(booking.identity)
        text = reminder_text(booking, people.school_name(session, booking.school_id), tz)
        queued += outbox.enqueue(session, recipient, text, now=now, title="接待日提醒", ref=f"reception:{booking.id}",
                                 dedupe_key=f"reception-remind:{booking.id}") is not None
    return queued


def list_text(bookings: list[ReceptionBooking], day: dt.date, host_name: str | None, tz: ZoneInfo) -> str:
    """Return the day's list for the reception group."""
    head = f"今日校长接待日（{day.month}月{day.day}日）"
    head += f"，值班领导：{host_name}" if host_name else ""
    if not bookings:
        return head + "：暂无家长预约。"
    lines = [f"{head}，共 {len(bookings)} 位家长预约："]
    for b in bookings:
        reason = f"｜{b.reason}" if b.reason else ""
        lines.append(f"· {b.slot_at.astimezone(tz):%H:%M} {b.visitor}{reason}（编号 {b.id}）")
    lines.append(f"接待后请登记：接待记录 {bookings[0].id} 家长反映……，家长希望……（所反映问题将转为工单）")
    return "\n".join(lines)


def send_day_lists(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Send each school holding a session today its list (once per person and day); return messages queued."""
    tz = ZoneInfo(settings.scheduler.timezone)
    local = now.astimezone(tz)
    if local.time() < settings.scheduler.reception_list_time:
        return 0
    queued = 0
    for schedule in session.scalars(select(ReceptionSchedule).where(ReceptionSchedule.active.is_(True))):
        if local.date() not in reception.session_dates(schedule, now, tz, count=1):
            continue
        host = reception.host_for(session, schedule, local.date())
        text = list_text(reception.day_bookings(session, schedule.school_id, local.date(), tz), local.date(),
                         host.name if host else None, tz)
        for staff in reception.reception_group(session, schedule.school_id, host):
            for recipient in people.staff_recipients(session, staff)[:1]:
                queued += outbox.enqueue(
                    session, recipient, text, now=now, audience="staff", title="今日接待名单",
                    ref=f"reception-day:{schedule.school_id}",
                    dedupe_key=f"reception-list:{schedule.school_id}:{local.date()}:{staff.id}") is not None
    return queued


def reception_sweep(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Run the reception messages and the open days' (reminders, feedback requests); return how many were queued."""
    from models.open_day_notify import open_day_sweep

    return send_reminders(session, settings, now) + send_day_lists(session, settings, now) + open_day_sweep(
        session, settings, now)
