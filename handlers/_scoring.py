"""The scoring engine: tokens and patterns → weighted evidence → kind, category, urgency."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

import jieba

from handlers._lexicon import CATEGORY_CODES, Lexicon, Slot

__all__ = ["Decision", "Engine"]

KIND_SLOTS = (
    ("complaint", Slot.COMPLAINT), ("help", Slot.HELP), ("suggestion", Slot.SUGGESTION),
    ("inquiry", Slot.INQUIRY), ("praise", Slot.PRAISE),
)
_CAT_END = Slot.CAT0 + len(CATEGORY_CODES)
_WORDY = re.compile(r"[^\W_]")
# A numbered roll-call line ("3. 王浩然 已打卡") or a #接龙 list.
_ROLL_CALL = re.compile(r"^(?:#?接龙|\d{1,3}\s*[.、)]\s*\S{1,12}(?:\s|$))")
_ROLL_CALL_TAIL = re.compile(
    r"(已交|已读|已阅|已打卡|已完成|已签字?|已提交|已报名|已缴|收到|\d+\s*(?:人|元|块|件|套|码|cm)?)$"
)


@dataclass(frozen=True, slots=True)
class Decision:
    """The raw outcome of scoring one message."""

    kind: str
    category: str | None
    urgent: bool
    kind_confidence: float
    category_confidence: float
    signals: tuple[str, ...]


def _margin(top: float, second: float) -> float:
    """Map the lead of the best score over the runner-up to a 0.5..1 confidence."""
    if top <= 0:
        return 0.5
    return round(min(0.99, 0.5 + 0.5 * (top - second) / (top + second + 1.0)), 3)


class Engine:
    """Score messages against one compiled lexicon with one private tokenizer."""

    def __init__(self, lexicon: Lexicon, tokenizer: jieba.Tokenizer) -> None:
        self.lexicon = lexicon
        self.tokenizer = tokenizer
        p = lexicon.params
        self.urgent_threshold = p.get("urgent_threshold", 2.0)
        self.min_evidence = p.get("min_evidence", 1.0)
        self.request_clause_boost = p.get("request_clause_boost", 1.5)
        self.min_category = p.get("min_category", 0.8)
        self.implicit_topic = p.get("implicit_topic", 0.3)
        self.implicit_urgent = p.get("implicit_urgent", 0.6)
        self.money_share = p.get("money_share", 0.6)
        self.explicit_floor = p.get("explicit_floor", 0.5)
        self.past_frame = p.get("past_frame", 1.5)
        self.past_scale = p.get("past_scale", 0.6)
        self.place_discount = p.get("place_discount", 0.7)
        self._agents = _agent_regex(lexicon)

    def _match(self, text: str) -> tuple[list[str], list[str], list[tuple[int, int, int, tuple, str]]]:
        """Find lexicon terms over token n-grams, honouring negation within a clause."""
        lex = self.lexicon
        terms, negators, breaks = lex.terms, lex.negators, lex.clause_breaks
        tokens = self.tokenizer.lcut(text, HMM=False)
        n = len(tokens)
        hits: list[tuple[int, int, int, tuple, str]] = []  # (token index, clause, negated, effects, term)
        found: list[str] = []
        clause = 0
        last_break = -1
        i = 0
        while i < n:
            tok = tokens[i]
            if tok in breaks:
                clause += 1
                last_break = i
                i += 1
                continue
            size, effects = 1, terms.get(tok)
            if i + 1 < n:
                two = tok + tokens[i + 1]
                if i + 2 < n and (three := terms.get(two + tokens[i + 2])) is not None:
                    size, effects = 3, three
                elif (pair := terms.get(two)) is not None:
                    size, effects = 2, pair
                elif effects is None and len(tok) > 2:
                    # Boundary repair: jieba may glue a cue's first character to the previous
                    # word ("石头砸|到" hides "砸到"); try the token's tail with the next token.
                    effects = terms.get(tok[-1] + tokens[i + 1]) or terms.get(tok[-2:] + tokens[i + 1])
                    size = 2 if effects is not None else 1
            if effects is not None:
                negated = (i - 1 > last_break and tokens[i - 1] in negators) or (
                    i - 2 > last_break and tokens[i - 2] in negators and tokens[i - 1] in _FILLERS
                )
                hits.append((i, clause, negated, effects, tok if size == 1 else "".join(tokens[i : i + size])))
                found.append("!" + "".join(tokens[i : i + size]) if negated else "".join(tokens[i : i + size]))
            i += size
        return tokens, found, hits

    def decide(self, text: str, emoji_signals: frozenset[str]) -> Decision:
        """Classify a normalised, lower-cased message."""
        if not _WORDY.search(text):
            return Decision("none", None, False, 0.95, 0.0, tuple(sorted(emoji_signals)))
        if "\n" in text or _ROLL_CALL.match(text):
            lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
            if lines and all(_ROLL_CALL.match(ln) or _ROLL_CALL_TAIL.search(ln) for ln in lines):
                return Decision("none", None, False, 0.95, 0.0, ("roll-call",))
        _tokens, found, hits = self._match(text)
        n_tokens = len(_tokens)
        s = [0.0] * Slot.SIZE
        request_clauses = {c for _, c, _, eff, _ in hits if any(sl == Slot.HELP for sl, _, _ in eff)}
        boost = self.request_clause_boost if len(request_clauses) and _ncl(hits) > 1 else 1.0
        teacher_at: list[int] = []
        peer_at: list[int] = []
        violence_at: list[tuple[int, float]] = []
        seen: set[int] = set()
        places = self.lexicon.places
        place = [0.0] * len(CATEGORY_CODES)  # category evidence that only says where something happened
        for idx, clause, negated, effects, term in hits:
            if id(effects) in seen:
                continue  # a repeated word is one piece of evidence
            seen.add(id(effects))
            is_place = term in places
            for slot, weight, negatable in effects:
                if negated and negatable:
                    if slot == Slot.PRAISE:
                        s[Slot.COMPLAINT] += weight * 0.8
                    continue
                if Slot.CAT0 <= slot < _CAT_END and clause in request_clauses:
                    weight *= boost
                elif slot == Slot.ACK and 1 < idx < n_tokens - 3:
                    weight *= 0.3  # "好的", "收到" acknowledge at the edges of a message, not mid-sentence
                s[slot] += weight
                if is_place and Slot.CAT0 <= slot < _CAT_END:
                    place[slot - Slot.CAT0] += weight
                if slot == Slot.VIOLENCE:
                    violence_at.append((idx, weight))
        chars = set(text)
        starts: list[int] | None = None
        for pattern, effects, needs, negatable_rule in self.lexicon.patterns:
            if needs is not None and needs.isdisjoint(chars):
                continue
            m = pattern.search(text)
            if m is None:
                continue
            negated = negatable_rule and _negated_before(text, m.start())
            found.append(("!/" if negated else "/") + m.group(0) + "/")
            for slot, weight, negatable in effects:
                if negated and negatable:
                    continue
                if slot == Slot.VIOLENCE:
                    if starts is None:
                        starts = list(accumulate(map(len, _tokens), initial=0))
                    violence_at.append((max(0, bisect_right(starts, m.start()) - 1), weight))
                s[slot] += weight
        for tag in emoji_signals:
            for slot, weight, _neg in self.lexicon.signals.get(tag, ()):
                s[slot] += weight
            found.append(f"<{tag}>")
        if violence_at:
            if starts is None:
                starts = list(accumulate(map(len, _tokens), initial=0))
            self._find_agents(text, starts, teacher_at, peer_at)
        self._attribute_violence(s, _tokens, violence_at, teacher_at, peer_at)
        return self._conclude(s, place, tuple(found))

    def _find_agents(self, text: str, starts: list[int], teacher_at: list[int], peer_at: list[int]) -> None:
        """Locate teachers and peers by characters ("老师上课" is one jieba token), as token indexes."""
        for m in self._agents.finditer(text):
            at = m.start()
            if m.lastgroup == "t":
                if text[max(0, at - 2) : at] in _ADDRESSED or (at and text[at - 1] in _ADDRESSED):
                    continue  # "告诉老师", "跟老师说": a teacher addressed is not the one who did it
                teacher_at.append(bisect_right(starts, at) - 1)
            else:
                peer_at.append(bisect_right(starts, at) - 1)

    @staticmethod
    def _attribute_violence(
        s: list[float], tokens: list[str], violence_at: list[tuple[int, float]], teacher_at: list[int],
        peer_at: list[int],
    ) -> None:
        """Credit physical harm to a teacher (teacher_conduct) or to peers/accidents (safety).

        Harm with an agent is blame (complaint evidence); an injury (HARM) follows the
        agent of the violence in the same message, or is an accident (safety).
        """
        teacher_slot = Slot.CAT0 + CATEGORY_CODES.index("teacher_conduct")
        safety_slot = Slot.CAT0 + CATEGORY_CODES.index("safety")
        teachers = [t for t in teacher_at if t > 1] or teacher_at
        hit_at = {idx for idx, _ in violence_at}
        agents = []
        for p in peer_at:
            if p - 1 in hit_at or p - 2 in hit_at:
                continue  # "打男生": the classmate is the victim
            before = max((t for t in teachers if t < p), default=-1)
            if before >= 0 and _CAUSATIVE.intersection(tokens[before + 1 : p]):
                continue  # "老师让…同学蹲马步": the classmate is the object
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
            s[teacher_slot if by_teacher else safety_slot] += weight * share
            s[Slot.URGENT] += weight
        if by_teachers or by_peers:
            s[Slot.COMPLAINT] += 0.5 * min(by_teachers + by_peers, 4.0)
        s[Slot.AGENT] = 1.0 if by_teachers > by_peers else 0.0

    def _conclude(self, s: list[float], place: list[float], found: tuple[str, ...]) -> Decision:
        """Turn accumulated evidence into labels and confidences."""
        cats = s[Slot.CAT0 : _CAT_END]
        background = s[Slot.BACKGROUND]
        urgency = s[Slot.URGENT] - background
        past = background >= self.past_frame
        if past:
            urgency *= self.past_scale  # a past or settled incident: the whole story is background
        elif urgency > 0:
            urgency += s[Slot.IMMEDIATE] + s[Slot.GROUP]
        danger = urgency >= self.urgent_threshold
        if danger:
            cats = [c - self.place_discount * p for c, p in zip(cats, place, strict=True)]
        # An injury is teacher_conduct when a teacher did it, else safety; when it is only
        # background ("骨折了，作业能不能…") the category follows what is asked.
        cats[_TEACHER if s[Slot.AGENT] else _SAFETY] += s[Slot.HARM] * (1.0 if danger else 0.3)
        topic = max(cats)
        none_score = s[Slot.ACK] + s[Slot.STATUS] + s[Slot.CHAT] + 0.8 * s[Slot.THANKS]
        if s[Slot.HEDGE] >= 1.5:
            s[Slot.COMPLAINT] *= 0.5
            s[Slot.INQUIRY] += s[Slot.HEDGE]
        # A parent describing a school matter or a danger, without a "done/thanks" marker, is
        # reporting a problem even with no complaint words: implicit evidence makes the message
        # actionable, explicit cues choose the kind, and complaint is the default kind.
        implicit = self.implicit_topic * min(topic, 4.0) * max(0.0, 1.0 - none_score / 3.0)
        implicit += self.implicit_urgent * max(urgency, 0.0)
        praise = s[Slot.PRAISE]
        if praise > 0 or topic > 0:
            praise += 0.6 * s[Slot.THANKS]
        if s[Slot.TARGET] <= 0 and s[Slot.TEACHER] <= 0:
            # praise needs a school target; "孩子们唱得真棒" is chatter, not a problem report
            if praise >= 1.0 and not danger and max(s[Slot.COMPLAINT], s[Slot.HELP], s[Slot.SUGGESTION],
                                                    s[Slot.INQUIRY]) < self.explicit_floor:
                return Decision("none", None, False, _margin(praise, 0.0), 0.0, found)
            praise *= 0.4
        if danger:
            praise *= 0.2  # "闻得清清楚楚" next to a drunk driver is not praise
        inquiry = s[Slot.INQUIRY] - s[Slot.CHAT]  # parents asking each other
        scores = [(s[Slot.COMPLAINT], "complaint"), (s[Slot.HELP], "help"), (s[Slot.SUGGESTION], "suggestion"),
                  (inquiry, "inquiry"), (praise, "praise")]
        scores.sort(reverse=True)
        (best, kind), (second, _) = scores[0], scores[1]
        if best < self.explicit_floor:
            kind, second = "complaint", best
        strength = best + implicit
        if strength < self.min_evidence or none_score >= strength + 0.5:
            conf = _margin(max(none_score, 1.0), max(strength, 0.0))
            return Decision("none", None, False, conf, 0.0, found)
        urgent = danger and kind in ("complaint", "help", "inquiry")
        if urgent and kind == "inquiry":
            kind = "help"  # asking about a child in danger now is a call for help
        ranked = sorted(range(len(cats)), key=lambda k: (cats[k], _TIE_BREAK[k]), reverse=True)
        fees = cats[_FEES]
        if ranked[0] in _FEES_OVER and fees >= 2.5 and fees >= self.money_share * cats[ranked[0]]:
            ranked.remove(_FEES)  # money charged is fees, even for meals, buses or 托管
            ranked.insert(0, _FEES)
        if urgent and ranked[0] == _FACILITIES:
            ranked.remove(_SAFETY)  # a facility that endangers a child now is a safety matter
            ranked.insert(0, _SAFETY)
        c1, c2 = cats[ranked[0]], cats[ranked[1]]
        if c1 < self.min_category:
            code, cat_conf = "other", round(0.3 + 0.2 * max(c1, 0.0), 3)
        else:
            code, cat_conf = CATEGORY_CODES[ranked[0]], _margin(c1, c2)
        return Decision(kind, code, urgent, _margin(strength, max(second, none_score)), cat_conf, found)


def _agent_regex(lexicon: Lexicon) -> re.Pattern[str]:
    """Compile one regex finding teacher words (group t) and peer words (group p)."""
    words: dict[int, list[str]] = {Slot.TEACHER: [], Slot.PEER: []}
    for term, effects in lexicon.terms.items():
        for slot, _w, _n in effects:
            if slot in words:
                words[slot].append(re.escape(term))
    alt = {k: "|".join(sorted(set(v), key=len, reverse=True)) or "(?!)" for k, v in words.items()}
    return re.compile(f"(?P<t>{alt[Slot.TEACHER]})|(?P<p>{alt[Slot.PEER]})")


def _negated_before(text: str, start: int) -> bool:
    """Return whether a negator ends right before ``start`` in the same clause ("没有被欺负")."""
    if start <= 0:
        return False
    return (
        _NEG_TAIL.search(text, max(0, start - 6), start) is not None
        or _HYPOTHETICAL.search(text, max(0, start - 10), start) is not None
    )


def _ncl(hits: list[tuple[int, int, int, tuple, str]]) -> int:
    return len({c for _, c, _, _, _ in hits})


_NEG_TAIL = re.compile(r"(?:没有|没|不是|不|未|并非|并没有|从不|从没|从来没|从来不)(?:被|有|让|再|曾)?$")
# "万一有人欺负", "防溺水", "如果着火": a danger imagined, not happening.
_HYPOTHETICAL = re.compile(r"(?:万一|如果|假如|要是|以防|预防|防止|防|是不是|会不会|怀疑)[^,。!?;\n]{0,6}$")
_ADDRESSED = frozenset(["告诉", "跟", "找", "问", "报告", "告", "和", "给", "向", "叫"])
_FILLERS = frozenset(["是", "太", "会", "再", "很", "都", "也", "还", "算", "被", "怎么", "那么", "这么", "大", "够", "用", "能"])
_CAUSATIVE = frozenset(["让", "叫", "罚", "要求", "逼", "逼着", "命令", "安排"])
_FEES = CATEGORY_CODES.index("fees")
_FACILITIES = CATEGORY_CODES.index("facilities")
_TEACHER = CATEGORY_CODES.index("teacher_conduct")
_SAFETY = CATEGORY_CODES.index("safety")
_FEES_OVER = frozenset(
    CATEGORY_CODES.index(c)
    for c in ("food", "transport", "after_school", "schedule", "facilities", "other", "enrollment", "homework")
)
# Ties go to the earlier code in this priority list (safety-relevant first).
_PRIORITY = ("teacher_conduct", "safety", "transport", "food", "fees", "aid", "wellbeing")
_TIE_BREAK = tuple(
    -(_PRIORITY.index(code) if code in _PRIORITY else len(_PRIORITY) + i) for i, code in enumerate(CATEGORY_CODES)
)
