"""A compile-time speed-up for the classifier's patterns: a first-character guard.

Python's ``re`` finds a start position fast only when a pattern begins with a
literal, a character class, or a branch of plain literals. The compositional
rules begin with a group of alternatives ("(肚子|胃)…|呼吸…|(嗓子|喉咙)…"), so
``search`` tries every alternative at every position of the message. A
lookahead ``(?=[肚胃呼嗓喉…])`` listing every character the pattern can start
with rejects most positions with one class test. It never changes a match: the
class is computed from the parsed pattern and the guard is added only when
that set is exact (every alternative starts with known characters).
"""

from __future__ import annotations

import re
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser as _p  # type: ignore[attr-defined]

__all__ = ["first_chars", "guarded"]

_ZERO_WIDTH = {_c.AT, _c.ASSERT, _c.ASSERT_NOT}
_MAX_RANGE = 64


def first_chars(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """Return every character a match of ``pattern`` can start with, or None when unknown."""
    try:
        parsed = _p.parse(pattern, flags)
    except re.error:
        return None
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    return _first(list(parsed))


def guarded(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """Return ``pattern`` with a first-character lookahead when that is known and useful."""
    text = pattern.pattern
    if not isinstance(text, str) or text.startswith(("(?=", "(?a", "(?i", "(?L", "(?m", "(?s", "(?u", "(?x")):
        return pattern
    chars = first_chars(text, pattern.flags & ~re.UNICODE)
    if not chars:
        return pattern
    cls = "".join(re.escape(ch) for ch in sorted(chars))
    return re.compile(f"(?=[{cls}])(?:{text})", pattern.flags)


def _first(items: list) -> frozenset[str] | None:
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        return _first_of(op, av)
    return None  # can match the empty string


def _first_of(op, av) -> frozenset[str] | None:
    if op is _c.LITERAL:
        return frozenset(chr(av))
    if op is _c.IN:
        chars: set[str] = set()
        for kind, value in av:
            if kind is _c.LITERAL:
                chars.add(chr(value))
            elif kind is _c.RANGE and value[1] - value[0] <= _MAX_RANGE:
                chars.update(chr(c) for c in range(value[0], value[1] + 1))
            else:
                return None  # negation, categories, wide ranges
        return frozenset(chars)
    if op is _c.BRANCH:
        out: set[str] = set()
        for alternative in av[1]:
            first = _first(list(alternative))
            if first is None:
                return None
            out |= first
        return frozenset(out)
    if op is _c.SUBPATTERN:
        return _first(list(av[3]))
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _first(list(av[2]))
    return None
