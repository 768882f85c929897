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
from collections.abc import Callable
from dataclasses import dataclass
from re import _constants as _sre_c
from re import _parser as _sre_p
from typing import Any

from handlers._lexicon import required_options
from handlers._regex import guarded

__all__ = ["SafetyNet"]

# A request for action now keeps a "谢谢" from reading as praise of a settled story.
_REQUEST = guarded(re.compile(r"能不能|帮忙|麻烦|赶紧|快点|怎么办|救|马上"))


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    # (regex, weight, character sets a match must each share a character with)
    rules: tuple[tuple[re.Pattern[str], float, tuple[frozenset[str], ...]], ...]


class SafetyNet:
    """Compute the harm score of a normalised, lower-cased message."""

    def __init__(self, data: dict[str, Any], char_freq: Callable[[str], float] | None = None) -> None:
        params = {k: float(v) for k, v in (data.get("params") or {}).items()}
        self.fire = params.get("fire", 2.4)
        self.no_child = params.get("no_child", 0.55)
        self.no_recency = params.get("no_recency", 0.6)
        self.cap = params.get("field_cap", 4.0)
        self.child = guarded(re.compile(data.get("child") or "(?!)"))
        self.recency = guarded(re.compile(data.get("recency") or "(?!)"))
        freq = char_freq or (lambda ch: 1.0)
        fields = []
        gate: set[str] | None = set()
        for name, rules in (data.get("fields") or {}).items():
            compiled = []
            for r in rules:
                needs = _gate_chars(r["re"], freq)
                checks = tuple(dict.fromkeys(((needs,) if needs else ()) + required_options(r["re"])))
                compiled.append((guarded(re.compile(r["re"])), float(r["w"]), checks))
                gate = None if needs is None or gate is None else gate | needs
            fields.append(_Field(name, tuple(compiled)))
        self.fields = tuple(fields)
        # One set test skips the net for most messages: every match of every rule contains at
        # least one of these characters (the rarest mandatory character of each alternative).
        self.gate = frozenset(gate) if gate is not None else None
        self.damping = tuple(
            (name, guarded(re.compile(d["re"])), float(d["x"]), guarded(re.compile(d["unless"])) if d.get("unless") else None)
            for name, d in (data.get("damping") or {}).items()
        )
        self.enabled = bool(self.fields)
        self._exceptions = tuple(
            (guarded(re.compile(e["re"])), guarded(re.compile(e["unless"])) if e.get("unless") else None)
            for e in (data.get("exception") or ())
        )

    def exception(self, text: str) -> bool:
        """Return whether the message is a taxonomy exception (a drill, a policy question, settled)."""
        return any(
            pattern.search(text) is not None and (unless is None or unless.search(text) is None)
            for pattern, unless in self._exceptions
        )

    def score(self, text: str) -> tuple[float, tuple[str, ...]]:
        """Return the net's harm score and the fields and dampers that fired."""
        if not self.enabled or (self.gate is not None and self.gate.isdisjoint(text)):
            return 0.0, ()
        child = self.child.search(text) is not None
        if not child and self.no_child * self.cap * self.no_recency < self.fire:
            return 0.0, ()  # without a child in the message the net cannot reach its threshold
        total = 0.0
        fired: list[str] = []
        disjoint = set(text).isdisjoint
        for field in self.fields:
            best = 0.0
            for pattern, weight, needs in field.rules:
                if weight > best and not any(map(disjoint, needs)) and pattern.search(text):
                    best = weight
            if best:
                total += best
                fired.append(field.name)
        if not total:
            return 0.0, ()
        total = min(total, self.cap)
        if not child:
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


def _gate_chars(pattern: str, freq: Callable[[str], float]) -> frozenset[str] | None:
    """Return characters one of which every match of ``pattern`` contains, rarest first, or None."""
    try:
        chosen = _mandatory(list(_sre_p.parse(pattern)), freq)
    except Exception:  # the gate is an optimisation only
        return None
    return frozenset(chosen) if chosen else None


def _mandatory(seq: list, freq: Callable[[str], float]) -> set[str] | None:
    """Pick the cheapest set of characters a match of this parsed sequence must contain one of."""
    if len(seq) == 1 and seq[0][0] is _sre_c.BRANCH:
        out: set[str] = set()
        for branch in seq[0][1][1]:
            part = _mandatory(list(branch), freq)
            if not part:
                return None
            out |= part
        return out
    options: list[set[str]] = []
    for op, av in seq:
        if op is _sre_c.LITERAL:
            options.append({chr(av)})
        elif op is _sre_c.SUBPATTERN or op is _sre_c.BRANCH:
            part = _mandatory(list(av[-1]) if op is _sre_c.SUBPATTERN else [(op, av)], freq)
            if part:
                options.append(part)
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT) and av[0] >= 1:
            part = _mandatory(list(av[2]), freq)
            if part:
                options.append(part)
    if not options:
        return None
    return min(options, key=lambda chars: sum(freq(ch) for ch in chars))
