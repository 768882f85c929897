"""The urgent safety net: a broad, character-level harm score (config/lexicons/safety_net.yaml).

The main lexicon recognises dangers by the words and rules earlier blind batches
revealed; each new batch still found new wordings. The net scores the taxonomy's
definition directly — "a child's physical or mental safety is at risk now or
today" — as semantic *fields* matched on characters (body part × pain word,
danger to life, loss of contact, vehicles, strangers, punishment on the body,
sexual contact, illness after food, fire/gas/electric/collapse, violence):

    net = min(cap, Σ best weight per field) × child factor × recency factor × Π damping

The taxonomy's exceptions are damping factors (a suggestion, a drill or a policy
question, a settled or past story, a family member's accident, praise of how an
injury was handled). A precompiled character set gates the whole computation,
so most messages cost one set intersection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from handlers._lexicon import _required_chars

__all__ = ["SafetyNet"]

# A request for action now keeps a "谢谢" from reading as praise of a settled story.
_REQUEST = re.compile(r"能不能|帮忙|麻烦|赶紧|快点|怎么办|救|马上")


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    rules: tuple[tuple[re.Pattern[str], float, frozenset[str] | None], ...]


class SafetyNet:
    """Compute the harm score of a normalised, lower-cased message."""

    def __init__(self, data: dict[str, Any]) -> None:
        params = {k: float(v) for k, v in (data.get("params") or {}).items()}
        self.fire = params.get("fire", 2.4)
        self.no_child = params.get("no_child", 0.55)
        self.no_recency = params.get("no_recency", 0.6)
        self.cap = params.get("field_cap", 4.0)
        self.child = re.compile(data.get("child") or "(?!)")
        self.recency = re.compile(data.get("recency") or "(?!)")
        fields = []
        derived: set[str] = set()
        for name, rules in (data.get("fields") or {}).items():
            compiled = []
            for r in rules:
                needs = frozenset(r["gate"]) if r.get("gate") else _required_chars(r["re"])
                compiled.append((re.compile(r["re"]), float(r["w"]), needs))
                derived.update(needs or ())
            fields.append(_Field(name, tuple(compiled)))
        self.fields = tuple(fields)
        # The message-level gate: characters one of which every danger message names (most
        # messages skip the net with one set test); without it, the rules' required characters.
        self.gate = frozenset(data["gate"]) if data.get("gate") else frozenset(derived)
        self.damping = tuple(
            (name, re.compile(d["re"]), float(d["x"]), re.compile(d["unless"]) if d.get("unless") else None)
            for name, d in (data.get("damping") or {}).items()
        )
        self.enabled = bool(self.fields)
        exception = data.get("exception") or {}
        self._exception = re.compile(exception["re"]) if exception.get("re") else None
        self._exception_unless = re.compile(exception["unless"]) if exception.get("unless") else None

    def exception(self, text: str) -> bool:
        """Return whether the message is a taxonomy exception (a drill, a policy question, hearsay)."""
        if self._exception is None or self._exception.search(text) is None:
            return False
        return self._exception_unless is None or self._exception_unless.search(text) is None

    def score(self, text: str) -> tuple[float, tuple[str, ...]]:
        """Return the net's harm score and the fields and dampers that fired."""
        if not self.enabled or self.gate.isdisjoint(text):
            return 0.0, ()
        total = 0.0
        fired: list[str] = []
        for field in self.fields:
            best = 0.0
            for pattern, weight, needs in field.rules:
                if weight > best and (needs is None or not needs.isdisjoint(text)) and pattern.search(text):
                    best = weight
            if best:
                total += best
                fired.append(field.name)
        if not total:
            return 0.0, ()
        total = min(total, self.cap)
        if not self.child.search(text):
            total *= self.no_child
        if not self.recency.search(text):
            total *= self.no_recency
        life = "life" in fired
        for name, pattern, factor, unless in self.damping:
            if name == "hypothetical" and life:
                continue  # "如果我不在了" is a self-harm hint, not a hypothetical danger
            if name == "praise" and _REQUEST.search(text):
                continue  # "…能不能帮忙看看，谢谢" asks for help now
            if pattern.search(text) and not (unless is not None and unless.search(text)):
                total *= factor
                fired.append("-" + name)
        return round(total, 3), tuple(fired)
