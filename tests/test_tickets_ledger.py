"""Ticket numbering per school and year, and working-day deadlines with the holiday calendar."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from models import deadlines, ticket_service
from models.directory import School
from models.tickets import next_number, parse_number
from tests.factories import build_school

TZ = "Asia/Shanghai"


def _bj(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h - 8, 0, tzinfo=dt.UTC)


def test_numbers_are_per_school_and_per_year(db_session, now):
    ts = build_school(db_session, now)
    other = School(code="t2", name="另一小学")
    db_session.add(other)
    db_session.flush()
    assert [next_number(db_session, ts.school.id, now) for _ in range(3)] == ["2026-0001", "2026-0002", "2026-0003"]
    assert next_number(db_session, other.id, now) == "2026-0001"
    assert next_number(db_session, ts.school.id, _bj(2027, 1, 4)) == "2027-0001"
    # New Year's Eve 23:30 in Beijing is still 2026 there.
    assert next_number(db_session, ts.school.id, dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)) == "2026-0004"


def test_open_ticket_numbers_and_routes(db_session, now):
    ts = build_school(db_session, now)
    kwargs = dict(school=ts.school, kind="complaint", urgency="normal", now=now, tz=TZ,
                  student=ts.students["张小明"])
    fees = ticket_service.open_ticket(db_session, category="fees", text="资料费", **kwargs)
    after = ticket_service.open_ticket(db_session, category="after_school", text="托管", **kwargs)
    enrol = ticket_service.open_ticket(db_session, category="enrollment", text="转学", **kwargs)
    assert (fees.number, after.number, enrol.number) == ("2026-0001", "2026-0002", "2026-0003")
    assert fees.assignee.name == "吴刚"  # 财务
    assert after.assignee.name == "王芳"  # no 课后服务 duty: the head teacher
    assert enrol.assignee.name == "钱主任"  # 教务
    assert [e.action for e in fees.events] == ["created", "assigned"]


def test_least_loaded_duty_holder_gets_it(db_session, now):
    ts = build_school(db_session, now)
    ts.staff["吴刚"].duties[0].duty = "总务"  # two 总务 holders now: 周敏 and 吴刚
    db_session.flush()
    kwargs = dict(school=ts.school, kind="complaint", category="food", urgency="normal", now=now, tz=TZ,
                  student=ts.students["张小明"])
    owners = [ticket_service.open_ticket(db_session, text=f"饭菜{i}", **kwargs).assignee.name for i in range(4)]
    assert sorted(owners) == ["吴刚", "吴刚", "周敏", "周敏"]


def test_working_days_skip_weekends():
    # Friday 10:00 + 3 working days → Wednesday 10:00.
    respond, resolve = deadlines.deadlines_for("normal", _bj(2026, 11, 20), None, TZ)
    assert respond == _bj(2026, 11, 21)  # 24 clock hours
    assert resolve == _bj(2026, 11, 25)
    urgent = deadlines.deadlines_for("urgent", _bj(2026, 11, 21), None, TZ)
    assert urgent == (_bj(2026, 11, 21, 11), _bj(2026, 11, 22))


def test_working_days_skip_holidays_and_count_make_up_days():
    # 30 Sept + 3 working days: 1–7 Oct is 国庆; 8 Oct (Thu), 9 Oct (Fri), 10 Oct (Sat, 调休上班).
    assert deadlines.deadlines_for("normal", _bj(2026, 9, 30), None, TZ)[1] == _bj(2026, 10, 10)
    # Low urgency responds in 5 working days: from 13 Feb, 14 Feb (Sat) is a make-up day, 15–23 Feb 春节.
    assert deadlines.deadlines_for("low", _bj(2026, 2, 13), None, TZ)[0] == _bj(2026, 2, 27)
    cal = deadlines.calendar()
    assert not cal.is_working_day(dt.date(2026, 10, 5))
    assert cal.is_working_day(dt.date(2026, 9, 20))


def test_the_official_calendar_covers_next_year_or_the_yaml_does_provisionally():
    """chinesecalendar follows the State Council's notices; a year it lacks falls back to holidays.yaml."""
    import warnings

    next_year = dt.date.today().year + 1
    if next_year not in deadlines.OFFICIAL_YEARS:
        warnings.warn(f"chinesecalendar has no official data for {next_year}: upgrade it once the State Council "
                      f"publishes that year's holidays (config/holidays.yaml holds provisional days meanwhile)",
                      stacklevel=1)
        provisional = {d.year for d in deadlines.calendar().holidays}
        assert next_year in provisional, f"neither chinesecalendar nor config/holidays.yaml covers {next_year}"
    cal = deadlines.calendar()
    assert not cal.is_working_day(dt.date(2027, 10, 4))  # provisional 国庆 of a year the package lacks
    assert cal.is_working_day(dt.date(2027, 10, 8))


def test_a_schools_own_day_off_is_added_to_the_national_calendar(monkeypatch, tmp_path):
    (tmp_path / "holidays.yaml").write_text("schools:\n  t1:\n    holidays: [2026-11-27]\n", encoding="utf-8")
    monkeypatch.setattr(deadlines, "CONFIG_DIR", tmp_path)
    deadlines.calendar.cache_clear()
    try:
        assert not deadlines.calendar("t1").is_working_day(dt.date(2026, 11, 27))  # 校运动会
        assert deadlines.calendar("t2").is_working_day(dt.date(2026, 11, 27))
        assert not deadlines.calendar("t2").is_working_day(dt.date(2026, 10, 5))  # national, from the package
    finally:
        deadlines.calendar.cache_clear()


@given(st.integers(min_value=1, max_value=9999), st.sampled_from(["{y}-{n:04d}", "{y}{n:04d}", "{n}", "#{n}",
                                                                   "{y}－{n:04d}", " {y}-{n} "]))
def test_parse_number_forms(n: int, form: str):
    text = form.format(y=2026, n=n)
    year, seq = parse_number(text)
    assert seq == n and year in (2026, None)


@given(st.text(alphabet="abc饭菜-", max_size=6))
def test_parse_number_rejects_words(text: str):
    assert parse_number(text) is None or text.strip("-").isdigit()
