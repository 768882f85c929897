"""Property tests: any text classifies to valid codes; script variants get the same labels."""

from __future__ import annotations

from pathlib import Path

import opencc
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.classifier import ACTIONABLE_KINDS, CATEGORIES, KINDS, URGENCIES, classify, normalize
from handlers.evaluation import read_labelled

_S2T = opencc.OpenCC("s2t")
_TEXTS = [row["text"] for row in read_labelled(Path(__file__).resolve().parent / "data" / "labelled.jsonl")]


def assert_valid(text: str) -> None:
    """Classify text and check the result is well-formed."""
    c = classify(text)
    assert c.kind in KINDS
    if c.kind == "none":
        assert c.category is None and c.urgency is None and c.category_confidence == 0
    else:
        assert c.category in CATEGORIES and c.urgency in URGENCIES
        if c.kind in ("suggestion", "praise"):
            assert c.urgency == "low"
    assert c.actionable == (c.kind in ACTIONABLE_KINDS)
    for value in (c.confidence, c.kind_confidence, c.category_confidence):
        assert 0.0 <= value <= 1.0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_unicode_string_classifies(text: str) -> None:
    assert_valid(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_TEXTS + ["[捂脸]", "😭", "@张老师 ", "！！！", "\n", "　", "👍"]), max_size=4))
def test_mixtures_of_real_messages_classify(parts: list[str]) -> None:
    assert_valid("".join(parts))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_TEXTS))
def test_traditional_form_gets_the_same_labels(text: str) -> None:
    simplified, traditional = classify(text), classify(_S2T.convert(text))
    assert (traditional.kind, traditional.category, traditional.urgency) == (
        simplified.kind, simplified.category, simplified.urgency,
    )


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
