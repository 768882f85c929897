"""Notices (通知) from principals, directors and head teachers, and their delivery.

A notice is drafted with a preview (``draft``), confirmed (sent now, or
``scheduled`` for the scheduler's ``send_due_notices``) or cancelled. Sending
writes one outbox row per class group and, when ``notices.private_copy`` is
on, one per bound guardian identity, each family's copy carrying its own
signed confirm link. ``NoticeDelivery`` links every copy to its outbox row, so
delivery status is the outbox's. Acknowledgements live in ``notice_acks``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from bot.message import Recipient
from config.settings import Settings
from models import links, media, outbox, people
from models.base import Base, utcnow
from models.directory import Guardianship, SchoolClass, Staff, Student
from models.identity import ChatGroup, IdentityBinding
from models.scope import Scope


class NoticeStatus(enum.StrEnum):
    """Where a notice stands."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENT = "sent"
    CANCELLED = "cancelled"


class Notice(Base):
    """One notice to one or more classes."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    scope_label: Mapped[str] = mapped_column(String(200))
    class_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text)
    important: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default=NoticeStatus.DRAFT, index=True)
    scheduled_for: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    reminded_at: Mapped[dt.datetime | None]

    author: Mapped[Staff] = relationship()
    deliveries: Mapped[list[NoticeDelivery]] = relationship(back_populates="notice", cascade="all, delete-orphan")


class NoticeDelivery(Base):
    """One copy of a notice: to a class group (``group``) or a guardian identity (``family``)."""

    __tablename__ = "notice_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), index=True)
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))

    notice: Mapped[Notice] = relationship(back_populates="deliveries")
    message: Mapped[outbox.OutboxMessage | None] = relationship()

    @property
    def status(self) -> str:
        """Return the outbox status of this copy (``pending``, ``sent``, ``failed``)."""
        return self.message.status if self.message is not None else "failed"


@dataclasses.dataclass(frozen=True)
class Reach:
    """Who a notice will reach: class groups, families, families with a bound guardian."""

    classes: int
    groups: int
    families: int
    bound_families: int


def target_students(session: Session, class_ids: list[int]) -> list[Student]:
    """Return the active students of the classes (one per family), in roster order."""
    if not class_ids:
        return []
    return list(session.scalars(select(Student).where(
        Student.class_id.in_(class_ids), Student.active.is_(True)).order_by(Student.class_id, Student.id)))


def reach(session: Session, class_ids: list[int]) -> Reach:
    """Count what a notice to these classes would reach."""
    groups = session.scalar(select(func.count(ChatGroup.id)).where(ChatGroup.class_id.in_(class_ids))) or 0
    students = target_students(session, class_ids)
    bound = set(session.scalars(
        select(Guardianship.student_id).join(IdentityBinding, IdentityBinding.guardianship_id == Guardianship.id)
        .where(Guardianship.student_id.in_([s.id for s in students]))))
    return Reach(len(class_ids), groups, len(students), len(bound))


def draft_notice(session: Session, *, school_id: int, author: Staff, scope: Scope, text: str,
                 important: bool, scheduled_for: dt.datetime | None, now: dt.datetime) -> Notice:
    """Create a notice awaiting 确认发送."""
    notice = Notice(school_id=school_id, author_id=author.id, scope_label=scope.label,
                    class_ids=list(scope.class_ids), text=text, important=important,
                    scheduled_for=scheduled_for, created_at=now)
    session.add(notice)
    session.flush()
    return notice


def confirm_notice(session: Session, notice: Notice, settings: Settings, now: dt.datetime) -> int:
    """Send a draft now, or queue it when it has a future time; return copies queued (0 if scheduled)."""
    if notice.status != NoticeStatus.DRAFT:
        return 0
    if notice.scheduled_for is not None and notice.scheduled_for > now:
        notice.status = NoticeStatus.SCHEDULED
        session.flush()
        return 0
    return deliver_notice(session, notice, settings, now)


def cancel_notice(session: Session, notice: Notice) -> bool:
    """Cancel a draft or scheduled notice; return whether it was still cancellable."""
    if notice.status not in (NoticeStatus.DRAFT, NoticeStatus.SCHEDULED):
        return False
    notice.status = NoticeStatus.CANCELLED
    session.flush()
    return True


def confirm_url(settings: Settings, notice: Notice, student_id: int, now: dt.datetime) -> str:
    """Return a family's personal confirm link for a notice."""
    expires = now + dt.timedelta(days=settings.notices.link_ttl_days)
    token = links.make_token(settings.app.secret_key, "notice", {"n": notice.id, "s": student_id}, expires)
    return links.absolute_url(settings.app.base_url, "n", token)


def deliver_notice(session: Session, notice: Notice, settings: Settings, now: dt.datetime) -> int:
    """Queue every copy of a notice and mark it sent; return the number of copies queued.

    Dedupe keys make a second call (a retried job) queue nothing new.
    """
    author = notice.author
    signature = f"—— {author.name}{author.role_name}"
    bot = settings.simulator.bot_name
    ref = f"notice:{notice.id}"
    queued = 0
    files = media.of_notice(session, notice.id)
    classes = session.scalars(select(SchoolClass).where(SchoolClass.id.in_(notice.class_ids))).all()
    for school_class in classes:
        group_text = (f"{notice.text}\n{signature}\n"
                      f"家长请点私聊中的确认链接，或在群里 @{bot} 回复「收到」。")
        for recipient in people.class_groups(session, school_class):
            row = outbox.enqueue(session, recipient, group_text, now=now, title=_title(notice), ref=ref,
                                 dedupe_key=f"{ref}:g:{recipient.platform}:{recipient.address}")
            queued += _record(session, notice, school_class.id, row, kind="group")
            _queue_attachments(session, settings, notice, recipient, files, f"{ref}:g:{recipient.address}", now)
    if settings.notices.private_copy:
        for student in target_students(session, notice.class_ids):
            url = confirm_url(settings, notice, student.id, now)
            for guardianship, recipient in people.guardian_recipients(session, student):
                text = (f"{guardianship.display_name}您好：\n{notice.text}\n{signature}\n"
                        f"请点击确认已阅读：{url}\n（也可直接回复「收到」）")
                row = outbox.enqueue(session, recipient, text, now=now, title=_title(notice), ref=ref,
                                     dedupe_key=f"{ref}:f:{student.id}:{recipient.identity_id}")
                queued += _record(session, notice, student.class_id, row, kind="family",
                                  student_id=student.id, identity_id=recipient.identity_id)
                _queue_attachments(session, settings, notice, recipient, files,
                                   f"{ref}:f:{student.id}:{recipient.identity_id}", now)
    notice.status, notice.sent_at = NoticeStatus.SENT, notice.sent_at or now
    session.flush()
    return queued


def _queue_attachments(session: Session, settings: Settings, notice: Notice, recipient: Recipient,
                       files: list[media.Attachment], key: str, now: dt.datetime) -> None:
    """Queue one message per attachment after a copy of the notice.

    The row's text names the file and carries a signed link (every platform
    can show that); ``context.attachment_id`` lets a channel that can send the
    picture or file itself (WeCom app, 微信客服) do so instead.
    """
    expires = now + dt.timedelta(days=settings.notices.link_ttl_days)
    for i, row in enumerate(files, 1):
        link = media.notice_link(settings, row, notice.id, expires)
        text = f"通知附件{i}：{row.label}「{row.name}」\n点击查看：{link}"
        context = {**recipient.context, "attachment_id": row.id, "attachment_url": link, "attachment_kind": row.kind}
        target = dataclasses.replace(recipient, context=context)
        outbox.enqueue(session, target, text, now=now, title=_title(notice), ref=f"notice:{notice.id}",
                       dedupe_key=f"{key}:a{row.id}")


def _title(notice: Notice) -> str:
    return "重要通知" if notice.important else "学校通知"


def _record(session: Session, notice: Notice, class_id: int, row: outbox.OutboxMessage | None, *, kind: str,
            student_id: int | None = None, identity_id: int | None = None) -> int:
    if row is None:  # already queued by an earlier run
        return 0
    session.flush()
    session.add(NoticeDelivery(notice_id=notice.id, class_id=class_id, kind=kind, student_id=student_id,
                               identity_id=identity_id, outbox_id=row.id))
    return 1


def send_due_notices(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Send every scheduled notice whose time has come (the scheduler's job); return how many."""
    due = session.scalars(select(Notice).where(
        Notice.status == NoticeStatus.SCHEDULED, Notice.scheduled_for <= now).order_by(Notice.id)).all()
    for notice in due:
        deliver_notice(session, notice, settings, now)
    return len(due)


def get_notice(session: Session, notice_id: int, school_id: int | None = None) -> Notice | None:
    """Return a notice (of the given school)."""
    notice = session.get(Notice, notice_id)
    if notice is None or (school_id is not None and notice.school_id != school_id):
        return None
    return notice


def latest_draft(session: Session, author_id: int) -> Notice | None:
    """Return the author's most recent draft awaiting confirmation."""
    return session.scalar(select(Notice).where(
        Notice.author_id == author_id, Notice.status == NoticeStatus.DRAFT).order_by(Notice.id.desc()).limit(1))
