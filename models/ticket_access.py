"""Who may see and act on which ticket, and the lists each role gets.

Rules: a parent sees only the tickets they raised (or raised for the same
guardian–student pair); a teacher sees what is assigned to them, and a head
teacher also their class's tickets except complaints about staff; leaders see
the whole school. Nobody ever sees a complaint about themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, case, false, or_, select
from sqlalchemy.orm import Session

from models.directory import SchoolClass, Staff
from models.tickets import OPEN_STATES, Ticket, TicketState


def can_view(staff: Staff, ticket: Ticket) -> bool:
    """Return whether a staff member may see a ticket."""
    if staff.school_id != ticket.school_id or not staff.active or staff.id == ticket.about_staff_id:
        return False
    if staff.is_leader or ticket.assignee_id == staff.id:
        return True
    head_of_class = ticket.school_class is not None and ticket.school_class.head_teacher_id == staff.id
    return head_of_class and ticket.category != "teacher_conduct" and ticket.about_staff_id is None


def visible_clause(staff: Staff) -> Any:
    """Return ``can_view`` as a SQL condition on ``Ticket``, for lists that page in the database.

    The same rules as ``can_view`` (a test checks the two agree on every pair):
    the school's tickets for leaders, otherwise those assigned to the staff
    member or, for a head teacher, their class's except complaints about staff;
    never a complaint about the staff member themselves.
    """
    if not staff.active:
        return false()
    mine = [Ticket.school_id == staff.school_id,
            or_(Ticket.about_staff_id.is_(None), Ticket.about_staff_id != staff.id)]
    if staff.is_leader:
        return and_(*mine)
    headed = select(SchoolClass.id).where(SchoolClass.head_teacher_id == staff.id)
    return and_(*mine, or_(Ticket.assignee_id == staff.id,
                           and_(Ticket.class_id.in_(headed), Ticket.category != "teacher_conduct",
                                Ticket.about_staff_id.is_(None))))


def can_act(staff: Staff, ticket: Ticket) -> bool:
    """Return whether a staff member may handle a ticket (its assignee, or a leader)."""
    if not can_view(staff, ticket):
        return False
    return staff.is_leader or ticket.assignee_id == staff.id


def parent_can_view(identity_id: int, guardianship_ids: Iterable[int], ticket: Ticket) -> bool:
    """Return whether a parent may see a ticket (their own family's only)."""
    return ticket.identity_id == identity_id or (
        ticket.guardianship_id is not None and ticket.guardianship_id in set(guardianship_ids)
    )


def _open_first():
    return case((Ticket.state.in_(list(OPEN_STATES)), 0), (Ticket.state == TicketState.RESOLVED, 1), else_=2)


def tickets_for_staff(session: Session, staff: Staff, limit: int = 30) -> list[Ticket]:
    """Return the tickets a teacher works on: assigned to them, or their class's; open first."""
    classes = select(SchoolClass.id).where(SchoolClass.head_teacher_id == staff.id)
    rows = session.scalars(
        select(Ticket).where(
            Ticket.school_id == staff.school_id,
            or_(Ticket.assignee_id == staff.id, Ticket.class_id.in_(classes)),
        ).order_by(_open_first(), Ticket.resolve_by, Ticket.id.desc()).limit(limit * 2)
    ).all()
    return [t for t in rows if can_view(staff, t)][:limit]


def tickets_for_school(session: Session, leader: Staff, *, only_open: bool = False, limit: int = 50) -> list[Ticket]:
    """Return a leader's view of the school's tickets (open first)."""
    query = select(Ticket).where(Ticket.school_id == leader.school_id)
    if only_open:
        query = query.where(Ticket.state.in_(list(OPEN_STATES)))
    rows = session.scalars(query.order_by(_open_first(), Ticket.resolve_by, Ticket.id.desc()).limit(limit * 2)).all()
    return [t for t in rows if can_view(leader, t)][:limit]


def overdue_tickets(session: Session, school_id: int, now: dt.datetime) -> list[Ticket]:
    """Return the open tickets past their resolve-by deadline, oldest deadline first."""
    return list(session.scalars(
        select(Ticket).where(Ticket.school_id == school_id, Ticket.state.in_(list(OPEN_STATES)),
                             Ticket.resolve_by < now).order_by(Ticket.resolve_by)
    ).all())


def tickets_for_parent(session: Session, identity_id: int, guardianship_ids: Iterable[int],
                       limit: int = 20) -> list[Ticket]:
    """Return a parent's own tickets, newest first."""
    ids = list(guardianship_ids)
    cond = Ticket.identity_id == identity_id
    if ids:
        cond = or_(cond, Ticket.guardianship_id.in_(ids))
    return list(session.scalars(select(Ticket).where(cond).order_by(Ticket.id.desc()).limit(limit)).all())
