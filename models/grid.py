"""网格 referral (转属地): matters outside the school's walls handed to the community grid and followed.

Each school keeps its grid contacts (网格员: name, street/community, phone,
platform id if any) in the roster's staff sheet (角色 网格员, 职责 = 社区) or
in ``config/grid.yaml``. A referred ticket keeps its owner: the school still
asks the parent (回访) and closes it (销号) once the grid reports back
(``属地反馈``), and the ticket never leaves the ledger. While the grid works
on it, the deadline sweep does not chase the school, and the digest counts it
apart (``open_referrals``).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from bot.message import USER, Recipient
from models import ticket_service
from models.base import Base, utcnow
from models.directory import School, Staff
from models.tickets import Ticket, TicketError, add_event

CONFIG_FILE = Path(__file__).resolve().parent.parent / "config" / "grid.yaml"
GRID_ROLE_NAME = "网格员"


class GridContact(Base):
    """A community grid member a school can hand matters to."""

    __tablename__ = "grid_contacts"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    area: Mapped[str] = mapped_column(String(100), default="")  # street / community
    phone: Mapped[str | None] = mapped_column(String(20))
    platform: Mapped[str | None] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(10), default="roster")  # roster / config
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def label(self) -> str:
        """Return e.g. 幸福社区 刘洋."""
        return f"{self.area} {self.name}".strip()

    @property
    def recipient(self) -> Recipient | None:
        """Return the private address on the platform, or None when the contact is not on it."""
        if not (self.platform and self.external_id):
            return None
        return Recipient(self.platform, USER, self.external_id, self.school_id)


class TicketReferral(Base):
    """A ticket handed to the grid: when, to whom, why, and what the grid reported back."""

    __tablename__ = "ticket_referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("grid_contacts.id"))
    contact_label: Mapped[str] = mapped_column(String(160))
    reason: Mapped[str] = mapped_column(Text, default="")
    delivery: Mapped[str] = mapped_column(String(10))  # private / sheet
    referred_at: Mapped[dt.datetime]
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    feedback: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[dt.datetime | None]

    ticket: Mapped[Ticket] = relationship()
    contact: Mapped[GridContact | None] = relationship()


@functools.cache
def grid_config() -> dict[str, Any]:
    """Load config/grid.yaml once."""
    if not CONFIG_FILE.is_file():
        return {}
    return yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8")) or {}


def sync_config_contacts(session: Session, school: School) -> None:
    """Add (or update) the contacts config/grid.yaml lists for this school."""
    for entry in ((grid_config().get("schools") or {}).get(school.code) or []):
        upsert_contact(session, school.id, str(entry["name"]), area=str(entry.get("area", "")),
                       phone=entry.get("phone"), platform=entry.get("platform"), external_id=entry.get("userid"),
                       source="config")


def upsert_contact(session: Session, school_id: int, name: str, *, area: str = "", phone: str | None = None,
                   platform: str | None = None, external_id: str | None = None, source: str = "roster"
                   ) -> GridContact:
    """Create or refresh a grid contact by name."""
    contact = session.scalar(select(GridContact).where(GridContact.school_id == school_id, GridContact.name == name))
    if contact is None:
        contact = GridContact(school_id=school_id, name=name)
        session.add(contact)
    contact.area, contact.phone, contact.source, contact.active = area, phone, source, True
    if platform and external_id:
        contact.platform, contact.external_id = platform, external_id
    session.flush()
    return contact


def bind_contact(session: Session, school: School, platform: str, external_id: str, name: str, last4: str
                 ) -> GridContact | None:
    """Record a grid contact's own platform address when name and phone match (绑定网格员); None otherwise."""
    contact = next((c for c in contacts(session, school) if c.name == name), None)
    if contact is None or not contact.phone or not contact.phone.endswith(last4) or len(last4) != 4:
        return None
    contact.platform, contact.external_id = platform, external_id
    return contact


def contacts(session: Session, school: School) -> list[GridContact]:
    """Return the school's active grid contacts (config ones synced first)."""
    sync_config_contacts(session, school)
    return list(session.scalars(select(GridContact).where(
        GridContact.school_id == school.id, GridContact.active.is_(True)).order_by(GridContact.id)))


def find_contact(session: Session, school: School, text: str) -> GridContact | None:
    """Return the contact named by name or by (part of) their community."""
    text = text.strip()
    found = contacts(session, school)
    exact = [c for c in found if text in (c.name, c.area)]
    partial = [c for c in found if text and (text in c.area or text in c.name)]
    return (exact or partial or [None])[0]


def referral_of(session: Session, ticket_id: int) -> TicketReferral | None:
    """Return a ticket's referral, if any."""
    return session.scalar(select(TicketReferral).where(TicketReferral.ticket_id == ticket_id))


def matches_outside_rule(text: str, category: str) -> bool:
    """Return whether a ticket's matter lies outside the school by the configured rule."""
    for rule in grid_config().get("refer_rules") or []:
        categories = rule.get("categories")
        if categories and category not in categories:
            continue
        if any(word in text for word in rule.get("keywords") or []):
            return True
    return False


def refer(session: Session, ticket: Ticket, contact: GridContact, reason: str, by: Staff | None,
          now: dt.datetime) -> TicketReferral:
    """Hand an open ticket to a grid contact (once); the school keeps owning the 回访 and 销号."""
    if not ticket.is_open:
        raise TicketError(f"工单 {ticket.number} 当前为「{ticket.state_name}」，只有办理中的工单可以转属地。")
    if referral_of(session, ticket.id) is not None:
        raise TicketError(f"工单 {ticket.number} 已转属地，请等待属地反馈（「属地反馈 编号 结果」）。")
    referral = TicketReferral(ticket=ticket, school_id=ticket.school_id, contact=contact, contact_label=contact.label,
                              reason=reason.strip(), delivery="private" if contact.recipient else "sheet",
                              referred_at=now, referred_by_id=by.id if by else None)
    session.add(referral)
    ticket.responded_at = ticket.responded_at or now
    add_event(session, ticket, "referred", now, staff=by, text=f"{contact.label}：{reason.strip()}".rstrip("："),
              data={"contact_id": contact.id, "contact": contact.label, "delivery": referral.delivery})
    session.flush()
    return referral


def record_feedback(session: Session, ticket: Ticket, result: str, by: Staff, now: dt.datetime) -> TicketReferral:
    """属地反馈: store what the grid did and resolve the ticket, so the parent is asked (回访) next."""
    referral = referral_of(session, ticket.id)
    if referral is None:
        raise TicketError(f"工单 {ticket.number} 没有转属地。")
    if not result.strip():
        raise TicketError("请写明属地办理结果。")
    referral.feedback, referral.feedback_at = result.strip(), now
    add_event(session, ticket, "grid_feedback", now, staff=by, text=result.strip())
    if ticket.is_open:
        ticket_service.resolve(session, ticket, ticket.assignee or by, f"属地（{referral.contact_label}）反馈：{result}",
                               now)
    return referral


def open_referrals(session: Session, school_id: int) -> int:
    """Return how many referred tickets still wait for the grid (counted apart in the digest)."""
    return session.scalar(select(func.count()).select_from(TicketReferral).where(
        TicketReferral.school_id == school_id, TicketReferral.feedback_at.is_(None))) or 0


def referrals_between(session: Session, school_id: int, start: dt.datetime, end: dt.datetime) -> int:
    """Return how many tickets were referred in a period."""
    return session.scalar(select(func.count()).select_from(TicketReferral).where(
        TicketReferral.school_id == school_id, TicketReferral.referred_at >= start,
        TicketReferral.referred_at < end)) or 0
