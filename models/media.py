"""Attachments: pictures and files kept as ticket evidence and carried by notices (docs/media.md).

Bytes are content-addressed by sha256 and stored once, whoever sends them
again, in one of two stores chosen by ``media.store``:

- ``folder`` (default): files under the instance folder, ``media/ab/<sha256>``.
  One host (the default SQLite deployment).
- ``database``: a ``media_blobs`` row (PostgreSQL ``bytea``) that every web
  worker, inbox worker and scheduler on every host reaches through the
  connection they already have, inside the same transaction as the ticket.

An ``Attachment`` row says who sent which bytes and what they belong to (a
ticket, a notice, or nothing yet: waiting to be joined to a matter).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import ForeignKey, Index, LargeBinary, String, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from config.settings import Settings
from models import links
from models.base import Base, utcnow
from models.media_safety import Checked, Limits, MediaRefused

if TYPE_CHECKING:
    from models.tickets import Ticket

log = logging.getLogger(__name__)

KIND_NAMES = {"image": ("图片", "张"), "file": ("文件", "个"), "audio": ("语音", "条"), "video": ("视频", "个")}


class MediaBlob(Base):
    """The bytes of one distinct attachment (the ``database`` store)."""

    __tablename__ = "media_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Attachment(Base):
    """One picture, file, voice or video somebody sent, and what it belongs to."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_identity_created", "identity_id", "created_at"),
                      Index("ix_attachments_staff_created", "staff_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # image | file | audio | video
    mime: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))  # who sent it (chat)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # a staff sender (notices)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    attached_at: Mapped[dt.datetime | None]
    purged_at: Mapped[dt.datetime | None]

    @property
    def label(self) -> str:
        """Return the Chinese word for its kind (图片, 文件 …)."""
        return KIND_NAMES.get(self.kind, ("文件", "个"))[0]


class MediaStore(Protocol):
    """Where attachment bytes live, addressed by their sha256."""

    def put(self, session: Session, sha256: str, data: bytes) -> None:
        """Keep ``data`` under ``sha256`` (nothing to do when already kept)."""

    def get(self, session: Session, sha256: str) -> bytes | None:
        """Return the bytes, or None when they are gone."""

    def delete(self, session: Session, sha256: str) -> None:
        """Forget the bytes."""


class FolderStore:
    """Files under one folder, written atomically (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        """Return the file of ``sha256`` (two-character fan-out)."""
        return self.root / sha256[:2] / sha256

    def put(self, session: Session, sha256: str, data: bytes) -> None:
        """Write the file unless it exists (same name, same bytes)."""
        path = self.path(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, session: Session, sha256: str) -> bytes | None:
        """Read the file."""
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, session: Session, sha256: str) -> None:
        """Remove the file."""
        self.path(sha256).unlink(missing_ok=True)


class DatabaseStore:
    """``media_blobs`` rows in the application's database, in the caller's transaction."""

    def put(self, session: Session, sha256: str, data: bytes) -> None:
        """Insert the row unless it exists (a concurrent insert of the same bytes is fine)."""
        if session.get(MediaBlob, sha256) is not None:
            return
        try:
            with session.begin_nested():
                session.add(MediaBlob(sha256=sha256, size=len(data), data=data))
        except IntegrityError:
            pass  # the same bytes arrived through another worker

    def get(self, session: Session, sha256: str) -> bytes | None:
        """Read the row's bytes."""
        return session.scalar(select(MediaBlob.data).where(MediaBlob.sha256 == sha256))

    def delete(self, session: Session, sha256: str) -> None:
        """Delete the row."""
        session.execute(delete(MediaBlob).where(MediaBlob.sha256 == sha256))


def store_for(settings: Settings) -> MediaStore:
    """Return the store ``media.store`` names."""
    choice = settings.media.store
    if choice == "database":
        return DatabaseStore()
    if choice == "folder":
        root = Path(settings.media.directory)
        return FolderStore(root if root.is_absolute() else settings.instance_dir / root)
    raise ValueError(f"media.store must be folder or database, not {choice!r}")


def limits(settings: Settings) -> Limits:
    """Return the safety limits from the settings."""
    m = settings.media
    return Limits(max_bytes=m.max_bytes, max_unzipped_bytes=m.max_unzipped_bytes, max_pixels=m.max_pixels)


def used_bytes(session: Session, school_id: int) -> int:
    """Return the bytes a school's kept attachments take (each counted, duplicates too)."""
    return session.scalar(select(func.coalesce(func.sum(Attachment.size), 0)).where(
        Attachment.school_id == school_id, Attachment.purged_at.is_(None))) or 0


def save(session: Session, settings: Settings, checked: Checked, *, school_id: int, now: dt.datetime,
         name: str = "", identity_id: int | None = None, staff_id: int | None = None,
         inbound_id: int | None = None, store: MediaStore | None = None) -> Attachment:
    """Store checked bytes (once per sha256) and record who sent them.

    Raises:
        MediaRefused: ``quota`` when the school's attachments would exceed ``media.school_quota_bytes``.
    """
    size = len(checked.data)
    if used_bytes(session, school_id) + size > settings.media.school_quota_bytes:
        raise MediaRefused("quota", f"school {school_id}")
    sha = hashlib.sha256(checked.data).hexdigest()
    (store or store_for(settings)).put(session, sha, checked.data)
    stem = Path(name).stem[:80] if name else now.strftime("%Y%m%d-%H%M%S")
    row = Attachment(school_id=school_id, sha256=sha, kind=checked.kind, mime=checked.mime,
                     name=f"{stem}.{checked.ext}", size=size, identity_id=identity_id, staff_id=staff_id,
                     inbound_id=inbound_id, created_at=now)
    session.add(row)
    session.flush()
    return row


def read(session: Session, settings: Settings, attachment: Attachment) -> bytes | None:
    """Return an attachment's bytes (None once purged or lost)."""
    if attachment.purged_at is not None:
        return None
    return store_for(settings).get(session, attachment.sha256)


def by_ids(session: Session, ids: Iterable[int]) -> list[Attachment]:
    """Return the attachments with these ids, in id order."""
    wanted = list(ids)
    if not wanted:
        return []
    return list(session.scalars(select(Attachment).where(Attachment.id.in_(wanted)).order_by(Attachment.id)))


def of_ticket(session: Session, ticket_id: int) -> list[Attachment]:
    """Return a ticket's attachments in the order they came."""
    return list(session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id)
                                .order_by(Attachment.created_at, Attachment.id)))


def of_notice(session: Session, notice_id: int) -> list[Attachment]:
    """Return the attachments a notice carries."""
    return list(session.scalars(select(Attachment).where(Attachment.notice_id == notice_id).order_by(Attachment.id)))


def counts_by_ticket(session: Session, ticket_ids: Iterable[int]) -> dict[int, int]:
    """Return ticket id → number of attachments (exports)."""
    wanted = list(ticket_ids)
    if not wanted:
        return {}
    rows = session.execute(select(Attachment.ticket_id, func.count()).where(Attachment.ticket_id.in_(wanted))
                           .group_by(Attachment.ticket_id)).all()
    return {int(t): int(n) for t, n in rows}


def unattached(session: Session, *, since: dt.datetime, identity_id: int | None = None,
               staff_id: int | None = None) -> list[Attachment]:
    """Return what a person sent since ``since`` that belongs to nothing yet."""
    stmt = select(Attachment).where(Attachment.ticket_id.is_(None), Attachment.notice_id.is_(None),
                                    Attachment.purged_at.is_(None), Attachment.created_at >= since)
    if identity_id is not None:
        stmt = stmt.where(Attachment.identity_id == identity_id)
    if staff_id is not None:
        stmt = stmt.where(Attachment.staff_id == staff_id)
    return list(session.scalars(stmt.order_by(Attachment.id)))


def attach_to_ticket(session: Session, attachments: Iterable[Attachment], ticket: Ticket, now: dt.datetime) -> int:
    """Join attachments to a ticket and record each in its history (who sent it, when); return how many."""
    from models.tickets import add_event

    joined = 0
    for row in attachments:
        if row.ticket_id == ticket.id:
            continue
        row.ticket_id, row.attached_at = ticket.id, now
        add_event(session, ticket, "attachment", now, identity_id=row.identity_id,
                  text=f"{row.label}：{row.name}",
                  data={"attachment_id": row.id, "sent_at": row.created_at.isoformat(), "sha256": row.sha256})
        joined += 1
    return joined


def attach_to_notice(session: Session, attachments: Iterable[Attachment], notice_id: int, now: dt.datetime) -> int:
    """Let a notice carry attachments; return how many."""
    joined = 0
    for row in attachments:
        row.notice_id, row.attached_at = notice_id, now
        joined += 1
    return joined


def summary(attachments: Iterable[Attachment]) -> str:
    """Return 「图片 2 张、文件 1 个」 for a list of attachments."""
    counts: dict[str, int] = {}
    for row in attachments:
        counts[row.kind] = counts.get(row.kind, 0) + 1
    parts = [f"{KIND_NAMES[k][0]} {n} {KIND_NAMES[k][1]}" for k, n in sorted(counts.items(), key=lambda kv: kv[0])
             if k in KIND_NAMES]
    return "、".join(parts)


def purge_expired(session: Session, settings: Settings, now: dt.datetime) -> dict[str, int]:
    """Purge attachments of tickets closed more than ``media.retention_days`` ago; return counts (never bodies)."""
    from models.tickets import Ticket

    cutoff = now - dt.timedelta(days=settings.media.retention_days)
    rows = list(session.scalars(
        select(Attachment).join(Ticket, Ticket.id == Attachment.ticket_id)
        .where(Attachment.purged_at.is_(None), Ticket.closed_at.is_not(None), Ticket.closed_at < cutoff)))
    store = store_for(settings)
    for row in rows:
        row.purged_at = now
    session.flush()
    freed = 0
    for sha in {row.sha256 for row in rows}:
        still = session.scalar(select(func.count()).select_from(Attachment).where(
            Attachment.sha256 == sha, Attachment.purged_at.is_(None)))
        if not still:
            store.delete(session, sha)
            freed += 1
    counts = {"attachments": len(rows), "blobs": freed}
    log.info("purged media: %(attachments)d attachments, %(blobs)d stored blobs", counts)
    return counts


def recent_ticket_of(session: Session, identity_id: int, since: dt.datetime) -> Ticket | None:
    """Return the parent's open ticket they last wrote to (opened or appended) since ``since``, if any."""
    from models.tickets import OPEN_STATES, Ticket, TicketEvent

    return session.scalar(
        select(Ticket).join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(TicketEvent.actor_identity_id == identity_id, TicketEvent.action.in_(("created", "appended")),
               TicketEvent.at >= since, Ticket.state.in_(list(OPEN_STATES)))
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc()).limit(1))


def claim(rows: Iterable[Attachment], *, identity_id: int | None = None, staff_id: int | None = None) -> None:
    """Record who sent attachments the inbox worker stored before the sender was known."""
    for row in rows:
        if identity_id is not None and row.identity_id is None:
            row.identity_id = identity_id
        if staff_id is not None and row.staff_id is None:
            row.staff_id = staff_id


# Signed links to attachments (``/a/<token>``); who may open them is models.media_access.
LINK_PURPOSE = "attachment"


def notice_link(settings: Settings, attachment: Attachment, notice_id: int, expires: dt.datetime) -> str:
    """Return a link that opens a notice's attachment (for the families the notice reached)."""
    token = links.make_token(settings.app.secret_key, LINK_PURPOSE, {"a": attachment.id, "n": notice_id}, expires)
    return links.absolute_url(settings.app.base_url, "a", token)
