"""Classes are listed in grade order (小/中/大班, 一…九年级), never by character code (issue 16, item 12)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import notice_acks, notices, scope, survey_results, surveys
from models.class_order import class_key, sort_classes
from models.directory import Guardian, School, SchoolClass
from models.visits import coverage_by_class, due_students
from tests.factories import make_staff, make_student

CANONICAL = ["托班", "小一班", "小二班", "中一班", "中二班", "中十班", "大一班", "一年级一班", "一年级二班",
             "一年级十二班", "二年级一班", "三年级(2)班", "三年级3班", "初一一班", "九年级一班", "高三二班"]


@given(st.permutations(CANONICAL))
def test_any_order_sorts_to_grade_order(names):
    assert sorted(names, key=class_key) == CANONICAL


# Created in character-code order, as a roster sorted by Excel would be.
PRIMARY = ["三年级一班", "二年级一班", "一年级一班"]
KINDERGARTEN = [("中班", "中一班"), ("大班", "大一班"), ("小班", "小一班")]


@pytest.fixture
def schools(db_session, now):
    made = {}
    for code, name, classes in (("p", "顺序小学", [(n[:3], n) for n in PRIMARY]), ("k", "顺序幼儿园", KINDERGARTEN)):
        school = School(code=code, name=name, kind="primary" if code == "p" else "kindergarten")
        db_session.add(school)
        head = make_staff(db_session, school, f"{name}校长", f"1350000{len(made)}999", "principal")
        for n, (grade, class_name) in enumerate(classes):
            cls = SchoolClass(school=school, grade=grade, name=class_name)
            db_session.add(cls)
            guardian = Guardian(school=school, name=f"{class_name}家长", phone=f"1390{len(made)}{n:06d}")
            db_session.add(guardian)
            make_student(db_session, cls, f"{class_name}学生", [(guardian, "妈妈")])
        db_session.flush()
        made[code] = (school, head)
    db_session.commit()
    return made


def test_coverage_and_due_lists_follow_grade_order(db_session, schools, now):
    tz = ZoneInfo("Asia/Shanghai")
    school, _ = schools["k"]
    assert [c.class_name for c in coverage_by_class(db_session, school.id, now=now, tz=tz)] == \
        ["小一班", "中一班", "大一班"]
    school, _ = schools["p"]
    due = due_students(db_session, now=now, tz=tz, care_days=14, school_id=school.id)
    assert [d.class_name for d in due] == ["一年级一班", "二年级一班", "三年级一班"]


def test_scope_notice_stats_and_survey_results_follow_grade_order(ext, db_session, schools, now):
    school, principal = schools["p"]
    everyone = scope.resolve_scope(db_session, school.id, "全校")
    names = [db_session.get(SchoolClass, i).name for i in everyone.class_ids]
    assert names == ["一年级一班", "二年级一班", "三年级一班"]
    notice = notices.draft_notice(db_session, school_id=school.id, author=principal, scope=everyone, text="停水",
                                  important=False, scheduled_for=None, now=now)
    notices.deliver_notice(db_session, notice, ext.settings, now)
    assert [s.class_name for s in notice_acks.notice_stats(db_session, notice)] == names
    survey, _ = surveys.launch_survey(db_session, author=principal, scope=everyone,
                                      deadline=now + dt.timedelta(days=3), settings=ext.settings, now=now)
    results = survey_results.compute_results(db_session, survey)
    assert [g.name for _, g in results.classes] == names
    assert [g.name for g in results.grades] == ["一年级", "二年级", "三年级"]
    assert [g.name for _, g in results.ranking] == names, "no rates yet: grade order"


def test_sort_classes_keeps_objects():
    rows = [SchoolClass(grade="大班", name="大一班"), SchoolClass(grade="小班", name="小二班"),
            SchoolClass(grade="小班", name="小一班")]
    assert [c.name for c in sort_classes(rows)] == ["小一班", "小二班", "大一班"]
