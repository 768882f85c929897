"""Factories: a small, fully known school for tests."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy.orm import Session

from models.directory import (
    ClassTeacher,
    Guardian,
    Guardianship,
    School,
    SchoolClass,
    Staff,
    StaffDuty,
    Student,
    StudentCare,
)
from models.simulator import ensure_group


@dataclasses.dataclass
class TestSchool:
    """Handles on everything ``build_school`` made."""

    school: School
    staff: dict[str, Staff]
    classes: dict[str, SchoolClass]
    students: dict[str, Student]
    guardians: dict[str, Guardian]


def make_staff(session: Session, school: School, name: str, phone: str, role: str = "teacher",
               duties: tuple[str, ...] = ()) -> Staff:
    """Add a staff member with duties."""
    staff = Staff(school=school, name=name, phone=phone, role=role)
    staff.duties = [StaffDuty(duty=d) for d in duties]
    session.add(staff)
    return staff


def make_student(session: Session, cls: SchoolClass, name: str, guardians: list[tuple[Guardian, str]],
                 responsible: Staff | None = None, care: tuple[str, ...] = ()) -> Student:
    """Add a student with guardian pairs [(guardian, relation)]."""
    student = Student(school=cls.school, school_class=cls, name=name, responsible_staff=responsible)
    student.care_flags = [StudentCare(flag=f) for f in care]
    session.add(student)
    for guardian, relation in guardians:
        session.add(Guardianship(guardian=guardian, student=student, relation=relation))
    return student


def build_school(session: Session, now: dt.datetime) -> TestSchool:
    """Create 测试小学: two first-grade classes, leaders, duty holders and families.

    Families include siblings with one mother (陈大宝, 陈二宝) and two different
    families whose grandmothers share one phone number (王小虎, 赵小龙).
    """
    school = School(code="t1", name="测试小学", kind="primary", is_demo=True)  # the simulator may play it
    session.add(school)
    s = {
        "赵校长": make_staff(session, school, "赵校长", "13500000001", "principal"),
        "钱主任": make_staff(session, school, "钱主任", "13500000002", "director", ("教务",)),
        "王芳": make_staff(session, school, "王芳", "13500000003", "head_teacher", ("德育",)),
        "孙丽": make_staff(session, school, "孙丽", "13500000004", "head_teacher"),
        "李强": make_staff(session, school, "李强", "13500000005", "teacher", ("安全",)),
        "周敏": make_staff(session, school, "周敏", "13500000006", "teacher", ("总务",)),
        "吴刚": make_staff(session, school, "吴刚", "13500000007", "teacher", ("财务",)),
    }
    c1 = SchoolClass(school=school, grade="一年级", name="一年级一班", head_teacher=s["王芳"])
    c2 = SchoolClass(school=school, grade="一年级", name="一年级二班", head_teacher=s["孙丽"])
    session.add_all([c1, c2])
    c1.teachers = [ClassTeacher(staff=s["李强"])]
    c2.teachers = [ClassTeacher(staff=s["李强"])]
    g = {
        "张妈妈": Guardian(school=school, name="李娟", phone="13800001234"),
        "张爸爸": Guardian(school=school, name="张伟", phone="13900005678"),
        "陈妈妈": Guardian(school=school, name="刘芳", phone="13600002222"),
        "王奶奶": Guardian(school=school, name="王秀英", phone="13700001111"),
        "赵奶奶": Guardian(school=school, name="赵桂兰", phone="13700001111"),
    }
    session.add_all(g.values())
    st = {
        "张小明": make_student(session, c1, "张小明", [(g["张妈妈"], "妈妈"), (g["张爸爸"], "爸爸")], s["王芳"]),
        "陈大宝": make_student(session, c1, "陈大宝", [(g["陈妈妈"], "妈妈")], s["李强"], ("left_behind",)),
        "陈二宝": make_student(session, c2, "陈二宝", [(g["陈妈妈"], "妈妈")], s["孙丽"]),
        "王小虎": make_student(session, c1, "王小虎", [(g["王奶奶"], "奶奶")], s["王芳"], ("hardship",)),
        "赵小龙": make_student(session, c2, "赵小龙", [(g["赵奶奶"], "奶奶")], s["孙丽"]),
    }
    session.flush()
    for cls in (c1, c2):
        ensure_group(session, cls, now)
    session.flush()
    return TestSchool(school, s, {"一年级一班": c1, "一年级二班": c2}, st, g)
