"""Import rules from STYLE.md: each folder keeps to its one reason to change."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

from config.logs import JsonFormatter, scrub

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_LIBS = ("wechatpy", "requests", "httpx", "urllib3", "dingtalk_stream")


def _imports(path: Path, *, typing_only: bool | None = None) -> set[str]:
    """Return the modules a file imports: all of them, or (``typing_only``) only those inside
    ``if TYPE_CHECKING:`` blocks, or (``typing_only=False``) only those imported at run time."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_nodes = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If) and _is_type_checking(block.test)
                    for stmt in block.body for n in ast.walk(stmt)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if typing_only is not None and (id(node) in typing_nodes) != typing_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


# What handlers may name in type hints only (under ``if TYPE_CHECKING:``): the session type and the app extension.
HANDLER_TYPING_ONLY = {"sqlalchemy.orm", "bot.extension"}


@pytest.mark.parametrize("path", _files("handlers"), ids=lambda p: p.name)
def test_handlers_use_no_sql_and_no_platform(path: Path) -> None:
    runtime = _imports(path, typing_only=False)
    bad = {n for n in runtime if n.split(".")[0] in ("sqlalchemy", *PLATFORM_LIBS)}
    bad |= {n for n in runtime if n.startswith("bot.") and n != "bot.message"}
    bad |= {n for n in _imports(path, typing_only=True)
            if n.split(".")[0] in ("sqlalchemy", "bot", *PLATFORM_LIBS) and n not in HANDLER_TYPING_ONLY | {"bot.message"}}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_import_rules_see_through_type_checking_blocks(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from typing import TYPE_CHECKING\nimport json\nif TYPE_CHECKING:\n"
                      "    from sqlalchemy.orm import Session\n", encoding="utf-8")
    assert _imports(module, typing_only=False) == {"typing", "json"}
    assert _imports(module, typing_only=True) == {"sqlalchemy.orm"}
    assert _imports(module) == {"typing", "json", "sqlalchemy.orm"}


@pytest.mark.parametrize("path", _files("models"), ids=lambda p: p.name)
def test_models_know_no_platform(path: Path) -> None:
    bad = {n for n in _imports(path) if n.split(".")[0] in PLATFORM_LIBS}
    bad |= {n for n in _imports(path) if n.startswith(("bot.", "handlers")) and n != "bot.message"}
    if path.name == "demo.py":
        bad = {n for n in bad if not n.startswith(("handlers", "bot."))}  # the demo school is built by chatting
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _files("scheduler"), ids=lambda p: p.name)
def test_scheduler_calls_no_platform_client(path: Path) -> None:
    bad = {n for n in _imports(path) if n.split(".")[0] in PLATFORM_LIBS or n.startswith("bot.clients")}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_nothing_but_the_entry_points_imports_app() -> None:
    """The app reaches everything through bot/extension.py; nothing reaches back into app.py."""
    entry_points = {ROOT / "scheduler" / "__main__.py"}
    offenders = [str(path.relative_to(ROOT)) for folder in ("bot", "handlers", "models", "scheduler", "config")
                 for path in _files(folder) if path not in entry_points and "app" in _imports(path)]
    assert offenders == []


def test_every_operator_command_lives_in_bot_cli() -> None:
    offenders = [str(path.relative_to(ROOT)) for folder in ("bot", "handlers", "models", "scheduler")
                 for path in _files(folder)
                 if "bot/cli/" not in path.as_posix() and "@click.command" in path.read_text(encoding="utf-8")]
    assert offenders == []


def test_only_bot_imports_platform_libraries() -> None:
    offenders = []
    for folder in ("handlers", "models", "scheduler", "config"):
        for path in _files(folder):
            if {n for n in _imports(path) if n.split(".")[0] in PLATFORM_LIBS}:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_logs_never_show_phone_numbers_or_secrets() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "bind 13800001234 secret=abc123 token: xyz", (), None)
    line = JsonFormatter().format(record)
    assert "13800001234" not in line and "138****1234" in line
    assert "abc123" not in line and "xyz" not in line
    assert scrub("订单号 2026011234567") == "订单号 2026011234567"  # not a mobile number
