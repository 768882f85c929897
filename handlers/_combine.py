"""Combine the rules' decision with the learned layer's probabilities (config/lexicons/combine.yaml).

kind      argmax over kinds of  log p(kind) + rule_kind · [the rules chose this kind]
          (rule_actionable instead of rule_kind when the rules chose an actionable kind: a
          missed request costs more than a chatty reply)
category  argmax over codes of  log p(code) + rule_category · [the rules chose this code]
urgent    (the rules say urgent and (p_urgent ≥ keep_rule_urgent or their danger score ≥
          keep_rule_danger)) or p_urgent ≥ urgent_p
review    not urgent, and a danger concept fired (rules' danger score ≥ review_danger, or rules
          said urgent but the learned layer disagreed) or p_urgent ≥ review_p (review_none_p when
          the kind came out none: parents chatting need more evidence to be flagged)

The rules' vote is a prior worth a factor e^rule_kind on the odds: a confident model overrules
the rules, an unsure one follows them. A message that is urgent or flagged is actionable (a
danger is never chatter). Without a learned layer the rules decide alone and review is the
danger score only.
"""

from __future__ import annotations

from math import exp
from typing import TYPE_CHECKING

from handlers._decide import Decision
from handlers._result import Classification

if TYPE_CHECKING:
    from handlers._learned import LearnedScores

__all__ = ["DEFAULTS", "Combiner"]

DEFAULTS = {
    "rule_kind": 1.5,
    "rule_actionable": 1.5,
    "rule_category": 1.5,
    "urgent_p": 0.5,
    "keep_rule_urgent": 0.1,
    "keep_rule_danger": 99.0,
    "review_p": 0.2,
    "review_none_p": 0.2,
    "review_danger": 1.0,
}
_URGENT_KINDS = ("complaint", "help")
_ACTIONABLE = frozenset({"complaint", "help", "suggestion", "inquiry"})


class Combiner:
    """The second stage: rules + learned probabilities → labels."""

    def __init__(self, params: dict[str, float] | None = None) -> None:
        p = {**DEFAULTS, **(params or {})}
        self.params = p
        self.rule_kind = p["rule_kind"]
        self.rule_category = p["rule_category"]
        self.urgent_p = p["urgent_p"]
        self.keep_rule_urgent = p["keep_rule_urgent"]
        self.review_p = p["review_p"]
        self.review_none_p = p["review_none_p"]
        self.review_danger = p["review_danger"]
        self.keep_rule_danger = p["keep_rule_danger"]
        self._kind_factor = exp(self.rule_kind)
        self._actionable_factor = exp(p["rule_actionable"])
        self._cat_factor = exp(self.rule_category)

    def combine(self, d: Decision, learned: LearnedScores | None) -> Classification:
        """Return the final labels of one message."""
        if learned is None:
            review = d.kind != "none" and not d.urgent and d.danger >= self.review_danger
            if d.kind == "none":
                return Classification("none", None, None, d.kind_confidence, d.kind_confidence, 0.0, d.signals)
            urgency = "low" if d.kind in ("suggestion", "praise") else ("urgent" if d.urgent else "normal")
            return Classification(d.kind, d.category, urgency, round(d.kind_confidence * d.category_confidence, 3),
                                  d.kind_confidence, d.category_confidence, d.signals, review and urgency != "low")
        p_urgent = learned.p_urgent
        factor = self._actionable_factor if d.kind in _ACTIONABLE else self._kind_factor
        kind, kind_conf = _vote(learned.kind, learned.kinds, d.kind, factor)
        urgent = (d.urgent and (p_urgent >= self.keep_rule_urgent or d.danger >= self.keep_rule_danger)
                  or p_urgent >= self.urgent_p)
        review = not urgent and (d.urgent or d.danger >= self.review_danger or p_urgent >= (
            self.review_none_p if kind == "none" else self.review_p))
        if urgent:
            if kind not in _URGENT_KINDS:
                # a danger is never chatter; asking about a child in danger now is a call for help
                kind = d.kind if d.kind in _URGENT_KINDS else "help"
        elif review and kind == "none":
            kind = "help"  # a possible danger is looked at by a person, never dropped as chatter
        elif review and kind in ("suggestion", "praise"):
            review = False  # an idea or a thanks about safety is not a danger now
        if kind == "none":
            return Classification("none", None, None, kind_conf, kind_conf, 0.0, d.signals, False, p_urgent)
        category, cat_conf = _vote(learned.category, learned.categories, d.category, self._cat_factor)
        urgency = "low" if kind in ("suggestion", "praise") else ("urgent" if urgent else "normal")
        return Classification(kind, category, urgency, round(kind_conf * cat_conf, 3), kind_conf, cat_conf,
                              d.signals, review and not urgent, p_urgent)


def _vote(exps: list[float], labels: list[str], rule: str | None, factor: float) -> tuple[str, float]:
    """Return the label with the best combined score and its share of the combined mass.

    ``exps`` are unnormalised probabilities; the rules' label has its odds multiplied by ``factor``.
    """
    best, best_v, total = "", -1.0, 0.0
    for label, v in zip(labels, exps, strict=True):
        if label == rule:
            v *= factor
        total += v
        if v > best_v:
            best, best_v = label, v
    return best, round(best_v / total, 3) if total else 0.0
