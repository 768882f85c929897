"""Send the daily digest to a school's directors and principals (the ``daily_digest`` job)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from config.settings import Settings
from models import outbox, people
from models.digest import build_digest
from models.digest_render import render_text, title
from models.directory import School
from models.routing import staff_with_roles

ROLES = ("director", "principal")


def send_digest(session: Session, settings: Settings, school: School, period: str, now: dt.datetime) -> int:
    """Queue the digest of ``period`` (a local date) for each director and principal; return how many."""
    digest = build_digest(session, settings, school, dt.date.fromisoformat(period), now=now)
    queued = 0
    for leader in staff_with_roles(session, school.id, list(ROLES)):
        text = render_text(digest, principal=leader.role == "principal", with_title=False)  # the row's title
        for recipient in people.staff_recipients(session, leader)[:1]:
            row = outbox.enqueue(session, recipient, text, now=now, audience="staff", title=title(digest),
                                 ref=f"digest:{school.code}:{period}",
                                 dedupe_key=f"digest:{school.code}:{period}:{leader.id}")
            queued += row is not None
    return queued
