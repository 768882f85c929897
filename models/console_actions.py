"""Ticket actions taken from the web console, with the same rules and messages as the chat commands.

``act`` checks who may do what (leaders: 指派, 督办, 延期审批, 驳回, and the
疑似紧急 decisions; whoever may handle the ticket: 改类), calls the same
service as the chat command (``models.leader_actions`` / ``ticket_service``,
which write the history with the actor), and queues the resulting private
messages in the outbox. The caller commits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from models import labels, leader_actions, ticket_access, ticket_notify, ticket_service
from models.directory import Staff
from models.tickets import Ticket, TicketError

LEADER_ACTIONS = ("assign", "supervise", "approve_extension", "deny_extension", "reject", "confirm_urgent",
                  "dismiss_review")
ACTIONS = (*LEADER_ACTIONS, "recategorize")


class ActionRefused(Exception):
    """The viewer may not take this action (``status`` 403) or it makes no sense (400); message in Chinese."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.message, self.status = message, status


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What the console tells the actor after an action."""

    message: str
    queued: int


def allowed(staff: Staff, ticket: Ticket) -> list[str]:
    """Return the actions ``staff`` may take on ``ticket`` in its state (the ticket page shows these buttons)."""
    if not ticket_access.can_act(staff, ticket):
        return []
    names = ["recategorize"]
    if staff.is_leader:
        if ticket.is_open:
            names += ["assign", "supervise"]
        if ticket.state == "resolved":
            names.append("reject")
        if ticket.extension_days:
            names += ["approve_extension", "deny_extension"]
        if getattr(ticket, "needs_review", False):
            names += ["confirm_urgent", "dismiss_review"]
    return names


def act(session: Session, staff: Staff, ticket: Ticket, action: str, form: Mapping[str, str], now: dt.datetime,
        tz: str) -> Outcome:
    """Take ``action`` on ``ticket`` as ``staff`` from the console's form.

    Raises:
        ActionRefused: not allowed for this person, or an unknown action or missing field.
        TicketError: the ledger refuses (closed ticket, no pending extension …).
    """
    if action not in ACTIONS:
        raise ActionRefused("未知的操作。", 400)
    if not ticket_access.can_act(staff, ticket) or (action in LEADER_ACTIONS and not staff.is_leader):
        raise ActionRefused("您没有权限对此工单进行该操作。")
    text = (form.get("text") or "").strip()[:500] or None
    notices: list[ticket_notify.Notice] = []
    if action == "assign":
        target = _staff(session, staff, form.get("staff_id"))
        notices = leader_actions.assign(session, ticket, staff, target, now, tz, text)
        message = f"已将 {ticket.number} 指派给{target.name}。"
    elif action == "supervise":
        notices = leader_actions.supervise(session, ticket, staff, now, tz, text)
        message = f"已督办 {ticket.number}。"
    elif action in ("approve_extension", "deny_extension"):
        approve = action == "approve_extension"
        notices = leader_actions.decide_extension(session, ticket, staff, approve, now, tz, text)
        when = ticket_notify.local(ticket.resolve_by, tz)
        message = f"{ticket.number} 已批准延期，新时限 {when}。" if approve else f"{ticket.number} 已驳回延期，时限仍为 {when}。"
    elif action == "reject":
        if text is None:
            raise ActionRefused("驳回请写明原因。", 400)
        notices = leader_actions.reject(session, ticket, staff, text, now)
        message = f"已驳回 {ticket.number}，退回继续办理。"
    elif action == "recategorize":
        code = form.get("category") or ""
        if code not in labels.category_codes():
            raise ActionRefused("请选择类别。", 400)
        ticket_service.recategorize(session, ticket, staff, code, now)
        message = f"已将 {ticket.number} 改为「{labels.category_name(code)}」。"
    else:
        message = _review(session, ticket, staff, action == "confirm_urgent")
    ticket_notify.send(session, notices, now)
    return Outcome(message, len(notices))


def _staff(session: Session, leader: Staff, staff_id: str | None) -> Staff:
    target = session.get(Staff, int(staff_id)) if staff_id and staff_id.isascii() and staff_id.isdigit() else None
    if target is None or target.school_id != leader.school_id:
        raise ActionRefused("请选择本校的老师。", 400)
    return target


def _review(session: Session, ticket: Ticket, staff: Staff, urgent: bool) -> str:
    """Decide a 疑似紧急 ticket through the classifier's review service (present once it is merged)."""
    try:
        from models import review  # type: ignore[attr-defined]
    except ImportError as exc:
        raise ActionRefused("疑似紧急复核功能尚未启用。", 400) from exc
    if not getattr(ticket, "needs_review", False):
        raise TicketError(f"工单 {ticket.number} 不在疑似紧急复核队列中。")
    if urgent:
        review.confirm_urgent(session, ticket, staff)
        return f"已确认 {ticket.number} 为紧急。"
    review.dismiss_review(session, ticket, staff)
    return f"已确认 {ticket.number} 非紧急。"
