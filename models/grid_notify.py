"""What a referral says to the grid contact, the parent and the owner, and the printable 属地转办单."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from models import labels
from models.directory import School, Staff
from models.export_sheets import local, write_table
from models.grid import GridContact, TicketReferral
from models.ticket_notify import Notice, to_parent, to_staff, who
from models.tickets import Ticket

if TYPE_CHECKING:  # openpyxl only when a sheet is written
    from openpyxl.worksheet.worksheet import Worksheet


def contact_text(ticket: Ticket, referral: TicketReferral, school: School, by: Staff | None, tz: str) -> str:
    """Return the case as the grid contact reads it (no parent phone: the school stays the contact)."""
    contact = f"{by.name} {by.phone}" if by is not None and by.phone else (by.name if by is not None else school.name)
    lines = [f"【属地转办】{school.name}转来家长反映的校外事项，请协助办理：",
             f"编号：{ticket.full_number}（{labels.category_name(ticket.category)}）",
             f"事项：{ticket.text}"]
    if referral.reason:
        lines.append(f"转办原因：{referral.reason}")
    lines += [f"转办时间：{local(referral.referred_at, tz):%Y-%m-%d %H:%M}", f"学校联系人：{contact}",
              f"办理后请把结果告知学校（学校登记「属地反馈 {ticket.number} 结果」后向家长回访）。"]
    return "\n".join(lines)


def referral_notices(session: Session, ticket: Ticket, referral: TicketReferral, by: Staff | None, tz: str
                     ) -> list[Notice]:
    """Return the messages of a referral: the grid contact (when on the platform), the parent, the owner."""
    notices: list[Notice] = []
    contact: GridContact | None = referral.contact
    if contact is not None and contact.recipient is not None:
        notices.append(Notice(contact.recipient, contact_text(ticket, referral, ticket.school, by, tz), False,
                              f"ticket:{ticket.id}", "staff"))
    when = local(referral.referred_at, tz)
    notices += to_parent(session, ticket, f"您反映的问题（编号 {ticket.number}）属于学校周边的校外事项，学校已于 "
                                          f"{when.month}月{when.day}日 转交属地（{referral.contact_label}）办理。"
                                          "学校会跟进办理结果并向您回访。")
    if ticket.assignee is not None and (by is None or ticket.assignee_id != by.id):
        sheet_hint = "" if referral.delivery == "private" else \
            f"网格员不在平台上，请发送「转办单 {ticket.number}」打印转办单交给网格员。"
        notices += to_staff(session, ticket.assignee, f"工单 {ticket.number} 已转属地（{referral.contact_label}）。"
                                                      f"{sheet_hint}属地反馈后请登记「属地反馈 {ticket.number} 结果」，"
                                                      "随后向家长回访、销号。", ticket)
    return notices


def feedback_notices(session: Session, ticket: Ticket, referral: TicketReferral) -> list[Notice]:
    """Tell the owner the grid reported back (the parent hears at the 回访)."""
    return to_staff(session, ticket.assignee, f"工单 {ticket.number} 属地已反馈：{referral.feedback}。"
                                              "已按办结处理，系统将向家长回访。", ticket)


SHEET_ROWS = ("转办编号", "学校", "转办日期", "接收网格（社区/街道）", "网格员及电话", "学生班级", "反映事项", "事项类别",
              "转办原因", "学校联系人", "属地办理结果", "办结日期", "网格员签字")


def sheet(ws: Worksheet, session: Session, ticket: Ticket, referral: TicketReferral, tz: str) -> int:
    """Write the printable 属地转办单 of one referral (the grid contact fills in the last rows)."""
    by = referral.referred_by_id and session.get(Staff, referral.referred_by_id)
    contact = referral.contact
    values = (ticket.full_number, ticket.school.name, local(referral.referred_at, tz),
              referral.contact_label, f"{contact.name} {contact.phone or ''}".strip() if contact else "",
              who(ticket), ticket.text, labels.category_name(ticket.category), referral.reason,
              f"{by.name} {by.phone or ''}".strip() if by else ticket.school.name,
              referral.feedback or "", local(referral.feedback_at, tz) if referral.feedback_at else "", "")
    write_table(ws, f"{ticket.school.name}属地转办单", ("项目", "内容"), (22, 70), list(zip(SHEET_ROWS, values,
                                                                                          strict=True)))
    return 1


def referred_on(ticket: Ticket) -> dt.datetime | None:
    """Return when a ticket was referred, from its history (the views read no database)."""
    return next((e.at for e in reversed(ticket.events) if e.action == "referred"), None)
