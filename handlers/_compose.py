"""Compile the compositional rules of config/lexicons/compose.yaml into regular expressions.

A rule combines semantic word classes ("a body part, then within a few
characters an injury word") instead of listing every phrase. Rules match on
the normalised text, character by character, so they work on unpunctuated
voice input that jieba segments badly ("摔到了头现在头晕").
"""

from __future__ import annotations

import re
from typing import Any

from handlers._normalize import to_simplified

__all__ = ["compile_rules"]

# Inside a clause: any character but sentence punctuation and line breaks.
_IN_CLAUSE = r"[^,。!?;\n]"
_RESERVED = frozenset({"seq", "any", "gap", "cross", "negatable", "note"})


def _alternation(words: list[str]) -> str:
    """Return a non-capturing alternation, longest first (class entries are regex fragments)."""
    unique = sorted({to_simplified(str(w)).lower() for w in words if str(w).strip()}, key=len, reverse=True)
    return "(?:" + "|".join(unique) + ")"


def compile_rules(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Expand compose.yaml into pattern specs like those of patterns.yaml.

    Args:
        data: the parsed YAML: ``classes`` (name → list of words or regex
            fragments) and ``rules`` (each ``seq: [class or fragment, ...]`` or
            ``any: [class, ...]``, ``gap`` characters allowed between parts,
            ``cross: true`` to let the gap span punctuation, and effects).

    Returns:
        Pattern specs: ``{"re": ..., "negatable": bool, <target>: weight}``.
    """
    classes = {str(k): _alternation(list(v or ())) for k, v in (data.get("classes") or {}).items()}
    specs: list[dict[str, Any]] = []
    for number, rule in enumerate(data.get("rules") or (), 1):
        if "any" in rule:
            parts = ["(?:" + "|".join(_part(classes, p, number) for p in rule["any"]) + ")"]
        else:
            parts = [_part(classes, p, number) for p in rule.get("seq") or ()]
        if not parts:
            raise ValueError(f"compose.yaml rule {number}: needs seq or any")
        gap = int(rule.get("gap", 4))
        filler = (".{0,%d}" if rule.get("cross") else _IN_CLAUSE + "{0,%d}") % gap
        spec = {k: v for k, v in rule.items() if k not in _RESERVED}
        spec["re"] = filler.join(parts)
        spec["negatable"] = bool(rule.get("negatable", True))
        re.compile(spec["re"])  # fail at load time, naming the file, rather than on the first message
        specs.append(spec)
    return specs


def _part(classes: dict[str, str], name: Any, number: int) -> str:
    key = str(name)
    if key in classes:
        return classes[key]
    if key.isascii() and key.isidentifier():
        raise ValueError(f"compose.yaml rule {number}: unknown class {key!r}")
    return "(?:" + to_simplified(key).lower() + ")"
