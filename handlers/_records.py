"""What a family raised in a face-to-face record (家访, 校长接待) becomes tickets on the family's behalf.

A staff member's own observations (孩子作息规律) are not requests: only the
sentences that say what the family raised (家长反映…, 家长希望…, 妈妈担心…)
go through the classifier, each sentence on its own, and every actionable one
opens a ticket with the usual owner, deadline, 销号 and 回访.
"""

from __future__ import annotations

import re
from typing import Any

from handlers.classifier import classify
from handlers.context import Context
from models import review, ticket_notify, ticket_service
from models.directory import Guardianship, Staff, Student
from models.tickets import Ticket, add_event

_PARENT_SAID = re.compile(r"(?:家长|妈妈|爸爸|爷爷|奶奶|外公|外婆|姥姥|姥爷|监护人|家里)\S{0,2}?"
                          r"(?:反映|提出|提到|希望|建议|投诉|担心|要求|说|问|诉求)[：:，,\s]*(.+)")
_SENTENCES = re.compile(r"[。！？!?；;\n]+")


def parent_said(notes: str) -> str | None:
    """Return the first thing the record says the family raised, else None."""
    said = parent_matters(notes)
    return said[0] if said else None


def parent_matters(notes: str) -> list[str]:
    """Return each sentence of the record that says what the family raised (the words after 反映/希望 …)."""
    matters = []
    for sentence in _SENTENCES.split(notes or ""):
        match = _PARENT_SAID.search(sentence)
        if match and match.group(1).strip():
            matters.append(match.group(1).strip())
    return matters


def tickets_from_record(ctx: Context, *, staff: Staff, student: Student | None, notes: str, action: str,
                        data: dict[str, Any], identity_id: int | None = None,
                        guardianship: Guardianship | None = None) -> list[Ticket]:
    """Classify what the family raised; open a ticket for each actionable matter and return them.

    ``action`` names the history event (``from_visit``, ``from_reception``);
    with ``identity_id`` the parent who came is the ticket's parent (进度, 回访).
    """
    tz = ctx.settings.scheduler.timezone
    opened, matters = [], parent_matters(notes)
    for said in matters:
        result = classify(said)
        if not result.actionable or result.category is None:
            continue
        urgency = result.urgency or "normal"
        ticket = ticket_service.open_ticket(
            ctx.session, school=staff.school, kind=result.kind, category=result.category,
            urgency=urgency, text=notes if len(matters) == 1 and identity_id is None else said, now=ctx.now, tz=tz,
            student=student, confidence=result.confidence, identity_id=identity_id, guardianship=guardianship,
            needs_review=result.review and urgency != "urgent",  # a possible danger a family told in person
        )
        add_event(ctx.session, ticket, action, ctx.now, staff=staff, data=data)
        notices = ticket_notify.opened_notices(ctx.session, ticket, tz)
        if ticket.needs_review:
            notices += review.flag_notices(ctx.session, ticket, tz, ctx.settings.tickets.review_minutes)
        ticket_notify.send(ctx.session, notices, ctx.now)
        opened.append(ticket)
    return opened
