"""Who may open an attachment, through signed short-lived links (``/a/<token>``).

A link names one attachment and one reader: a staff member (ticket evidence:
they must still be allowed to see the ticket when they open it, so an accused
teacher never can, and a transfer takes the link's power away), or a notice
(a file the notice carries: the families it went to). Links expire after
``media.link_ttl_minutes`` (notice links with the notice's confirm links);
the ticket scope is checked again at every opening.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from config.settings import Settings
from models import links, ticket_notify
from models.directory import Staff
from models.media import LINK_PURPOSE as PURPOSE
from models.media import Attachment, summary
from models.notices import Notice, NoticeStatus
from models.ticket_access import can_view
from models.tickets import Ticket


def staff_link(settings: Settings, attachment: Attachment, staff: Staff, now: dt.datetime) -> str:
    """Return a link that opens ``attachment`` for ``staff`` only, for ``media.link_ttl_minutes``."""
    expires = now + dt.timedelta(minutes=settings.media.link_ttl_minutes)
    token = links.make_token(settings.app.secret_key, PURPOSE, {"a": attachment.id, "st": staff.id}, expires)
    return links.absolute_url(settings.app.base_url, "a", token)


def ticket_links(session: Session, settings: Settings, ticket: Ticket, staff: Staff,
                 now: dt.datetime) -> list[tuple[Attachment, str]]:
    """Return a ticket's attachments, each with a link for ``staff`` (the console's ticket page)."""
    from models.media import of_ticket

    if not can_view(staff, ticket):
        return []
    return [(row, staff_link(settings, row, staff, now)) for row in of_ticket(session, ticket.id)
            if row.purged_at is None]


def open_attachment(session: Session, payload: dict[str, Any]) -> Attachment | None:
    """Return the attachment a verified link payload grants, or None when its reader may not (any longer)."""
    row = session.get(Attachment, int(payload.get("a") or 0))
    if row is None or row.purged_at is not None:
        return None
    if "st" in payload:
        staff = session.get(Staff, int(payload["st"]))
        ticket = session.get(Ticket, row.ticket_id) if row.ticket_id else None
        if staff is None or ticket is None or not can_view(staff, ticket):
            return None
        return row
    if "n" in payload:
        notice = session.get(Notice, int(payload["n"]))
        ok = notice is not None and row.notice_id == notice.id and notice.status == NoticeStatus.SENT
        return row if ok else None
    return None


def assignee_notices(session: Session, settings: Settings, ticket: Ticket, attachments: list[Attachment],
                     now: dt.datetime) -> list[ticket_notify.Notice]:
    """Tell the ticket's assignee about new attachments: 「附图片 2 张」 and one signed link each."""
    staff = ticket.assignee
    if staff is None or not attachments or staff.id == ticket.about_staff_id:
        return []
    tz = settings.app.timezone
    lines = [f"【附件】{ticket.number} 家长补充，附{summary(attachments)}（{ticket_notify.who(ticket)}）："]
    for i, row in enumerate(attachments, 1):
        lines.append(f"{i}. {row.label}（{ticket_notify.local(row.created_at, tz)}）：{staff_link(settings, row, staff, now)}")
    if any(row.kind == "audio" for row in attachments):
        lines.append("家长发来语音，未能识别文字，请打开链接收听。")
    hours = max(1, settings.media.link_ttl_minutes // 60)
    lines.append(f"链接 {hours} 小时内有效，仅限您本人查看。")
    return ticket_notify.to_staff(session, staff, "\n".join(lines), ticket)
