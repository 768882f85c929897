"""The weekly home-visit reminder: each teacher gets the list of families still due."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from models import outbox, people
from models.directory import SchoolClass, Staff, Student
from models.visits import DueStudent, due_line, due_students

LIST_LIMIT = 30


def pair_unpaired(session: Session, school_id: int) -> int:
    """Give every unpaired student a responsible teacher (包靠 auto-balance); return how many."""
    from models.pairing import balance_responsibility

    class_ids = session.scalars(select(Student.class_id).where(
        Student.school_id == school_id, Student.active.is_(True), Student.responsible_staff_id.is_(None),
    ).distinct()).all()
    return sum(balance_responsibility(session, session.get(SchoolClass, cid)) for cid in class_ids)


def remind_visits(session: Session, settings: Settings, school_id: int, period: str, now: dt.datetime) -> int:
    """Send each teacher of a school the families still due this month; return messages queued.

    ``period`` (e.g. the ISO week) is part of every message's dedupe key, so
    a rerun of the same period sends nothing twice.
    """
    pair_unpaired(session, school_id)
    tz = ZoneInfo(settings.scheduler.timezone)
    due = due_students(session, now=now, tz=tz, care_days=settings.scheduler.care_visit_days, school_id=school_id)
    by_staff: dict[int, list[DueStudent]] = defaultdict(list)
    for d in due:
        if d.staff_id is not None:
            by_staff[d.staff_id].append(d)
    queued = 0
    for staff_id, items in sorted(by_staff.items()):
        staff = session.get(Staff, staff_id)
        if staff is None or not staff.active:
            continue
        text = reminder_text(staff, items, tz, settings.scheduler.care_visit_days)
        for recipient in people.staff_recipients(session, staff)[:1]:
            row = outbox.enqueue(session, recipient, text, now=now, audience="staff", title="家访提醒",
                                 ref=f"visits:{staff_id}", dedupe_key=f"visit-remind:{staff_id}:{period}")
            queued += row is not None
    return queued


def reminder_text(staff: Staff, items: list[DueStudent], tz: ZoneInfo, care_days: int) -> str:
    """Return the reminder for one teacher, special-care students first."""
    care = sum(1 for d in items if d.care)
    head = f"{staff.name}老师，本月还有 {len(items)} 名学生家庭待联系"
    head += f"，其中特殊关爱 {care} 名（★，每 {care_days} 天至少一次）：" if care else "："
    lines = [head, *(due_line(d, tz) for d in items[:LIST_LIMIT])]
    if len(items) > LIST_LIMIT:
        lines.append(f"……另有 {len(items) - LIST_LIMIT} 名，发送「家访名单」查看全部")
    lines.append(f"联系后请登记，例如：家访 {items[0].name} 电话 孩子作息规律")
    return "\n".join(lines)
