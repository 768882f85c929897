"""Handler filters combine like boolean logic, left to right, and read the message and the sender's roles."""

from __future__ import annotations

import datetime as dt
import types

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.message import InboundMessage
from handlers import filters
from handlers.filters import Filter

NOW = dt.datetime(2026, 9, 1, 8, 0)


def _msg(msgtype: str = "text", text: str = "你好", group: bool = False) -> InboundMessage:
    return InboundMessage("simulator", 1, "m-1", "c-1", group, "u-1", text, NOW, msgtype=msgtype)


def _ctx(*roles: str, staff: bool = False):
    return types.SimpleNamespace(actor=types.SimpleNamespace(roles=frozenset(roles), is_staff=staff))


def _const(value: bool, calls: list[int], tag: int) -> Filter:
    def check(msg, ctx) -> bool:
        calls.append(tag)
        return value

    return Filter(check, str(value))


# An expression tree over constant filters: ("leaf", bool) | ("not", e) | ("and"/"or", e, e).
_trees = st.recursive(
    st.tuples(st.just("leaf"), st.booleans()),
    lambda sub: st.one_of(st.tuples(st.just("not"), sub),
                          st.tuples(st.sampled_from(["and", "or"]), sub, sub)),
    max_leaves=8,
)


def _build(tree, calls: list[int], counter: list[int]) -> tuple[Filter, object]:
    """Return the filter and the equivalent Python expression (as a zero-argument function)."""
    op = tree[0]
    if op == "leaf":
        counter[0] += 1
        return _const(tree[1], calls, counter[0]), lambda: tree[1]
    if op == "not":
        f, py = _build(tree[1], calls, counter)
        return ~f, lambda: not py()
    left, lpy = _build(tree[1], calls, counter)
    right, rpy = _build(tree[2], calls, counter)
    if op == "and":
        return left & right, lambda: lpy() and rpy()
    return left | right, lambda: lpy() or rpy()


@given(_trees)
def test_combinations_agree_with_boolean_logic(tree) -> None:
    calls: list[int] = []
    combined, python = _build(tree, calls, [0])
    assert combined(_msg(), _ctx()) is python()


@given(st.booleans(), st.booleans())
def test_and_or_stop_at_the_operand_that_decides(a: bool, b: bool) -> None:
    calls: list[int] = []
    (_const(a, calls, 1) & _const(b, calls, 2))(_msg(), _ctx())
    assert calls == ([1, 2] if a else [1])
    calls.clear()
    (_const(a, calls, 1) | _const(b, calls, 2))(_msg(), _ctx())
    assert calls == ([1] if a else [1, 2])


def test_plain_functions_combine_on_either_side() -> None:
    def is_long(msg, ctx) -> bool:
        return len(msg.text) > 3

    assert (filters.TEXT & is_long)(_msg(text="请问明天几点到校"), _ctx())
    assert not (is_long & filters.TEXT)(_msg(text="好"), _ctx())
    assert (is_long | filters.GROUP)(_msg(text="好", group=True), _ctx())


@pytest.mark.parametrize(("name", "msg", "ctx", "expected"), [
    ("TEXT", _msg(), _ctx(), True),
    ("TEXT", _msg("event", "enter_chat"), _ctx(), False),
    ("EVENT", _msg("event", "enter_chat"), _ctx(), True),
    ("MEDIA", _msg("image", ""), _ctx(), True),
    ("MEDIA", _msg(), _ctx(), False),
    ("NOT_EMPTY", _msg(text="  "), _ctx(), False),
    ("PRIVATE", _msg(), _ctx(), True),
    ("PRIVATE", _msg(group=True), _ctx(), False),
    ("GROUP", _msg(group=True), _ctx(), True),
    ("PARENT", _msg(), _ctx("parent"), True),
    ("PARENT", _msg(), _ctx("teacher", staff=True), False),
    ("PARENT", _msg(), _ctx("parent", "teacher", staff=True), True),
    ("STAFF", _msg(), _ctx("teacher", staff=True), True),
    ("STAFF", _msg(), _ctx("parent"), False),
    ("STRANGER", _msg(), _ctx("stranger"), True),
])
def test_each_filter_reads_what_its_name_says(name, msg, ctx, expected) -> None:
    assert getattr(filters, name)(msg, ctx) is expected


def test_parent_text_in_private_is_the_usual_precondition() -> None:
    parent_private = filters.TEXT & filters.PARENT & filters.PRIVATE
    assert parent_private(_msg(), _ctx("parent"))
    assert not parent_private(_msg(group=True), _ctx("parent"))
    assert not parent_private(_msg("image", ""), _ctx("parent"))
    assert not parent_private(_msg(), _ctx("teacher", staff=True))
    assert filters.role("leader", "teacher")(_msg(), _ctx("teacher", staff=True))
    assert not filters.role("leader")(_msg(), _ctx("teacher", staff=True))
    assert filters.text(lambda t: "请假" in t)(_msg(text="明天请假"), _ctx())
    assert not filters.text(lambda t: "请假" in t)(_msg("event", "请假"), _ctx())
