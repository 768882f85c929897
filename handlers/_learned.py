"""The learned layer: keyword weights fitted offline, scored with dictionary lookups.

``config/lexicons/learned.tsv`` is written by ``flask --app app classifier train``
(handlers/_train.py, scikit-learn, offline only). Each line gives one feature — a
jieba token of the message or a character 1- or 2-gram of it — and its non-zero
weights per label; the header gives the labels, the intercepts and the recipe.
A message's features are a *set* (presence, not counts), so scoring is one set
intersection with the weight table and a short loop over the hits: no
scikit-learn or numpy at run time.

Three linear heads share the features: kind (softmax over the six kinds),
category (softmax over the fifteen codes) and urgent (a sigmoid, p_urgent).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from math import exp
from pathlib import Path

__all__ = ["LearnedModel", "LearnedScores", "escape", "features", "load_learned", "parse_learned"]

FILE_NAME = "learned.tsv"


@dataclass(slots=True)
class LearnedScores:
    """The learned layer's probabilities for one message."""

    kind: list[float]  # exp-scores in LearnedModel.kinds order (unnormalised softmax numerators)
    category: list[float]  # the same over LearnedModel.categories
    p_urgent: float
    kinds: list[str]
    categories: list[str]

    def kind_probs(self) -> dict[str, float]:
        """Return the kind distribution."""
        total = sum(self.kind)
        return {k: v / total for k, v in zip(self.kinds, self.kind, strict=True)}

    def category_probs(self) -> dict[str, float]:
        """Return the category distribution."""
        total = sum(self.category)
        return {k: v / total for k, v in zip(self.categories, self.category, strict=True)}


def features(text: str, tokens: list[str] | None, unigrams: bool = True) -> set[str]:
    """Return the feature set of a normalised, lower-cased message.

    Character bigrams (one slice loop), unigrams unless switched off by the recipe, plus
    the jieba tokens the rules already computed; a token equal to a bigram is the same feature.
    """
    grams = {text[i : i + 2] for i in range(len(text) - 1)}
    if unigrams:
        grams.update(text)
    if tokens:
        grams.update(tokens)
    grams.discard(" ")
    return grams


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + exp(-z)) if z > -30 else 0.0


def _exps(scores: list[float]) -> list[float]:
    top = max(scores)
    return [exp(z - top) for z in scores]


class LearnedModel:
    """The weights of learned.tsv, ready for scoring."""

    def __init__(self, labels: list[str], intercepts: list[float], weights: dict[str, tuple[float, ...]],
                 recipe: dict[str, str]) -> None:
        self.labels = labels
        self.intercepts = intercepts
        self.weights = weights
        self.recipe = recipe
        self._keys = frozenset(weights)  # set & frozenset is faster than set & dict_keys (same order)
        self.kinds = [lb.split(":", 1)[1] for lb in labels if lb.startswith("kind:")]
        self.categories = [lb.split(":", 1)[1] for lb in labels if lb.startswith("cat:")]
        self._n_kind = len(self.kinds)
        self._n_cat = len(self.categories)
        self._urgent = labels.index("urgent")
        self.unigrams = "1" in recipe.get("chars", "1-2")

    def score(self, feats: set[str]) -> LearnedScores:
        """Return kind and category probabilities and p_urgent for a feature set.

        Each feature's weights are one dense tuple over the labels, so summing the hits is
        ``map(sum, zip(...))`` in C rather than a Python loop over (label, weight) pairs.
        """
        hits = list(map(self.weights.__getitem__, feats & self._keys))
        s = list(map(sum, zip(self.intercepts, *hits))) if hits else self.intercepts  # noqa: B905 - equal widths
        nk, nc = self._n_kind, self._n_cat
        return LearnedScores(_exps(s[:nk]), _exps(s[nk : nk + nc]), _sigmoid(s[self._urgent]), self.kinds,
                             self.categories)


_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", " ": "\\s", "\r": "\\r"}
_UNESCAPE = {"\\": "\\", "t": "\t", "n": "\n", "s": " ", "r": "\r", "#": "#", "@": "@"}
_ESCAPED = re.compile(r"\\(.)")


def escape(feature: str) -> str:
    """Write a feature so that a tab, newline or space stays visible and a line cannot start with # or @."""
    out = "".join(_ESCAPES.get(ch, ch) for ch in feature)
    return "\\" + out if out[:1] in ("#", "@") else out


def parse_learned(text: str) -> LearnedModel:
    """Parse the learned.tsv format (see handlers/_train.py for the writer)."""
    labels: list[str] = []
    intercepts: list[float] = []
    recipe: dict[str, str] = {}
    weights: dict[str, tuple[float, ...]] = {}
    index: dict[str, int] = {}
    floats: dict[str, float] = {"0": 0.0}  # one float object per distinct value (memory)
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        head, _, rest = line.partition("\t")
        if head == "@labels":
            labels = rest.split("\t")
            index = {lb: i for i, lb in enumerate(labels)}
        elif head == "@intercept":
            intercepts = [float(x) for x in rest.split("\t")]
        elif head == "@recipe":
            key, _, value = rest.partition("=")
            recipe[key] = value
        elif head.startswith("@"):
            continue
        else:
            feature = _ESCAPED.sub(lambda m: _UNESCAPE[m.group(1)], head)
            row = [0.0] * len(labels)
            for item in rest.split("\t"):
                label, _, value = item.rpartition("=")
                number = floats.get(value)
                if number is None:
                    number = floats[value] = float(value)
                row[index[label]] = number
            weights[feature] = tuple(row)
    if not labels or len(intercepts) != len(labels):
        raise ValueError("learned weights: missing @labels or @intercept")
    return LearnedModel(labels, intercepts, weights, recipe)


def load_learned(*directories: Path) -> LearnedModel | None:
    """Load learned.tsv from the first directory that has one, or None (rules only)."""
    for directory in directories:
        path = Path(directory) / FILE_NAME
        if path.is_file():
            return parse_learned(path.read_text(encoding="utf-8"))
    return None
