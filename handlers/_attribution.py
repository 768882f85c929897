"""Who did it: locate teachers and peers, and credit physical harm to one of them.

Harm done by a teacher is ``teacher_conduct``; by classmates, strangers or an
accident it is ``safety`` (taxonomy.md). Teachers and peers are found by
characters, because jieba glues "老师上课" into one token.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from handlers._lexicon import CATEGORY_CODES, Lexicon, Slot

__all__ = ["agent_regex", "attribute_violence", "find_agents"]

# "告诉老师", "跟老师说": a teacher addressed is not the one who did it.
_ADDRESSED = frozenset(["告诉", "跟", "找", "问", "报告", "告", "和", "给", "向", "叫"])
# "老师能不能帮忙看看", "老师，孩子刚才…": a teacher asked for something is the addressee.
_ASKED = re.compile(r"(?:们)?(?:能不能|可不可以|能否|可否|麻烦|帮忙|帮我|帮着|您|你好|好,|,)")
# "老师让…同学蹲马步", "老师把孩子们关在…": the classmates are the object, not the agent.
_CAUSATIVE = frozenset(["让", "叫", "罚", "要求", "逼", "逼着", "命令", "安排", "把", "将", "对", "冲", "朝"])
# A teacher named at the very start and followed by a break or a new subject is addressed.
_NEW_SUBJECT = re.compile(r"(?:\s|[,:;。!?~]|孩子|我|娃|宝宝|您好|你好)")
_TEACHER_SLOT = Slot.CAT0 + CATEGORY_CODES.index("teacher_conduct")
_SAFETY_SLOT = Slot.CAT0 + CATEGORY_CODES.index("safety")


def agent_regex(lexicon: Lexicon) -> re.Pattern[str]:
    """Compile one regex finding teacher words (group t) and peer words (group p)."""
    words: dict[int, list[str]] = {Slot.TEACHER: [], Slot.PEER: []}
    for term, effects in lexicon.terms.items():
        for slot, _w, _n in effects:
            if slot in words:
                words[slot].append(re.escape(term))
    alt = {k: "|".join(sorted(set(v), key=len, reverse=True)) or "(?!)" for k, v in words.items()}
    return re.compile(f"(?P<t>{alt[Slot.TEACHER]})|(?P<p>{alt[Slot.PEER]})")


def find_agents(
    agents: re.Pattern[str], text: str, starts: list[int], teacher_at: list[int], peer_at: list[int]
) -> None:
    """Append the token indexes of teachers and peers mentioned in ``text``."""
    for m in agents.finditer(text):
        at = m.start()
        if m.lastgroup == "t":
            if text[max(0, at - 2) : at] in _ADDRESSED or (at and text[at - 1] in _ADDRESSED):
                continue
            asked = _ASKED.match(text, m.end())
            if asked and (at <= 2 or asked.group(0)[-1] != ","):
                continue  # vocative at the start, or a request put to the teacher
            if at <= 2 and _NEW_SUBJECT.match(text, m.end()):
                continue  # "老师 孩子今天…", "老师我家孩子…": the teacher is addressed, not the agent
            teacher_at.append(bisect_right(starts, at) - 1)
        else:
            peer_at.append(bisect_right(starts, at) - 1)


def attribute_violence(
    s: list[float], tokens: list[str], violence_at: list[tuple[int, float]], teacher_at: list[int],
    peer_at: list[int],
) -> None:
    """Credit physical harm to a teacher (teacher_conduct) or to peers/accidents (safety).

    Harm with an agent is blame (complaint evidence); an injury (HARM) follows the
    agent of the violence in the same message, or is an accident (safety).
    """
    teachers = teacher_at
    hit_at = {idx for idx, _ in violence_at}
    agents = []
    for p in peer_at:
        if p in hit_at or p - 1 in hit_at or p - 2 in hit_at:
            continue  # "打男生", "摸女生" (one token): the classmate is the victim
        before = max((t for t in teachers if t < p), default=-1)
        if before >= 0 and _CAUSATIVE.intersection(tokens[before + 1 : p]):
            continue
        agents.append(p)
    by_teachers = by_peers = 0.0
    for idx, weight in violence_at:
        last_teacher = max((t for t in teachers if t < idx), default=-1)
        last_peer = max((p for p in agents if p < idx), default=-1)
        if last_teacher < 0 and last_peer < 0:
            by_teacher = bool(teachers) and not agents
        else:
            by_teacher = last_teacher > last_peer
        if by_teacher:
            by_teachers += weight
        elif agents or last_peer >= 0:
            by_peers += weight
        share = 1.5 if (teachers or agents) else 0.75  # "抽了一下" with nobody doing it is weak
        s[_TEACHER_SLOT if by_teacher else _SAFETY_SLOT] += weight * share
        s[Slot.URGENT] += weight
    # Harm by a teacher is always blame (体罚 is a complaint); by peers it may be a worried report.
    if by_teachers or by_peers:
        s[Slot.COMPLAINT] += min(by_teachers, 4.0) + 0.5 * min(by_peers, 4.0)
    s[Slot.AGENT] = 1.0 if by_teachers > by_peers else 0.0
    s[Slot.PEER_HARM] = by_peers
