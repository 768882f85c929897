"""The demo district: realistic, idempotent, and the documented people work."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.demo import seed_demo
from models.directory import (
    ClassTeacher,
    Guardian,
    Guardianship,
    School,
    SchoolClass,
    Staff,
    Student,
    StudentCare,
)
from models.identity import ChatGroup
from tests.kit import SimBot

COUNTED = (School, Staff, SchoolClass, ClassTeacher, Student, StudentCare, Guardian, Guardianship, ChatGroup)


@pytest.fixture
def demo(db_session, now):
    summary = seed_demo(db_session, now)
    db_session.commit()
    return summary


def _counts(session) -> dict[str, int]:
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def test_seeding_twice_changes_nothing(db_session, demo, now) -> None:
    before = _counts(db_session)
    summary = seed_demo(db_session, now)
    db_session.commit()
    assert _counts(db_session) == before
    assert "未重复导入" in summary and "绑定 张小明 1234" in demo


def test_a_kindergarten_and_a_primary_school_of_about_200_students(db_session, demo) -> None:
    kinds = {s.name: s.kind for s in db_session.scalars(select(School))}
    assert kinds == {"实验小学": "primary", "阳光幼儿园": "kindergarten"}
    students = db_session.scalars(select(Student)).all()
    assert 190 <= len(students) <= 220
    cared = [s for s in students if s.care_flags]
    assert 0.05 <= len(cared) / len(students) <= 0.08
    for s in students:
        assert s.guardianships, f"{s.name} has no guardian"


def test_every_paired_teacher_has_10_to_20_students_and_care_goes_to_head_teachers(db_session, demo) -> None:
    loads = dict(db_session.execute(
        select(Student.responsible_staff_id, func.count()).group_by(Student.responsible_staff_id)).all())
    assert None not in loads, "every student has a 包靠 teacher"
    assert all(10 <= n <= 20 for n in loads.values()), loads
    subject = {s.id for s in db_session.scalars(select(Staff).where(Staff.role == "teacher"))}
    assert len(subject & set(loads)) >= 3, "subject teachers are paired too"
    for s in db_session.scalars(select(Student).join(StudentCare)):
        assert s.responsible_staff_id == s.school_class.head_teacher_id


def test_documented_people_exist(db_session, demo) -> None:
    zhang = db_session.scalar(select(Student).where(Student.name == "张小明"))
    assert zhang.school_class.name == "一年级一班" and zhang.school.name == "实验小学"
    pairs = {(gs.relation, gs.guardian.name, gs.guardian.phone[-4:]) for gs in zhang.guardianships}
    assert ("妈妈", "李娟", "1234") in pairs and ("爸爸", "张伟", "5678") in pairs
    assert zhang.school_class.head_teacher.name == "王芳"
    roles = {s.name: s.role for s in db_session.scalars(select(Staff))}
    assert roles["赵建国"] == "principal" and roles["钱立新"] == "director"
    assert db_session.scalar(select(func.count()).select_from(ChatGroup)) == 13


def test_zhang_xiaoming_mum_binds_in_the_simulator(ext, db_session, demo) -> None:
    bot = SimBot(ext, db_session)
    replies = bot.say("张小明妈妈", "绑定 张小明 1234")
    assert any("绑定成功" in r and "张小明（一年级一班）" in r for r in replies)
    assert any("绑定成功" in r and "班主任" in r for r in bot.say("王芳", "绑定 王芳 0003"))


def test_families_sharing_a_phone_only_see_their_own_child(ext, db_session, demo) -> None:
    shared = db_session.scalars(select(Guardian).where(Guardian.phone == "13700001111")).all()
    assert len(shared) == 2
    kids = {gs.student.name for g in shared for gs in g.guardianships}
    assert len(kids) == 2
    first = shared[0].guardianships[0]
    bot = SimBot(ext, db_session)
    replies = bot.say(first.display_name, f"绑定 {first.student.name} 1111")
    assert any("绑定成功" in r for r in replies)
    other = (kids - {first.student.name}).pop()
    assert not any(other in r for r in replies)
