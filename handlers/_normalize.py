"""Text normalisation for the classifier: script, width, mentions, emoji, punctuation."""

from __future__ import annotations

import functools
import re
import threading

import opencc

__all__ = ["EMOJI_SIGNALS", "normalize", "prepare", "to_simplified"]

# Emoji that carry meaning; every other emoji is simply removed.
EMOJI_SIGNALS: dict[str, str] = {
    "😭": "distress", "😢": "distress", "😿": "distress", "😰": "distress", "😱": "distress",
    "😡": "anger", "😠": "anger", "🤬": "anger", "💢": "anger",
    "👍": "ack", "👌": "ack", "🙏": "ack", "🌹": "ack", "💐": "ack", "❤": "ack", "👏": "ack",
    "🤝": "ack", "✅": "ack", "🆗": "ack", "💯": "ack", "✌": "ack", "☺": "ack",
    # laughter, like the [偷笑]/[破涕为笑] emoticon codes
    "😂": "happy", "🤣": "happy", "😄": "happy", "😁": "happy", "😆": "happy",
}

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_EMOTICON = re.compile(r"\[([^\[\]\s]{1,6})\]")
_MENTION_SPACED = re.compile(r"@[^\s@]{1,12}\s+")
_MENTION_TITLED = re.compile(
    r"@[\u4e00-\u9fffA-Za-z]{0,5}?(?:老师|助手|校长|主任|园长|妈妈|爸爸|机器人|家长|所有人)|@all", re.I
)
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\ufe0f\u200d\u20e3\U000e0000-\U000e007f]+"
)
_REPEATED_PUNCT = re.compile(r"([!?,.;:~。、…·=-])\1+")
_SPACES = re.compile(r"[ \t\r\f\v\u2005\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")

_cc_lock = threading.Lock()


@functools.cache
def _converter() -> tuple[opencc.OpenCC, frozenset[str]]:
    """Build the t2s converter and the set of characters it would change."""
    with _cc_lock:
        converter = opencc.OpenCC("t2s")
        chars = [chr(c) for c in range(0x3400, 0x4DC0)] + [chr(c) for c in range(0x4E00, 0xA000)]
        chars += [chr(c) for c in range(0xF900, 0xFB00)]
        converted = converter.convert("\n".join(chars)).split("\n")
        if len(converted) != len(chars):  # never seen; fall back to always converting
            return converter, frozenset()
        traditional = frozenset(a for a, b in zip(chars, converted, strict=True) if a != b)
        return converter, traditional


def to_simplified(text: str) -> str:
    """Convert traditional Chinese to simplified, skipping texts with no traditional character."""
    converter, traditional = _converter()
    if traditional and traditional.isdisjoint(text):
        return text
    return converter.convert(text)


def prepare(text: str, emoticons: dict[str, str] | None = None) -> tuple[str, frozenset[str]]:
    """Normalise text and collect emoji/emoticon signals (distress, anger, ack, ...).

    Args:
        text: the raw message.
        emoticons: emoticon name (simplified, without brackets) → signal tag.

    Returns:
        The normalised text and the set of signal tags seen.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = to_simplified(text.translate(_FULLWIDTH))
    signals: set[str] = set()
    if "[" in text:
        table = emoticons or {}

        def _emoticon(match: re.Match[str]) -> str:
            tag = table.get(match.group(1))
            if tag:
                signals.add(tag)
            return " "

        text = _EMOTICON.sub(_emoticon, text)
    if "@" in text:
        text = _MENTION_TITLED.sub(" ", text)
        text = _MENTION_SPACED.sub(" ", text).replace("@", " ")
    if not text.isascii():
        found = _EMOJI.findall(text)
        if found:
            for ch in found:
                for single in ch:
                    tag = EMOJI_SIGNALS.get(single)
                    if tag:
                        signals.add(tag)
            text = _EMOJI.sub(" ", text)
    text = _SPACES.sub(" ", _REPEATED_PUNCT.sub(r"\1", text))
    if "\n" in text:
        text = _BLANK_LINES.sub("\n", text)
    text = text.strip()
    return text, frozenset(signals)


def normalize(text: str) -> str:
    """Return the normalised form of a message (simplified, half-width, no mentions/emoji)."""
    return prepare(text)[0]
