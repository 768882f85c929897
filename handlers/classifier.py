"""The parent-message classifier: kind, category and urgency per docs/taxonomy.

Pure and thread-safe: no database, no network. The lexicons in
``config/lexicons/`` and the jieba dictionary are loaded once per process by
:func:`get_classifier`; :meth:`Classifier.classify` only reads them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import yaml

from handlers._combine import Combiner
from handlers._learned import features, load_learned
from handlers._lexicon import CATEGORY_CODES, DEFAULT_LEXICON_DIR, build_tokenizer, load_lexicon
from handlers._normalize import normalize, prepare
from handlers._result import ACTIONABLE_KINDS, KINDS, Classification
from handlers._scoring import Engine

__all__ = [
    "ACTIONABLE_KINDS", "CATEGORIES", "CATEGORY_NAMES", "KINDS", "KIND_NAMES", "URGENCIES", "URGENCY_NAMES",
    "Classification", "Classifier", "classify", "get_classifier", "normalize", "parse_category",
]

CATEGORIES = CATEGORY_CODES
URGENCIES = ("urgent", "normal", "low")


def _load_labels(directory: Path = DEFAULT_LEXICON_DIR) -> dict[str, Any]:
    with (directory / "labels.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


_LABELS = _load_labels()
KIND_NAMES: dict[str, str] = {code: str(_LABELS["kinds"][code]) for code in KINDS}
CATEGORY_NAMES: dict[str, str] = {code: str(_LABELS["categories"][code]["name"]) for code in CATEGORIES}
URGENCY_NAMES: dict[str, str] = {code: str(_LABELS["urgencies"][code]) for code in URGENCIES}
_CATEGORY_LOOKUP: dict[str, str] = {}
for _code in CATEGORIES:
    _entry = _LABELS["categories"][_code]
    for _alias in (_code, _entry["name"], *(_entry.get("aliases") or ())):
        _CATEGORY_LOOKUP[normalize(str(_alias)).lower().replace(" ", "")] = _code


def parse_category(text: str) -> str | None:
    """Map a category code, display name or alias ("食堂餐饮", "食堂", "food") to its code."""
    key = normalize(text or "").lower().replace(" ", "").strip("。.!?")
    return _CATEGORY_LOOKUP.get(key)


class Classifier:
    """Classify parent messages with the lexicons of one directory."""

    def __init__(self, lexicon_dir: Path | None = None, learned: Any = "default") -> None:
        """Load the lexicons and the learned weights.

        Args:
            lexicon_dir: the lexicon directory (config/lexicons/ by default).
            learned: a LearnedModel, None for the rules alone, or "default" to load learned.tsv
                from the lexicon directory.
        """
        self.lexicon = load_lexicon(lexicon_dir)
        self._engine = Engine(self.lexicon, build_tokenizer(self.lexicon))
        directory = lexicon_dir or DEFAULT_LEXICON_DIR
        self.learned = load_learned(directory) if isinstance(learned, str) else learned
        self._combiner = Combiner(self.lexicon.combine)

    def features(self, text: str, unigrams: bool = True) -> set[str]:
        """Return the learned layer's feature set of a raw message (used by the trainer)."""
        clean, emoji = prepare(text, self.lexicon.emoticons)
        low = clean.lower()
        _d, tokens = self._engine.analyse(low, emoji)
        return features(low, tokens if tokens is not None else [], unigrams)

    def classify(self, text: str) -> Classification:
        """Return the kind, category and urgency of one message (never raises on a string)."""
        clean, emoji = prepare(text, self.lexicon.emoticons)
        low = clean.lower()
        d, tokens = self._engine.analyse(low, emoji)
        model = self.learned
        learned = model.score(features(low, tokens, model.unigrams)) if tokens is not None and model else None
        return self._combiner.combine(d, learned)


_lock = threading.Lock()
_default: Classifier | None = None


def get_classifier() -> Classifier:
    """Return the process-wide classifier, building it on first use."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = Classifier()
    return _default


def classify(text: str) -> Classification:
    """Classify one message with the default classifier."""
    return get_classifier().classify(text)
