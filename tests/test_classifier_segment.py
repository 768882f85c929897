"""The classifier's segmenter returns exactly what jieba's HMM-free accurate mode returns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from handlers.classifier import get_classifier

_DATA = [Path(__file__).resolve().parent / "data", Path(__file__).resolve().parents[2] / "shared" / "data"]


@pytest.fixture(scope="module")
def engine():
    return get_classifier()._engine


def _labelled_texts() -> list[str]:
    texts = []
    for folder in _DATA:
        for path in sorted(folder.glob("*.jsonl")):
            texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


def test_every_labelled_message_segments_like_jieba(engine) -> None:
    texts = _labelled_texts()
    assert len(texts) > 1000
    for text in texts:
        for variant in (text, text.lower()):
            assert engine.segmenter.lcut(variant) == engine.tokenizer.lcut(variant, HMM=False), variant


# Characters the dictionary knows in long chains, ASCII letters and digits that jieba merges,
# its block punctuation (+#&._%-), whitespace including \r\n, and characters outside its range.
_ALPHABET = st.sampled_from(
    list("孩子在学校被同学打了老师校车司机开得很快食堂饭菜有偿补课课后服务托管班主任划片助学金")
    + list("abcXYZ019+#&._%-") + [" ", "\n", "\r\n", "\t", "，", "。", "！", "😭", "㐀", "\u9fd6", "é"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
@example("ab12c孩子abc")
@example("")
@example("\r\n\r\n")
def test_any_text_segments_like_jieba(engine, text: str) -> None:
    assert engine.segmenter.lcut(text) == engine.tokenizer.lcut(text, HMM=False)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_unicode_segments_like_jieba(engine, text: str) -> None:
    assert engine.segmenter.lcut(text) == engine.tokenizer.lcut(text, HMM=False)
