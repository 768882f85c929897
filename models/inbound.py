"""The raw inbound message log, deduplicated on (platform, platform message id).

It is also the webhook's inbox: a callback stores the message (status ``new``)
and answers; the message is handled right after the answer by the worker's
inbox thread, or by the scheduler's ``process_inbox`` sweep when that thread
never got to it. ``claim_next`` makes sure one message is handled once.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow


class InboundRecord(Base):
    """One message or event as a platform delivered it."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("platform", "platform_msg_id"),
        Index("ix_inbound_messages_status_received_at", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    platform_msg_id: Mapped[str] = mapped_column(String(128))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    is_group: Mapped[bool] = mapped_column(default=False)
    sender_external_id: Mapped[str | None] = mapped_column(String(128))
    sender_name: Mapped[str | None] = mapped_column(String(100))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"), index=True)
    msgtype: Mapped[str] = mapped_column(String(20), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # What the adapter derived beyond the columns (mentions, the reply handle such as a
    # DingTalk sessionWebhook), so that a stored message can be handled later as delivered.
    envelope: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sent_at: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="new")
    processed_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class RequestSignature(Base):
    """A request signature that does not cover the body (DingTalk's sign), remembered for its lifetime.

    DingTalk signs only the timestamp, so a captured (timestamp, sign) pair
    would carry any body for an hour. Each pair is accepted for one msgId:
    DingTalk's own redelivery of that message, never another body.
    """

    __tablename__ = "request_signatures"
    __table_args__ = (UniqueConstraint("platform", "signature"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    signature: Mapped[str] = mapped_column(String(128))
    platform_msg_id: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


def remember_signature(session: Session, platform: str, signature: str, msg_id: str,
                       expires_at: dt.datetime) -> bool:
    """Record that ``signature`` carried ``msg_id``; return False if it carried another message before.

    One ``INSERT … ON CONFLICT DO NOTHING`` on the webhook's path; a conflict
    costs one more look-up.
    """
    fields = {"platform": platform, "signature": signature, "platform_msg_id": msg_id, "expires_at": expires_at}
    stmt = _signature_statement(session.get_bind().dialect.name)
    if stmt is not None:
        if session.execute(stmt, fields).scalar() is not None:
            return True
    else:
        try:
            with session.begin_nested():
                session.add(RequestSignature(**fields))
            return True
        except IntegrityError:
            pass
    first = session.scalar(select(RequestSignature.platform_msg_id).where(
        RequestSignature.platform == platform, RequestSignature.signature == signature))
    return first == msg_id


@functools.cache
def _signature_statement(dialect: str) -> Any:
    if dialect not in ("postgresql", "sqlite"):
        return None
    table = RequestSignature.__table__
    return text(f"INSERT INTO {table.name} (platform, signature, platform_msg_id, expires_at) "
                "VALUES (:platform, :signature, :platform_msg_id, :expires_at) "
                "ON CONFLICT (platform, signature) DO NOTHING RETURNING id").bindparams(
        bindparam("expires_at", type_=table.c.expires_at.type))


def forget_signatures(session: Session, now: dt.datetime) -> int:
    """Delete remembered signatures past their lifetime (a replay of them is refused as stale anyway)."""
    from sqlalchemy import delete

    return session.execute(delete(RequestSignature).where(RequestSignature.expires_at < now)).rowcount or 0


def remembered_signatures(session: Session) -> int:
    """Return how many signatures are remembered (operators, tests)."""
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(RequestSignature)) or 0


def record_inbound(session: Session, **fields: Any) -> InboundRecord | None:
    """Store a delivered message; return None when it was delivered before.

    On PostgreSQL and SQLite this is one ``INSERT … ON CONFLICT DO NOTHING
    RETURNING`` (the webhook's hot path: one round trip, and a concurrent
    redelivery never spoils the transaction). Other databases use a SELECT
    and an INSERT in a savepoint.
    """
    stmt = _insert_statement(session.get_bind().dialect.name)
    if stmt is not None:
        return session.scalars(stmt, insert_params(InboundRecord, fields)).first()
    platform, msg_id = fields["platform"], fields["platform_msg_id"]
    existing = session.scalar(
        select(InboundRecord).where(InboundRecord.platform == platform, InboundRecord.platform_msg_id == msg_id)
    )
    if existing is not None:
        return None
    record = InboundRecord(**fields)
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        return None
    return record


def store_inbound(session: Session, **fields: Any) -> int | None:
    """Store a delivered message and return its id; None when it was delivered before.

    ``record_inbound`` without building the ORM object: the webhook answers
    with the id alone, and loading an instance from ``RETURNING *`` costs more
    than the insert itself on its hot path.
    """
    stmt = _insert_id_statement(session.get_bind().dialect.name)
    if stmt is None:
        record = record_inbound(session, **fields)
        return None if record is None else record.id
    return session.execute(stmt, insert_params(InboundRecord, fields)).scalar()


@functools.cache
def _insert_id_statement(dialect: str) -> Any:
    """Build the deduplicating insert returning only the id, once per dialect."""
    if dialect not in ("postgresql", "sqlite"):
        return None
    table = InboundRecord.__table__
    cols = [c for c in table.columns if c.key != "id"]
    sql = (f"INSERT INTO {table.name} ({', '.join(c.name for c in cols)}) "
           f"VALUES ({', '.join(':' + c.key for c in cols)}) "
           "ON CONFLICT (platform, platform_msg_id) DO NOTHING RETURNING id")
    return text(sql).bindparams(*[bindparam(c.key, type_=c.type) for c in cols])


@functools.cache
def _insert_statement(dialect: str) -> Any:
    """Build the deduplicating insert once per dialect."""
    if dialect not in ("postgresql", "sqlite"):
        return None
    return upsert_statement(InboundRecord, ("platform", "platform_msg_id"))


def upsert_statement(entity: type[Base], conflict: tuple[str, ...], update: Mapping[str, str] | None = None) -> Any:
    """Return an ORM ``INSERT … ON CONFLICT … RETURNING`` that SQLAlchemy can cache.

    SQLAlchemy's ``on_conflict_*`` constructs have no cache key, so they are
    compiled again on every call (about a millisecond of CPU each on the
    webhook's hot path). The same SQL as a ``text()`` is cached; PostgreSQL
    and SQLite share the syntax. Execute it with every column but ``id``
    (``insert_params``); it returns the ORM object, or nothing on a conflict
    without ``update``.
    """
    table = entity.__table__
    cols = [c for c in table.columns if c.key != "id"]
    action = "DO NOTHING" if not update else "DO UPDATE SET " + ", ".join(f"{k} = {v}" for k, v in update.items())
    sql = (f"INSERT INTO {table.name} ({', '.join(c.name for c in cols)}) "
           f"VALUES ({', '.join(':' + c.key for c in cols)}) "
           f"ON CONFLICT ({', '.join(conflict)}) {action} "
           f"RETURNING {', '.join(c.name for c in table.columns)}")
    clause = text(sql).bindparams(*[bindparam(c.key, type_=c.type) for c in cols]).columns(*table.columns)
    return select(entity).from_statement(clause)


def insert_params(entity: type[Base], fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``fields`` plus the Python-side defaults of the columns not given."""
    params = dict(fields)
    for col in entity.__table__.columns:
        if col.key == "id" or col.key in params:
            continue
        default = col.default
        if default is None:
            params[col.key] = None
        elif default.is_callable:
            params[col.key] = default.arg(None)
        else:
            params[col.key] = default.arg
    return params


def find_inbound(session: Session, platform: str, platform_msg_id: str) -> InboundRecord | None:
    """Return the stored message with this platform id, if any."""
    return session.scalar(
        select(InboundRecord).where(
            InboundRecord.platform == platform, InboundRecord.platform_msg_id == platform_msg_id
        )
    )


NEW, PROCESSING, PROCESSED, FAILED = "new", "processing", "processed", "failed"
# A message with media waits in FETCH until the inbox worker downloaded it (FETCHING while it does);
# ``processed_at`` holds when it may be tried (again) until the message is handled.
FETCH, FETCHING = "fetch", "fetching"
FETCH_LEASE = dt.timedelta(minutes=5)


def claim_fetch(session: Session, now: dt.datetime) -> InboundRecord | None:
    """Take the oldest message whose media is due for download (or whose downloader died); None if none.

    The claim is a ``fetching`` status with a lease in ``processed_at``: commit it
    before downloading, so other workers skip the message and no transaction
    stays open during the download.
    """
    due = (
        select(InboundRecord.id)
        .where(InboundRecord.status.in_((FETCH, FETCHING)),
               (InboundRecord.processed_at.is_(None)) | (InboundRecord.processed_at <= now))
        .order_by(InboundRecord.received_at, InboundRecord.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(InboundRecord)
        .where(InboundRecord.id == due, InboundRecord.status.in_((FETCH, FETCHING)))
        .values(status=FETCHING, processed_at=now + FETCH_LEASE)
        .returning(InboundRecord)
    )
    return session.scalars(stmt, execution_options={"populate_existing": True}).first()


def fetched(record: InboundRecord, attachments: list[int], refused: str | None) -> None:
    """Hand a message whose media was fetched (or given up) to the handlers."""
    envelope = {k: v for k, v in (record.envelope or {}).items() if k not in ("media", "fetch_attempts")}
    if attachments:
        envelope["attachments"] = attachments
    if refused:
        envelope["media_refused"] = refused
    record.envelope, record.status, record.processed_at = envelope or None, NEW, None


def fetch_later(record: InboundRecord, now: dt.datetime, attempt_limit: int) -> bool:
    """Put a message back for another download attempt with backoff; False when attempts are used up."""
    envelope = dict(record.envelope or {})
    attempts = int(envelope.get("fetch_attempts") or 0) + 1
    if attempts >= attempt_limit:
        return False
    envelope["fetch_attempts"] = attempts
    record.envelope, record.status = envelope, FETCH
    record.processed_at = now + dt.timedelta(seconds=30 * 2 ** (attempts - 1))
    return True


def claim_next(session: Session, received_before: dt.datetime) -> InboundRecord | None:
    """Take the oldest unhandled message stored before ``received_before``, if any.

    One ``UPDATE … WHERE status = 'new'``: of two handlers racing for the same
    message the second finds nothing, and the claim belongs to the caller's
    transaction, so a crash before the commit leaves the message ``new`` for the
    next sweep. On PostgreSQL the pick skips rows another handler has locked
    (``FOR UPDATE SKIP LOCKED``), so several inbox threads and workers drain one
    inbox side by side without waiting for each other; SQLite serialises writers.
    """
    oldest = (
        select(InboundRecord.id)
        .where(InboundRecord.status == NEW, InboundRecord.received_at < received_before)
        .order_by(InboundRecord.received_at, InboundRecord.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(InboundRecord)
        .where(InboundRecord.id == oldest, InboundRecord.status == NEW)
        .values(status=PROCESSING)
        .returning(InboundRecord)
    )
    return session.scalars(stmt, execution_options={"populate_existing": True}).first()


def inbox_summary(session: Session, now: dt.datetime, failures: int = 10) -> dict[str, Any]:
    """Return counts by status, the age of the oldest unhandled message and the latest failures."""
    from sqlalchemy import func

    counts = dict(session.execute(select(InboundRecord.status, func.count()).group_by(InboundRecord.status)).all())
    oldest = session.scalar(select(func.min(InboundRecord.received_at)).where(InboundRecord.status == NEW))
    failed = list(
        session.scalars(
            select(InboundRecord).where(InboundRecord.status == FAILED).order_by(InboundRecord.id.desc()).limit(failures)
        )
    )
    return {
        "counts": {status: counts.get(status, 0) for status in (NEW, PROCESSING, PROCESSED, FAILED, FETCH, FETCHING)},
        "oldest_waiting_seconds": None if oldest is None else max(0.0, (now - oldest).total_seconds()),
        "failed": failed,
    }
