"""Apply a validated roster: upsert in place, mark the departed, never delete history."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.base import Base
from models.directory import (
    ClassTeacher,
    Guardian,
    Guardianship,
    Role,
    School,
    SchoolClass,
    Staff,
    StaffDuty,
    Student,
    StudentCare,
)
from models.identity import BindingCode, IdentityBinding
from models.roster_rows import Plan, StudentPlan

ENTITIES = ("学校", "教职工", "班级", "学生", "家长")


def _set(obj: Any, **values: Any) -> bool:
    """Set attributes that differ; return whether anything changed."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def school_code(name: str) -> str:
    """Return a stable code for a school created from a roster."""
    return "s-" + hashlib.sha1(name.encode()).hexdigest()[:10]


class Applier:
    """Writes one validated plan; counts what it created, updated, kept and marked left."""

    def __init__(self, session: Session, plan: Plan, now: dt.datetime) -> None:
        self.session, self.plan, self.now = session, plan, now
        self.counts: dict[str, Counter[str]] = {e: Counter() for e in ENTITIES}
        self.warnings: list[str] = list(plan.warnings)
        self.schools: dict[str, School] = {}
        self.staff: dict[tuple[str, str], Staff] = {}
        self.classes: dict[tuple[str, str], SchoolClass] = {}
        self.guardians: dict[tuple[int, str, str], Guardian] = {}

    def run(self) -> list[SchoolClass]:
        """Apply the plan and return the classes it touched."""
        self._schools()
        self._staff()
        self._grid()
        self._classes()
        self._students()
        self.session.flush()
        return list(self.classes.values())

    def _grid(self) -> None:
        """Keep the schools' grid contacts (角色 网格员) as the staff sheet lists them."""
        from models.grid import GridContact, upsert_contact

        for (school_name, name), row in self.plan.grid.items():
            upsert_contact(self.session, self.schools[school_name].id, name, area=row.area, phone=row.phone)
        for school_name in self.plan.staff_sheet_schools:
            school = self.schools[school_name]
            for contact in self.session.scalars(select(GridContact).where(
                    GridContact.school_id == school.id, GridContact.source == "roster", GridContact.active.is_(True))):
                if (school_name, contact.name) not in self.plan.grid:
                    contact.active = False

    def _count(self, entity: str, created: bool, changed: bool) -> None:
        self.counts[entity]["created" if created else "updated" if changed else "unchanged"] += 1

    def _schools(self) -> None:
        for name, kind in self.plan.schools.items():
            school = self.session.scalar(select(School).where(School.name == name))
            created = school is None
            if school is None:
                school = School(name=name, code=school_code(name), kind=kind, created_at=self.now)
                self.session.add(school)
            changed = kind is not None and _set(school, kind=kind)
            self._count("学校", created, changed and not created)
            self.schools[name] = school
        self.session.flush()
        for name, school in self.schools.items():
            for staff in self.session.scalars(select(Staff).where(Staff.school_id == school.id)):
                self.staff[(name, staff.name)] = staff
            for cls in self.session.scalars(select(SchoolClass).where(SchoolClass.school_id == school.id)):
                self.classes[(name, cls.name)] = cls
            for g in self.session.scalars(select(Guardian).where(Guardian.school_id == school.id)):
                self.guardians[(school.id, g.name, g.phone)] = g
        # Only classes named in this file are touched.
        self.classes = {k: v for k, v in self.classes.items() if k in self.plan.classes}

    def _staff(self) -> None:
        heads = {(c.school, c.head) for c in self.plan.classes.values() if c.head}
        referenced = set(heads)
        for cls in self.plan.classes.values():
            referenced |= {(cls.school, t) for t in cls.teachers}
        referenced |= {(s.school, s.responsible) for s in self.plan.students.values() if s.responsible}
        for key in list(self.plan.staff) + sorted(referenced - set(self.plan.staff)):
            row = self.plan.staff.get(key)
            staff = self.staff.get(key)
            created = staff is None
            if staff is None:
                staff = Staff(school=self.schools[key[0]], name=key[1], role=Role.TEACHER, created_at=self.now)
                self.session.add(staff)
                self.staff[key] = staff
            role = row.role if row and row.role else staff.role
            if key in heads and role == Role.TEACHER:
                role = Role.HEAD_TEACHER
            changed = _set(staff, role=role, active=True)
            if row is not None:
                if row.phone:
                    changed |= _set(staff, phone=row.phone)
                changed |= self._duties(staff, row.duties or [])
            self._count("教职工", created, changed)
        for key, staff in self.staff.items():
            listed = key in self.plan.staff or key in referenced
            if key[0] in self.plan.staff_sheet_schools and not listed and staff.active:
                staff.active = False
                self.counts["教职工"]["left"] += 1
        self.session.flush()

    @staticmethod
    def _duties(staff: Staff, duties: list[str]) -> bool:
        have = [d.duty for d in staff.duties]
        if sorted(have) == sorted(duties):
            return False
        staff.duties = [d for d in staff.duties if d.duty in duties] + [
            StaffDuty(duty=d) for d in duties if d not in have
        ]
        return True

    def _classes(self) -> None:
        for key, row in self.plan.classes.items():
            cls = self.classes.get(key)
            created = cls is None
            if cls is None:
                cls = SchoolClass(school=self.schools[key[0]], name=row.name, grade=row.grade or "")
                self.session.add(cls)
                self.classes[key] = cls
            changed = bool(row.grade) and _set(cls, grade=row.grade)
            if row.head:
                changed |= _set(cls, head_teacher=self.staff[(key[0], row.head)])
            if row.teachers:
                wanted = [self.staff[(key[0], t)] for t in row.teachers]
                have = {ct.staff_id for ct in cls.teachers}
                if have != {s.id for s in wanted}:
                    cls.teachers = [ct for ct in cls.teachers if ct.staff in wanted] + [
                        ClassTeacher(staff=s) for s in wanted if s.id not in have
                    ]
                    changed = True
            self._count("班级", created, changed and not created)
        self.session.flush()

    def _students(self) -> None:
        seen: set[int] = set()
        for row in self.plan.students.values():
            student = self._student(row)
            seen.add(student.id)
        schools = {self.schools[s.school].id for s in self.plan.students.values()}
        for student in self.session.scalars(
            select(Student).where(Student.school_id.in_(schools), Student.active.is_(True))
        ):
            if student.id not in seen:
                student.active, student.left_at = False, self.now
                self.counts["学生"]["left"] += 1

    def _find_student(self, row: StudentPlan, cls: SchoolClass) -> Student | None:
        student = self.session.scalar(select(Student).where(Student.class_id == cls.id, Student.name == row.name))
        if student is not None:
            return student
        phones = {g.phone for g in row.guardians}
        moved = self.session.scalars(
            select(Student).where(Student.school_id == cls.school_id, Student.name == row.name)
            .order_by(Student.active.desc(), Student.id)
        ).all()
        for candidate in moved:
            if any(gs.guardian.phone in phones for gs in candidate.guardianships):
                return candidate
        return None

    def _student(self, row: StudentPlan) -> Student:
        cls = self.classes[(row.school, row.class_name)]
        student = self._find_student(row, cls)
        created = student is None
        if student is None:
            student = Student(school=cls.school, school_class=cls, name=row.name, created_at=self.now)
            self.session.add(student)
        changed = False
        if student.class_id is not None and student.class_id != cls.id:
            changed = True
            student.school_class, student.responsible_staff = cls, None
        changed |= _set(student, active=True, left_at=None)
        if row.gender:
            changed |= _set(student, gender=row.gender)
        if row.responsible:
            changed |= _set(student, responsible_staff=self.staff[(row.school, row.responsible)])
        if {c.flag for c in student.care_flags} != row.care:
            student.care_flags = [c for c in student.care_flags if c.flag in row.care] + [
                StudentCare(flag=f) for f in sorted(row.care - {c.flag for c in student.care_flags})
            ]
            changed = True
        self.session.flush()
        changed |= self._guardianships(student, row)
        self._count("学生", created, changed and not created)
        return student

    def _guardian(self, school_id: int, name: str, phone: str) -> Guardian:
        guardian = self.guardians.get((school_id, name, phone))
        if guardian is None:
            guardian = Guardian(school_id=school_id, name=name, phone=phone, created_at=self.now)
            self.session.add(guardian)
            self.guardians[(school_id, name, phone)] = guardian
            self.counts["家长"]["created"] += 1
        return guardian

    def _guardianships(self, student: Student, row: StudentPlan) -> bool:
        changed = False
        remaining = list(student.guardianships)
        for line in row.guardians:
            gs = next((g for g in remaining if (g.guardian.name, g.guardian.phone) == (line.name, line.phone)), None)
            if gs is None:
                gs = next((g for g in remaining if g.guardian.name == line.name), None)
                if gs is not None:  # same person, new phone: keep the pair and its bindings
                    changed = True
                    self._new_phone(gs, line.phone)
            if gs is None:
                gs = Guardianship(guardian=self._guardian(student.school_id, line.name, line.phone), student=student,
                                  relation=line.relation)
                self.session.add(gs)
                changed = True
            else:
                remaining.remove(gs)
                changed |= _set(gs, relation=line.relation)
        for gs in remaining:
            changed = True
            self._remove_guardianship(gs)
        return changed

    def _new_phone(self, gs: Guardianship, phone: str) -> None:
        old = gs.guardian
        existing = self.guardians.get((old.school_id, old.name, phone))
        if existing is not None:
            gs.guardian = existing
            return
        self.guardians.pop((old.school_id, old.name, old.phone), None)
        old.phone = phone
        self.guardians[(old.school_id, old.name, phone)] = old
        self.counts["家长"]["updated"] += 1

    def _remove_guardianship(self, gs: Guardianship) -> None:
        """Revoke a guardian no longer on the roster; keep the pair if other records point at it."""
        who = f"{gs.student.name}的{gs.relation}（{gs.guardian.name}）"
        for binding in self.session.scalars(select(IdentityBinding).where(IdentityBinding.guardianship_id == gs.id)):
            self.session.delete(binding)
        for code in self.session.scalars(select(BindingCode).where(BindingCode.guardianship_id == gs.id)):
            self.session.delete(code)
        self.session.flush()
        if _referenced(self.session, gs.id):
            self.warnings.append(f"{who}已不在花名册中：已解除其绑定，相关记录保留")
            gs.relation = "已移除"
            return
        self.session.delete(gs)
        self.warnings.append(f"{who}已不在花名册中：已解除其绑定")


def _referenced(session: Session, guardianship_id: int) -> bool:
    """Return whether a row of another feature's table refers to this guardianship."""
    for table in Base.metadata.sorted_tables:
        if table.name in ("identity_bindings", "binding_codes"):
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == "guardianships":
                count = session.scalar(select(func.count()).select_from(table).where(fk.parent == guardianship_id))
                if count:
                    return True
    return False
