"""The simulator's transcript: what each simulated person sees in their chats."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow
from models.class_order import class_key
from models.directory import Guardian, Guardianship, School, SchoolClass, Staff, Student
from models.identity import ChatGroup


class SimulatorLine(Base):
    """One line in a simulated chat (``user:<id>`` or ``group:<conversation>``)."""

    __tablename__ = "simulator_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    chat: Mapped[str] = mapped_column(String(160), index=True)
    author: Mapped[str] = mapped_column(String(100))
    from_bot: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def add_line(session: Session, school_id: int, chat: str, author: str, text: str, now: dt.datetime,
             from_bot: bool = False) -> SimulatorLine:
    """Append a line to a simulated chat."""
    line = SimulatorLine(school_id=school_id, chat=chat, author=author, text=text, from_bot=from_bot,
                         created_at=now)
    session.add(line)
    session.flush()
    return line


def lines(session: Session, chat: str, after_id: int = 0, limit: int = 200) -> list[SimulatorLine]:
    """Return a chat's lines after ``after_id``, oldest first."""
    rows = session.scalars(
        select(SimulatorLine).where(SimulatorLine.chat == chat, SimulatorLine.id > after_id)
        .order_by(SimulatorLine.id.desc()).limit(limit)
    ).all()
    return list(reversed(rows))


@dataclasses.dataclass(frozen=True)
class SimPerson:
    """Someone the simulator can play, with their private id and class group."""

    key: str
    label: str
    role: str
    school_id: int
    school_name: str
    group_id: str | None
    group_title: str | None
    hint: str


def group_conversation_id(class_id: int) -> str:
    """Return the simulated class group's conversation id."""
    return f"sim-class-{class_id}"


def ensure_group(session: Session, school_class: SchoolClass, now: dt.datetime) -> ChatGroup:
    """Register the simulated group of a class (idempotent)."""
    conv = group_conversation_id(school_class.id)
    group = session.scalar(select(ChatGroup).where(ChatGroup.platform == "simulator",
                                                  ChatGroup.conversation_id == conv))
    if group is None:
        group = ChatGroup(platform="simulator", school_id=school_class.school_id, conversation_id=conv,
                          class_id=school_class.id, title=f"{school_class.name}家长群", created_at=now)
        session.add(group)
        session.flush()
    return group


def people(session: Session, limit_guardians: int = 400, *, demo_only: bool = True) -> list[SimPerson]:
    """List the people of the demo schools: leaders, teachers, then guardians.

    Only schools made by ``seed-demo`` (``School.is_demo``) are listed, so a
    deployment's real families never appear and nobody can speak for them;
    the test kit (``demo_only=False``) may play any school of its own database.
    """
    result: list[SimPerson] = []
    demo = select(School.id).where(School.is_demo.is_(True)) if demo_only else select(School.id)
    staff_rows = session.scalars(select(Staff).where(Staff.active.is_(True), Staff.school_id.in_(demo))
                                 .order_by(Staff.school_id, Staff.id)).all()
    classes = session.scalars(select(SchoolClass).where(SchoolClass.school_id.in_(demo))).all()
    head_of = {c.head_teacher_id: c for c in classes if c.head_teacher_id}
    order = {"principal": 0, "director": 1, "admin": 2, "head_teacher": 3, "teacher": 4}
    def headed(staff: Staff) -> tuple:
        cls = head_of.get(staff.id)
        return class_key(cls.name, cls.grade) if cls else ()

    for staff in sorted(staff_rows, key=lambda s: (s.school_id, order.get(s.role, 9), headed(s), s.id)):
        cls = head_of.get(staff.id)
        label = f"{staff.name}（{staff.role_name}{'·' + cls.name if cls else ''}）"
        result.append(SimPerson(
            key=f"staff-{staff.id}", label=label, role=staff.role, school_id=staff.school_id,
            school_name=staff.school.name, group_id=group_conversation_id(cls.id) if cls else None,
            group_title=f"{cls.name}家长群" if cls else None,
            hint=f"绑定 {staff.name} {(staff.phone or '')[-4:]}",
        ))
    guardians = session.scalars(
        select(Guardian).join(Guardianship).join(Student)
        .where(Student.active.is_(True), Guardian.school_id.in_(demo))
        .order_by(Guardian.school_id, Guardian.id).distinct().limit(limit_guardians)
    ).all()
    def first_class(guardian: Guardian) -> tuple:
        pairs = [gs for gs in guardian.guardianships if gs.student.active]
        return class_key(pairs[0].student.school_class.name, pairs[0].student.school_class.grade) if pairs else ()

    for guardian in sorted(guardians, key=lambda g: (g.school_id, first_class(g), g.id)):
        pairs = [gs for gs in guardian.guardianships if gs.student.active]
        if not pairs:
            continue
        first = pairs[0]
        cls = first.student.school_class
        label = "、".join(gs.display_name for gs in pairs)
        result.append(SimPerson(
            key=f"guardian-{guardian.id}", label=f"{label}（{cls.name}）", role="parent",
            school_id=guardian.school_id, school_name=cls.school.name,
            group_id=group_conversation_id(cls.id), group_title=f"{cls.name}家长群",
            hint=f"绑定 {first.student.name} {guardian.phone[-4:]}",
        ))
    return result


def find_person(session: Session, key: str, *, demo_only: bool = True) -> SimPerson | None:
    """Return a simulated person by key (``staff-3``) or display name (``张小明妈妈``)."""
    for person in people(session, limit_guardians=100_000, demo_only=demo_only):
        if person.key == key or key in person.label.split("（")[0].split("、") or person.label.startswith(key):
            return person
    return None
