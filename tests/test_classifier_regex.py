"""The first-character guard never changes what a classifier pattern matches."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers._regex import first_chars, guarded
from handlers.classifier import get_classifier
from tests.test_classifier_segment import _labelled_texts

_ATOMS = ["孩", "子", "打", "被", "[打摔]", "[^,。]", ".", "(?:孩子|娃)", "(找不到|没找到)", "a", "[0-9]", "\\d"]
_QUANT = ["", "?", "*", "+", "{0,3}", "{1,2}"]


@st.composite
def patterns(draw) -> str:
    """Small regexes shaped like the lexicon's: sequences, alternations, groups, repeats, lookarounds."""
    def seq() -> str:
        parts = [draw(st.sampled_from(_ATOMS)) + draw(st.sampled_from(_QUANT)) for _ in range(draw(st.integers(1, 4)))]
        if draw(st.booleans()):
            parts.insert(0, draw(st.sampled_from(["(?<!不)", "(?!没)", "^", "(?=孩)"])))
        return "".join(parts)

    alternatives = [seq() for _ in range(draw(st.integers(1, 3)))]
    body = "|".join(alternatives)
    return draw(st.sampled_from([body, f"(?:{body})", f"({body})打", f"(?:{body}){{1,2}}"]))


@settings(max_examples=400, deadline=None)
@given(patterns(), st.text(alphabet="孩子娃打摔被找不到没a1,。 ", max_size=20))
def test_guarded_pattern_finds_the_same_match(pattern: str, text: str) -> None:
    plain = re.compile(pattern)
    fast = guarded(plain)
    m1, m2 = plain.search(text), fast.search(text)
    assert (m1 and (m1.span(), m1.groups())) == (m2 and (m2.span(), m2.groups()))


def test_first_chars_is_exact_or_unknown() -> None:
    assert first_chars("(肚子|胃)疼|呼吸急|[34][0-9]度") == frozenset("肚胃呼34")
    assert first_chars("(?<!不)打") == frozenset("打")
    for unknown in ("a?b", ".打", "[^a]b", "\\w+", "(|a)b", "(?i)a"):
        assert first_chars(unknown) is None, unknown


def test_every_lexicon_pattern_matches_the_same_with_its_guard() -> None:
    engine = get_classifier()._engine
    texts = [t.lower() for t in _labelled_texts()]
    guarded_count = 0
    for (fast, *_), (plain, *_) in zip(engine._patterns, engine.lexicon.patterns, strict=True):
        guarded_count += fast is not plain
        for text in texts:
            m1, m2 = plain.search(text), fast.search(text)
            assert (m1 and m1.span()) == (m2 and m2.span()), (plain.pattern, text)
    assert guarded_count > len(engine._patterns) // 2  # most compositional rules get a guard


def test_the_pattern_prefilter_never_changes_a_classification() -> None:
    """Trying every pattern on every message gives the same labels, confidences and signals."""
    from handlers.classifier import Classifier

    fast = get_classifier()
    slow = Classifier()
    engine = slow._engine
    engine._by_char, engine._always_set = {}, frozenset(range(len(engine._patterns)))
    texts = _labelled_texts()
    for text in texts + [t + "😭" for t in texts[::7]] + [t[: len(t) // 2] for t in texts[::5]]:
        assert fast.classify(text) == slow.classify(text), text
