"""A ticket number names one ticket in the whole deployment; a school's own chat keeps the short form (item 7)."""

from __future__ import annotations

import openpyxl
import pytest

from models import schools, ticket_service
from models.directory import School
from models.tickets import find_ticket
from tests.kit import SimBot

TZ = "Asia/Shanghai"


@pytest.fixture
def two_schools(ext, db_session, school, now):
    other = School(code="t2", name="另一小学")
    db_session.add(other)
    db_session.flush()
    mine = ticket_service.open_ticket(db_session, school=school.school, kind="complaint", category="food",
                                      urgency="normal", text="饭菜凉", now=now, tz=TZ, student=school.students["张小明"])
    theirs = ticket_service.open_ticket(db_session, school=other, kind="complaint", category="food",
                                        urgency="normal", text="饭菜咸", now=now, tz=TZ)
    db_session.commit()
    return school, other, mine, theirs


def test_both_schools_count_from_one_but_the_full_numbers_differ(two_schools):
    _, _, mine, theirs = two_schools
    assert mine.number == theirs.number == "2026-0001", "each school's own sequence"
    assert (mine.full_number, theirs.full_number) == ("T1-2026-0001", "T2-2026-0001")


def test_exports_and_the_operator_list_use_the_full_number(runner, tmp_path, two_schools):
    path = tmp_path / "ledger.xlsx"
    assert runner.invoke(args=["export", "ledger", "--school", "t1", str(path)]).exit_code == 0
    ws = openpyxl.load_workbook(path).active
    assert ws["A3"].value == "T1-2026-0001"
    listed = runner.invoke(args=["tickets", "list", "--school", "t2"]).output
    assert "T2-2026-0001" in listed


def test_chat_keeps_the_short_form_and_understands_the_full_one(ext, db_session, two_schools):
    bot = SimBot(ext, db_session)
    bot.bind("王芳")
    bot.bind("钱主任")
    assert any("T1-2026-0001" not in r and "2026-0001" in r for r in bot.say("钱主任", "全部工单"))
    assert any("饭菜凉" in r for r in bot.say("钱主任", "查看 t1-2026-0001"))
    assert any("没有找到工单" in r for r in bot.say("钱主任", "查看 T2-2026-0001")), "another school's ticket"


def test_the_prefix_is_kept_when_the_school_code_changes(db_session, two_schools, now):
    school, _, mine, _ = two_schools
    schools.set_code(db_session, "t1", "shiyan")
    later = ticket_service.open_ticket(db_session, school=school.school, kind="help", category="other",
                                       urgency="normal", text="水杯丢了", now=now, tz=TZ)
    db_session.flush()
    assert (mine.full_number, later.full_number) == ("T1-2026-0001", "T1-2026-0002")
    assert find_ticket(db_session, school.school.id, "T1-2026-0002") is later
