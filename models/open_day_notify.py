"""Open-day messages: the announcement (a notice), seat moved up, reminder the day before, feedback request."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from models import links, notices, open_days, outbox, people
from models.directory import Staff
from models.open_days import CONFIRMED, QUESTIONS, OpenDay, OpenDaySignup
from models.reception import describe_slot
from models.scope import Scope

FEEDBACK_AFTER = dt.timedelta(hours=2)  # the event is over: ask the three questions


def announce(session: Session, settings: Settings, day: OpenDay, author: Staff, now: dt.datetime) -> int:
    """Send the event as a notice (class groups and each family's personal link); return copies queued."""
    tz = ZoneInfo(settings.scheduler.timezone)
    text = (f"【{day.kind_name}】{describe_slot(day.starts_at, tz)}，{day.scope_label}，名额 {day.seats} 个。"
            + (f"\n{day.info}" if day.info else "")
            + f"\n报名：打开下方链接点「报名」，或私聊我回复「报名开放日 {day.id}」；满员后进入候补，有人取消即依次递补。")
    notice = notices.draft_notice(session, school_id=day.school_id, author=author,
                                  scope=Scope(day.scope_label, tuple(day.class_ids)), text=text, important=False,
                                  scheduled_for=None, now=now)
    day.notice_id = notice.id
    return notices.deliver_notice(session, notice, settings, now)


def _to_family(session: Session, signup: OpenDaySignup, text: str, title: str, key: str, now: dt.datetime) -> int:
    queued = 0
    for _, recipient in people.guardian_recipients(session, signup.student):
        queued += outbox.enqueue(session, recipient, text, now=now, title=title, ref=f"open-day:{signup.open_day_id}",
                                 dedupe_key=f"{key}:{signup.id}:{recipient.identity_id}") is not None
    return queued


def moved_up(session: Session, signup: OpenDaySignup, tz: ZoneInfo, now: dt.datetime) -> int:
    """Tell a waiting family a seat is theirs."""
    day = signup.open_day
    text = (f"{signup.student.name}家长您好：{day.kind_name}（{describe_slot(day.starts_at, tz)}）有家长取消，"
            f"您已从候补转为正式报名。不能参加请回复「取消报名 {day.id}」。")
    return _to_family(session, signup, text, day.kind_name, "open-day-up", now)


def cancelled(session: Session, day: OpenDay, reason: str, tz: ZoneInfo, now: dt.datetime) -> int:
    """Tell every family signed up or waiting that the event is cancelled; return messages queued."""
    queued = 0
    for signup in open_days.roster(session, day):
        text = (f"{signup.student.name}家长您好：原定 {describe_slot(day.starts_at, tz)} 的{day.kind_name}取消了"
                + (f"（{reason}）" if reason else "") + "。给您带来不便，敬请谅解。")
        queued += _to_family(session, signup, text, day.kind_name, "open-day-cancel", now)
    return queued


def send_reminders(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Remind every confirmed family the day before (from ``reception_reminder_time``); return how many."""
    tz = ZoneInfo(settings.scheduler.timezone)
    local = now.astimezone(tz)
    if local.time() < settings.scheduler.reception_reminder_time:
        return 0
    start = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    rows = session.scalars(select(OpenDaySignup).join(OpenDay).where(
        OpenDay.cancelled.is_(False), OpenDay.starts_at >= start, OpenDay.starts_at < start + dt.timedelta(days=1),
        OpenDaySignup.state == CONFIRMED, OpenDaySignup.reminded_at.is_(None))).all()
    queued = 0
    for signup in rows:
        signup.reminded_at = now
        day = signup.open_day
        text = (f"温馨提醒：{signup.student.name}家长，您报名了明天的{day.kind_name}：{describe_slot(day.starts_at, tz)}"
                + (f"，{day.info}" if day.info else "") + f"。不能参加请回复「取消报名 {day.id}」，把名额留给候补家长。")
        queued += _to_family(session, signup, text, f"{day.kind_name}提醒", "open-day-remind", now)
    return queued


def feedback_url(settings: Settings, signup: OpenDaySignup, now: dt.datetime) -> str:
    """Return a family's personal link to the three-question form."""
    expires = now + dt.timedelta(days=settings.notices.link_ttl_days)
    token = links.make_token(settings.app.secret_key, "openday", {"u": signup.id}, expires)
    return links.absolute_url(settings.app.base_url, "o", token)


def feedback_text(signup: OpenDaySignup, url: str) -> str:
    """Return the three-question feedback request."""
    day = signup.open_day
    lines = [f"{signup.student.name}家长，感谢您参加{day.kind_name}！请花一分钟回答三个问题："]
    lines += [f"{n}. {q}" for n, q in enumerate(QUESTIONS, 1)]
    lines.append(f"点击填写：{url}")
    lines.append(f"或直接回复，例如：开放日反馈 {day.id} 满意 一般 希望多开放体育课")
    return "\n".join(lines)


def send_feedback_requests(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Ask the attendees of every event that ended for their feedback (once); return messages queued."""
    days = session.scalars(select(OpenDay).where(
        OpenDay.cancelled.is_(False), OpenDay.feedback_sent_at.is_(None), OpenDay.starts_at <= now - FEEDBACK_AFTER,
        OpenDay.starts_at > now - dt.timedelta(days=7))).all()
    queued = 0
    for day in days:
        day.feedback_sent_at = now
        for signup in open_days.feedback_due(day):
            signup.feedback_asked_at = now
            text = feedback_text(signup, feedback_url(settings, signup, now))
            queued += _to_family(session, signup, text, f"{day.kind_name}反馈", "open-day-feedback", now)
    return queued


def open_day_sweep(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Run the reminders and feedback requests; return messages queued."""
    return send_reminders(session, settings, now) + send_feedback_requests(session, settings, now)
