"""The neutral message type is the one boundary where platform input is made storable."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.message import InboundMessage, UnstorableMessage, clean_text

NOW = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)


@given(st.text())
def test_clean_text_is_storable_idempotent_and_keeps_clean_text(text: str) -> None:
    cleaned = clean_text(text)
    cleaned.encode("utf-8")  # no lone surrogate left
    assert "\x00" not in cleaned and clean_text(cleaned) == cleaned
    if "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert cleaned == text


@given(st.text(), st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))
def test_every_message_is_built_with_storable_text(text: str, name: str) -> None:
    msg = InboundMessage("simulator", 1, "m1", "c1", False, "u1", text, NOW, sender_name=name + "\x00")
    msg.text.encode("utf-8")
    assert "\x00" not in msg.text and msg.sender_name == name


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b"])
def test_ids_that_cannot_be_stored_are_refused(bad: str) -> None:
    with pytest.raises(UnstorableMessage):
        InboundMessage("simulator", 1, bad, "c1", False, "u1", "hi", NOW)
