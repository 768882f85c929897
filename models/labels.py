"""The one table of Chinese display names: every label a parent, teacher or director sees.

Kinds, categories and urgencies carry the taxonomy's names
(``config/lexicons/labels.yaml``, shared with the classifier); ticket states,
history events and 销号 reasons are named in ``config/names.yaml``. Chat
replies, the digest, the 周调度, the Excel ledger and ``tickets list`` all ask
here, so 低/一般/较低 or ``created``/``家长反映`` can no longer differ between them.
An unknown code is shown as itself (never an error), and a test checks that
every event the code writes has a name.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

CONFIG = Path(__file__).resolve().parent.parent / "config"
TAXONOMY_FILE = CONFIG / "lexicons" / "labels.yaml"
NAMES_FILE = CONFIG / "names.yaml"


@functools.cache
def _taxonomy() -> dict[str, Any]:
    return yaml.safe_load(TAXONOMY_FILE.read_text(encoding="utf-8")) or {}


@functools.cache
def _names() -> dict[str, Any]:
    return yaml.safe_load(NAMES_FILE.read_text(encoding="utf-8")) or {}


def kind_name(code: str) -> str:
    """Return 投诉 / 求助 / 建议 / 咨询 / 表扬 / 无需处理."""
    return str((_taxonomy().get("kinds") or {}).get(code, code))


def category_name(code: str) -> str:
    """Return the taxonomy's name of a category (食堂餐饮 …)."""
    entry = (_taxonomy().get("categories") or {}).get(code)
    return str(entry["name"]) if isinstance(entry, dict) and "name" in entry else code


def urgency_name(code: str) -> str:
    """Return 紧急 / 一般 / 较低."""
    return str((_taxonomy().get("urgencies") or {}).get(code, code))


# Satisfaction codes of the 回访 and their Chinese names. The names are also the stored text of the
# ``callback_answered`` event (models.figures counts by it), so they are fixed here, not in names.yaml.
SATISFACTION_NAMES = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}


def state_name(code: str) -> str:
    """Return a ticket state's name (待分派 … 已销号)."""
    return str((_names().get("states") or {}).get(code, code))


def event_name(code: str) -> str:
    """Return a history event's name (家长反映, 分派, 发出回访 …)."""
    return str((_names().get("events") or {}).get(code, code))


def close_reason_name(code: str) -> str:
    """Return why a ticket was closed (家长满意, 回访期内未答复 …)."""
    return str((_names().get("close_reasons") or {}).get(code, code))


def satisfaction_name(code: str) -> str:
    """Return 满意 / 基本满意 / 不满意 (fixed: also the stored text of a 回访 answer event)."""
    return SATISFACTION_NAMES.get(code, code)


def category_codes() -> list[str]:
    """Return the taxonomy's category codes in its order (the choices of 改类 and the ledger filter)."""
    return [str(code) for code in (_taxonomy().get("categories") or {})]


def urgency_codes() -> list[str]:
    """Return the urgency codes in the taxonomy's order."""
    return [str(code) for code in (_taxonomy().get("urgencies") or {})]


def state_codes() -> list[str]:
    """Return the ticket state codes in the order ``config/names.yaml`` lists them."""
    return [str(code) for code in (_names().get("states") or {})]
