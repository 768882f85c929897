"""Acknowledgements of notices (已阅), per-class statistics and the reminder sweep.

A family (one student, whichever guardian answers) acknowledges a notice once:
through its confirm link, a private 收到/已阅/👍, or an @-mention of the bot
saying 收到 in the class group. Chat replies count only within
``notices.ack_window_hours`` of sending; the link counts until it expires.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from config.settings import Settings
from models import outbox, people
from models.base import Base, utcnow
from models.class_order import sort_classes
from models.directory import SchoolClass, Student
from models.notices import Notice, NoticeDelivery, NoticeStatus, target_students

VIA_NAMES = {"link": "确认链接", "private": "私聊回复", "group": "群内回复"}


class NoticeAck(Base):
    """One family's acknowledgement of one notice."""

    __tablename__ = "notice_acks"
    __table_args__ = (UniqueConstraint("notice_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    via: Mapped[str] = mapped_column(String(10))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    acked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def record_ack(session: Session, notice: Notice, student_id: int, via: str, now: dt.datetime,
               identity_id: int | None = None) -> bool:
    """Record a family's acknowledgement; return False if it had acknowledged already."""
    if is_acked(session, notice.id, student_id):
        return False
    try:
        with session.begin_nested():
            session.add(NoticeAck(notice_id=notice.id, student_id=student_id, via=via,
                                  identity_id=identity_id, acked_at=now))
    except IntegrityError:  # a concurrent click on the same link
        return False
    return True


def is_acked(session: Session, notice_id: int, student_id: int) -> bool:
    """Return whether the family acknowledged the notice."""
    return session.scalar(select(NoticeAck.id).where(
        NoticeAck.notice_id == notice_id, NoticeAck.student_id == student_id)) is not None


def open_notice_for(session: Session, student: Student, settings: Settings, now: dt.datetime,
                    ) -> tuple[Notice | None, bool]:
    """Return the family's latest notice still in its chat window and whether it is acknowledged.

    The latest unacknowledged one wins over an acknowledged newer one, so a
    second 收到 after two notices acknowledges the older one too.
    """
    since = now - dt.timedelta(hours=settings.notices.ack_window_hours)
    candidates = session.scalars(select(Notice).where(
        Notice.school_id == student.school_id, Notice.status == NoticeStatus.SENT,
        Notice.sent_at >= since, Notice.sent_at <= now).order_by(Notice.sent_at.desc(), Notice.id.desc())).all()
    mine = [n for n in candidates if student.class_id in n.class_ids]
    for notice in mine:
        if not is_acked(session, notice.id, student.id):
            return notice, False
    return (mine[0], True) if mine else (None, False)


def ack_from_chat(session: Session, students: Iterable[Student], via: str, settings: Settings,
                  now: dt.datetime, identity_id: int | None) -> tuple[list[Notice], list[Notice]]:
    """Acknowledge each family's open notice from a chat reply.

    Returns:
        (notices newly acknowledged, notices that were acknowledged already).
    """
    new: list[Notice] = []
    old: list[Notice] = []
    for student in students:
        notice, acked = open_notice_for(session, student, settings, now)
        if notice is None:
            continue
        if acked or not record_ack(session, notice, student.id, via, now, identity_id):
            old.append(notice)
        else:
            new.append(notice)
    return new, old


@dataclasses.dataclass(frozen=True)
class ClassStat:
    """A class's figures for one notice."""

    class_id: int
    class_name: str
    families: int
    delivered: int
    acked: int
    groups_sent: int
    groups: int
    pending: tuple[str, ...]  # students whose families have not acknowledged

    @property
    def not_yet(self) -> int:
        """Return how many families have not acknowledged."""
        return self.families - self.acked


def notice_stats(session: Session, notice: Notice) -> list[ClassStat]:
    """Return delivered / acknowledged / not yet per class, in roster order."""
    acked = set(session.scalars(select(NoticeAck.student_id).where(NoticeAck.notice_id == notice.id)))
    deliveries = session.scalars(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice.id)).all()
    delivered = {d.student_id for d in deliveries if d.kind == "family" and d.status == outbox.OutboxStatus.SENT}
    stats = []
    students = target_students(session, notice.class_ids)
    for school_class in _classes(session, notice.class_ids):
        mine = [s for s in students if s.class_id == school_class.id]
        groups = [d for d in deliveries if d.kind == "group" and d.class_id == school_class.id]
        stats.append(ClassStat(
            school_class.id, school_class.name, len(mine), sum(s.id in delivered for s in mine),
            sum(s.id in acked for s in mine), sum(d.status == outbox.OutboxStatus.SENT for d in groups),
            len(groups), tuple(s.name for s in mine if s.id not in acked)))
    return stats


def _classes(session: Session, class_ids: list[int]) -> list[SchoolClass]:
    return sort_classes(session.scalars(select(SchoolClass).where(SchoolClass.id.in_(class_ids))))


def remind_unacknowledged(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Tell head teachers which families have not acknowledged an important notice; return messages queued.

    Runs once per notice, ``notices.reminder_after_hours`` after sending.
    """
    cutoff = now - dt.timedelta(hours=settings.notices.reminder_after_hours)
    due = session.scalars(select(Notice).where(
        Notice.status == NoticeStatus.SENT, Notice.important.is_(True), Notice.reminded_at.is_(None),
        Notice.sent_at <= cutoff).order_by(Notice.id)).all()
    queued = 0
    for notice in due:
        for stat in notice_stats(session, notice):
            school_class = session.get(SchoolClass, stat.class_id)
            if not stat.pending or school_class is None or school_class.head_teacher is None:
                continue
            text = (f"重要通知（编号 {notice.id}）：{_excerpt(notice.text)}\n"
                    f"{stat.class_name} 已确认 {stat.acked}/{stat.families} 户，以下家庭尚未确认，请提醒：\n"
                    + "、".join(f"{name}家长" for name in stat.pending))
            for recipient in people.staff_recipients(session, school_class.head_teacher)[:1]:
                row = outbox.enqueue(session, recipient, text, now=now, audience="staff", title="通知未读提醒",
                                     ref=f"notice:{notice.id}",
                                     dedupe_key=f"notice:{notice.id}:remind:{stat.class_id}")
                queued += row is not None
        notice.reminded_at = now
    session.flush()
    return queued


def _excerpt(text: str, length: int = 30) -> str:
    return text if len(text) <= length else text[:length] + "…"


@dataclasses.dataclass(frozen=True)
class NoticeView:
    """What a family's confirm page shows."""

    notice: Notice
    student: Student
    acked: bool


def notice_view(session: Session, notice_id: int, student_id: int) -> NoticeView | None:
    """Return the confirm page of a family's copy, or None if the notice or student is gone."""
    notice = session.get(Notice, notice_id)
    student = session.get(Student, student_id)
    if notice is None or student is None or notice.status != NoticeStatus.SENT:
        return None
    if student.class_id not in notice.class_ids:
        return None
    return NoticeView(notice, student, is_acked(session, notice.id, student.id))
