"""The reception-day rule parser and slot cutter (pure; Hypothesis for the parsers)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.reception_rules import Rule, RuleError, dates, parse_range, parse_rule, slot_starts

rules = st.one_of(
    st.just(Rule("daily")),
    st.builds(Rule, st.just("weekly"), st.integers(0, 6)),
    st.builds(Rule, st.just("monthly"), st.integers(0, 6), st.sampled_from([1, 2, 3, 4, -1])),
)
times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@given(rules)
def test_a_rule_reads_back_from_its_own_label(rule):
    assert parse_rule(rule.label) == rule


@given(times, times)
def test_ranges_read_back_and_end_after_start(a, b):
    text = f"{a:%H:%M}-{b:%H:%M}"
    if b <= a:
        with pytest.raises(RuleError):
            parse_range(text)
    else:
        assert parse_range(text) == (a, b)


@given(st.text(max_size=12))
def test_any_text_is_a_rule_or_a_chinese_refusal(text):
    try:
        parse_rule(text)
    except RuleError as exc:
        assert "没看懂" in str(exc)


@given(times, st.integers(1, 600), st.integers(1, 48))
def test_slots_are_inside_the_window_and_never_more_than_asked(start, minutes, slots):
    first = dt.datetime.combine(dt.date(2026, 12, 7), start)
    end = first + dt.timedelta(minutes=minutes)
    if end.date() != first.date():
        return
    found = slot_starts(first.date(), start, end.time(), slots)
    assert 1 <= len(found) <= slots
    assert all(start <= t < end.time() for t in found) and found == sorted(set(found))


def test_spoken_forms():
    assert parse_rule("每月第1个星期一") == Rule("monthly", 0, 1)
    assert parse_rule("每月最后一个周五") == Rule("monthly", 4, -1)
    assert parse_rule("每星期三") == Rule("weekly", 2)
    assert parse_rule("每个工作日") == Rule("daily")
    assert parse_range("14点-17点") == (dt.time(14), dt.time(17))
    assert parse_range("8:30～11:30") == (dt.time(8, 30), dt.time(11, 30))


def test_first_monday_and_last_friday_on_working_days_only():
    workday = lambda d: d != dt.date(2027, 1, 4) and d.weekday() < 5  # noqa: E731 - a holiday on Jan 4
    first_mondays = list(dates(Rule("monthly", 0, 1), dt.date(2026, 12, 1), workday, 70))
    assert first_mondays == [dt.date(2026, 12, 7), dt.date(2027, 2, 1)], "January's falls on a holiday"
    last_fridays = list(dates(Rule("monthly", 4, -1), dt.date(2026, 12, 1), workday, 40))
    assert last_fridays == [dt.date(2026, 12, 25)]
