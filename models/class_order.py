"""Classes in the order schools list them: 托班, 小班, 中班, 大班, 一年级 … 九年级, 高一 … 高三.

Sorting class names as text puts 三年级 before 二年级 (三 is U+4E09, 二 U+4E8C)
and 中班 before 小班; every list a person reads sorts with ``class_key``
instead: the grade's rank, then the class number (``二班``, ``(2)班``, ``2班``),
then the name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeVar

_DIGITS = "零一二三四五六七八九"
_CN = "零〇一二两三四五六七八九十"
# Grade words and their rank; 初一–初三 are 七–九年级.
_GRADES = {"托班": 0, "托": 0, "小班": 1, "小": 1, "中班": 2, "中": 2, "大班": 3, "大": 3, "学前班": 4, "学前": 4,
           **{f"{_DIGITS[n]}年级": 10 + n for n in range(1, 10)}, "初一": 17, "初二": 18, "初三": 19,
           "高一": 20, "高二": 21, "高三": 22, "十年级": 20, "十一年级": 21, "十二年级": 22}
_BY_LENGTH = sorted(_GRADES, key=len, reverse=True)
_NUMBER = re.compile(rf"[(（]?\s*([0-9]+|[{_CN}]+)\s*[)）]?\s*班$")
UNKNOWN = 99

T = TypeVar("T")


def _number(text: str) -> int | None:
    """Return the value of ``2``, ``二``, ``十二`` (0–99)."""
    if text.isdigit():
        return int(text)
    text = text.replace("〇", "零").replace("两", "二")
    if "十" not in text:
        return _DIGITS.index(text) if len(text) == 1 and text in _DIGITS else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (_DIGITS.index(tens) if tens else 1) * 10 + (_DIGITS.index(ones) if ones else 0)


def grade_rank(text: str) -> int:
    """Return the rank of the grade a grade or class name starts with (``UNKNOWN`` when none)."""
    text = re.sub(r"[0-9]+", lambda m: _DIGITS[int(m.group())] if int(m.group()) < 10 else m.group(), text or "")
    return next((_GRADES[g] for g in _BY_LENGTH if text.startswith(g)), UNKNOWN)


def class_key(name: str, grade: str = "") -> tuple[int, int, str]:
    """Return the sort key of a class: grade rank, class number, name."""
    match = _NUMBER.search(name or "")
    number = _number(match.group(1)) if match else None
    rank = grade_rank(grade) if grade else UNKNOWN
    if rank == UNKNOWN:
        rank = grade_rank(name)
    return rank, number if number is not None else 0, name or ""


def sort_classes(classes: Iterable[T], key: Any = None) -> list[T]:
    """Return class objects (with ``name`` and ``grade``) in grade order."""
    key = key or (lambda c: class_key(c.name, getattr(c, "grade", "") or ""))
    return sorted(classes, key=key)
