"""Command parsing: forgiving about width and spaces, faithful to free text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.commands import Command, CommandTable, split_args
from handlers.exceptions import UsageError


def _noop(args, msg, ctx):
    return []


TABLE = CommandTable([
    Command("办结", _noop, min_args=2, max_args=2, rest=True),
    Command("进度", _noop, min_args=1, max_args=1),
    Command("通知", _noop, min_args=2, max_args=2, rest=True),
    Command("通知统计", _noop, min_args=1, max_args=1),
])


def parse(text: str) -> tuple[str, list[str]]:
    matched = TABLE.match(text)
    assert matched is not None
    command, rest = matched
    return command.name, split_args(command, rest)


def test_full_width_digits_and_spaces_are_folded() -> None:
    assert parse("进度　２０２６－０１２３") == ("进度", ["2026-0123"])
    assert parse("进度2026-0123") == ("进度", ["2026-0123"])


def test_free_text_keeps_its_chinese_punctuation() -> None:
    name, args = parse("办结 ３  已更换饭菜供应商，明天起执行。")
    assert args == ["3", "已更换饭菜供应商，明天起执行。"]


def test_longest_command_word_wins() -> None:
    assert parse("通知统计 5")[0] == "通知统计"
    assert parse("通知 全校 明天放假")[0] == "通知"


def test_sentences_that_start_like_a_command_are_not_commands() -> None:
    assert TABLE.match("通知上说明天放假吗") is None
    assert TABLE.match("办结了吗？") is None


def test_wrong_argument_count_raises_usage() -> None:
    command, rest = TABLE.match("办结 3")
    with pytest.raises(UsageError):
        split_args(command, rest)


@given(st.text())
def test_any_text_parses_or_is_not_a_command(text: str) -> None:
    matched = TABLE.match(text)
    if matched is None:
        return
    command, rest = matched
    try:
        args = split_args(command, rest)
    except UsageError as exc:
        assert "用法" in exc.message
        return
    assert command.min_args <= len(args) <= command.max_args
    assert all(a and a == a.strip() for a in args)


def test_every_command_has_its_usage_text_and_every_usage_text_its_command() -> None:
    from handlers import build_registry
    from handlers.commands import command_texts

    names = [c.name for c in build_registry().commands]
    assert len(names) == len(set(names))
    assert set(names) == set(command_texts()), "config/commands.yaml and the @command functions disagree"
    assert all(command_texts()[name].get("usage") for name in names)


def test_command_decorator_declares_in_definition_order_and_stays_callable() -> None:
    from handlers.commands import command, declared

    @command("测试甲", roles=frozenset({"parent"}), args=(1, 2), rest=True, private=True, aliases=("甲",))
    def first(args, msg, ctx):
        return ["甲", *args]

    @command("测试乙", args=1)
    def second(args, msg, ctx):
        return []

    mine = [c for c in declared(__name__) if c.name in ("测试甲", "测试乙")]
    assert [c.name for c in mine] == ["测试甲", "测试乙"]
    assert (first.roles, first.min_args, first.max_args, first.rest, first.private_only, first.aliases) == (
        frozenset({"parent"}), 1, 2, True, True, ("甲",))
    assert (second.min_args, second.max_args, second.private_only) == (1, 1, False)
    assert first(["x"], None, None) == ["甲", "x"]
    assert split_args(first, "a  b c") == ["a", "b c"]
