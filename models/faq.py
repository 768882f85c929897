"""The school FAQ (config/faq.yaml): inquiries answered at once, and the log of those answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import unicodedata
from pathlib import Path

import yaml
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base

FAQ_FILE = Path(__file__).resolve().parent.parent / "config" / "faq.yaml"


@dataclasses.dataclass(frozen=True)
class FaqEntry:
    """One answerable question."""

    key: str
    match: tuple[tuple[str, ...], ...]
    answer: str


class FaqAnswer(Base):
    """A question the bot answered from the FAQ instead of opening a ticket."""

    __tablename__ = "faq_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    question: Mapped[str] = mapped_column(Text)
    faq_key: Mapped[str] = mapped_column(String(60))
    helped: Mapped[bool | None]  # False once the parent says 没解决
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    at: Mapped[dt.datetime]


def _entries(raw: list[dict]) -> dict[str, FaqEntry]:
    return {
        str(e["key"]): FaqEntry(str(e["key"]), tuple(tuple(str(w) for w in group) for group in e["match"]),
                                str(e["answer"]).strip())
        for e in raw or ()
    }


@functools.cache
def faq_entries(school_code: str | None = None) -> tuple[FaqEntry, ...]:
    """Return the FAQ of a school: the common entries with the school's own on top."""
    data = yaml.safe_load(FAQ_FILE.read_text(encoding="utf-8")) or {}
    entries = _entries(data.get("entries") or [])
    own = ((data.get("schools") or {}).get(school_code) or {}).get("entries") if school_code else None
    entries.update(_entries(own or []))
    return tuple(entries.values())


def match_faq(text: str, school_code: str | None) -> FaqEntry | None:
    """Return the entry that confidently answers ``text`` (every word of one group present)."""
    clean = unicodedata.normalize("NFKC", text or "")
    best: tuple[int, FaqEntry] | None = None
    for entry in faq_entries(school_code):
        for group in entry.match:
            if all(word in clean for word in group):
                score = sum(len(w) for w in group)
                if best is None or score > best[0]:
                    best = (score, entry)
    return best[1] if best else None


def log_answer(session: Session, school_id: int, identity_id: int | None, question: str, entry: FaqEntry,
               now: dt.datetime) -> FaqAnswer:
    """Record that the FAQ answered a question."""
    row = FaqAnswer(school_id=school_id, identity_id=identity_id, question=question, faq_key=entry.key, at=now)
    session.add(row)
    session.flush()
    return row


def mark_not_helped(session: Session, answer_id: int, ticket_id: int | None) -> None:
    """The parent said 没解决: remember it, with the ticket it opened."""
    row = session.get(FaqAnswer, answer_id)
    if row is not None:
        row.helped, row.ticket_id = False, ticket_id
