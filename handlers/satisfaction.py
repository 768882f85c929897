"""A parent's 回访 answer in their own words: 满意 / 基本满意 / 不满意, or unclear.

Parents answer "是否满意？" with 1/2/3, the three words, or everyday phrases
(「还行吧，谢谢老师」, 「不太满意，饭菜还是凉的」). The strongest judgement in the
message wins — not satisfied over basically satisfied over satisfied — so
thanks around a complaint never turn it into 满意. Politeness alone (好的,
谢谢, 收到) is no judgement: the bot asks again rather than record a guess.
"""

from __future__ import annotations

import re
import unicodedata

UNSATISFIED = ("不满意", "不太满意", "不是很满意", "不怎么满意", "不满", "没解决", "没有解决", "未解决", "没处理",
               "不行", "不好", "太差", "很差", "差劲", "失望", "敷衍", "没用", "不认可", "还是老样子", "没改")
BASIC = ("基本满意", "比较满意", "还算满意", "还行", "还可以", "还好", "一般", "凑合", "马马虎虎", "过得去", "差不多",
         "勉强", "将就")
SATISFIED = ("非常满意", "很满意", "挺满意", "满意", "挺好", "很好", "非常好", "不错", "解决了", "很及时", "点赞", "👍")
DIGITS = {"1": "satisfied", "2": "basic", "3": "unsatisfied"}
_CLEAN = re.compile(r"[\s。.!！~～,，、?？]+")


def parse_satisfaction(text: str) -> str | None:
    """Return ``satisfied``, ``basic`` or ``unsatisfied`` for a 回访 answer, None when it judges nothing."""
    text = _CLEAN.sub("", unicodedata.normalize("NFKC", text or "")).removeprefix("回复")
    if text in DIGITS:
        return DIGITS[text]
    for words, code in ((UNSATISFIED, "unsatisfied"), (BASIC, "basic"), (SATISFIED, "satisfied")):
        if any(w in text for w in words):
            return code
    return None


def is_explicit(text: str) -> bool:
    """Return whether the answer uses the survey's own words (满意/基本满意/不满意) or 1/2/3."""
    text = _CLEAN.sub("", unicodedata.normalize("NFKC", text or ""))
    return text in DIGITS or "满意" in text
