"""Scope parsing (全校 / grades / classes, kindergarten grades too), with Hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.notice_acks import is_acknowledgement
from models.scope import ClassRef, ScopeError, chinese_numerals, parse_scope

PRIMARY = [ClassRef(1, "一年级一班", "一年级"), ClassRef(2, "一年级二班", "一年级"),
           ClassRef(3, "三年级一班", "三年级"), ClassRef(4, "三年级二班", "三年级"),
           ClassRef(5, "十二年级一班", "十二年级")]
KINDERGARTEN = [ClassRef(11, "小一班", "小班"), ClassRef(12, "中一班", "中班"), ClassRef(13, "大一班", "大班"),
                ClassRef(14, "大二班", "大班")]


@pytest.mark.parametrize(("text", "ids"), [
    ("全校", (1, 2, 3, 4, 5)), ("一年级", (1, 2)), ("三年级二班", (4,)), ("3年级2班", (4,)),
    ("三年级二班、一年级一班", (1, 4)), ("一年级,一年级一班", (1, 2)), (" 三年级 ", (3, 4)), ("12年级1班", (5,)),
])
def test_primary_scopes(text: str, ids: tuple[int, ...]) -> None:
    assert parse_scope(text, PRIMARY).class_ids == ids


@pytest.mark.parametrize(("text", "ids"), [("全园", (11, 12, 13, 14)), ("大班", (13, 14)), ("中一班", (12,))])
def test_kindergarten_scopes(text: str, ids: tuple[int, ...]) -> None:
    assert parse_scope(text, KINDERGARTEN).class_ids == ids


@pytest.mark.parametrize("text", ["五年级", "三年级五班", "", "一年", "全校、五年级"])
def test_unknown_scopes_are_refused_with_a_hint(text: str) -> None:
    with pytest.raises(ScopeError):
        parse_scope(text, PRIMARY)


@given(st.lists(st.sampled_from(PRIMARY), min_size=1, max_size=5))
def test_any_list_of_class_names_selects_exactly_those_classes(chosen: list[ClassRef]) -> None:
    text = "、".join(c.name for c in chosen)
    assert set(parse_scope(text, PRIMARY).class_ids) == {c.id for c in chosen}


@given(st.text(max_size=12))
def test_parser_never_crashes_and_never_invents_classes(text: str) -> None:
    try:
        scope = parse_scope(text, PRIMARY)
    except ScopeError:
        return
    assert set(scope.class_ids) <= {c.id for c in PRIMARY} and scope.class_ids


@given(st.integers(min_value=1, max_value=99))
def test_numerals_round_trip_through_chinese(value: int) -> None:
    table = "零一二三四五六七八九"
    text = chinese_numerals(str(value))
    tens, ones = divmod(value, 10)
    expected = (("" if tens == 1 else table[tens]) + "十" if tens else "") + (table[ones] if ones else "")
    assert text == expected


@pytest.mark.parametrize("text", ["收到", "已阅", "👍", "收到[抱拳]", "好的，收到", "收到，谢谢老师！", "[OK]"])
def test_acknowledgements(text: str) -> None:
    assert is_acknowledgement(text)


@pytest.mark.parametrize("text", ["收到，但是孩子明天发烧去不了", "老师，几点开始？", "作业太多了", "哈哈哈", ""])
def test_not_acknowledgements(text: str) -> None:
    assert not is_acknowledgement(text)
