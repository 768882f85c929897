"""The scoring engine: tokens and patterns → weighted evidence → kind, category, urgency."""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

from handlers._attribution import agent_regex, attribute_violence, find_agents
from handlers._decide import Decider, Decision
from handlers._jieba import jieba
from handlers._lexicon import CATEGORY_CODES, Lexicon, Slot, required_options
from handlers._regex import guarded
from handlers._safety_net import SafetyNet
from handlers._segment import Segmenter

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


class Engine:
    """Score messages against one compiled lexicon with one private tokenizer."""

    def __init__(self, lexicon: Lexicon, tokenizer: jieba.Tokenizer) -> None:
        self.lexicon = lexicon
        self.tokenizer = tokenizer
        self.segmenter = Segmenter(tokenizer)
        self.request_clause_boost = lexicon.params.get("request_clause_boost", 1.5)
        self.decider = Decider(lexicon.params)
        self.net = SafetyNet(lexicon.net, lambda ch: float(tokenizer.FREQ.get(ch) or 0.0))
        self._agents = agent_regex(lexicon)
        self._targets = _target_regex(lexicon)
        # Inverted required-character index: a pattern is tried only when the text holds at
        # least one character of its rarest mandatory element (one dict lookup per character
        # of the text instead of one set test per pattern), and then only when every other
        # mandatory element shares a character with the text too ("被.{0,4}打" needs 被 and
        # 打). Both are necessary conditions, so they never change a result.
        self._always: list[int] = []
        by_char: dict[str, list[int]] = {}
        # The other elements are bits: a character sets the bit of every element it belongs
        # to, and a pattern runs only when the text's bits cover all of its own.
        bits: dict[frozenset[str], int] = {}
        checks: list[int] = []
        for k, (pattern, _effects, _needs, _neg) in enumerate(lexicon.patterns):
            options = required_options(pattern.pattern)
            if not options:
                self._always.append(k)
                checks.append(0)
                continue
            key = min(options, key=lambda chars: sum(tokenizer.FREQ.get(ch) or 0 for ch in chars))
            for ch in key:
                by_char.setdefault(ch, []).append(k)
            need = 0
            for o in options:
                if o is not key:
                    need |= bits.setdefault(o, 1 << len(bits))
            checks.append(need)
        self._checks = tuple(checks)
        # The same patterns with a first-character guard (handlers/_regex.py): same matches, faster.
        self._patterns = tuple((guarded(pat), *rest) for pat, *rest in lexicon.patterns)
        char_bits: dict[str, int] = {}
        for chars, bit in bits.items():
            for ch in chars:
                char_bits[ch] = char_bits.get(ch, 0) | bit
        # character → ((pattern, its other elements' bits) for every pattern keyed on it,
        # element bits it sets): a message's runnable patterns are those whose bits its
        # characters cover, found with one pass over its distinct characters.
        # The patterns that need nothing more than their key character are kept apart (a set
        # union in C); only the others are checked against the message's bits.
        self._by_char = {
            ch: (
                frozenset(k for k in by_char.get(ch, ()) if not checks[k]),
                tuple((k, checks[k]) for k in sorted(set(by_char.get(ch, ()))) if checks[k]),
                char_bits.get(ch, 0),
            )
            for ch in {*by_char, *char_bits}
        }
        self._always_set = frozenset(self._always)
        # Every proper prefix of a term: a token that is none of them cannot start a term of
        # two or three tokens, so the n-gram lookups are skipped for it.
        self._heads = frozenset(t[:k] for t in lexicon.terms for k in range(1, len(t)))
        # Effects that carry a request for help ("能不能", "麻烦"): their clause gets the boost.
        self._help_effects = frozenset(
            id(eff) for eff in lexicon.terms.values() if any(sl == Slot.HELP for sl, _, _ in eff)
        )

    def _match(self, text: str) -> tuple[list[str], list[str], list[tuple[int, int, int, tuple, str]]]:
        """Find lexicon terms over token n-grams, honouring negation within a clause."""
        lex = self.lexicon
        terms, negators, breaks = lex.terms, lex.negators, lex.clause_breaks
        heads = self._heads
        tokens = self.segmenter.lcut(text)
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
                if tok in heads:  # only a term's proper prefix can start a longer term
                    two = tok + tokens[i + 1]
                    if i + 2 < n and (three := terms.get(two + tokens[i + 2])) is not None:
                        size, effects = 3, three
                    elif (pair := terms.get(two)) is not None:
                        size, effects = 2, pair
                    elif effects is None and len(tok) > 2:
                        effects = terms.get(tok[-1] + tokens[i + 1]) or terms.get(tok[-2:] + tokens[i + 1])
                        size = 2 if effects is not None else 1
                elif effects is None and len(tok) > 2 and (tok[-1] in heads or tok[-2:] in heads):
                    # Boundary repair: jieba may glue a cue's first character to the previous
                    # word ("石头砸|到" hides "砸到"); try the token's tail with the next token.
                    effects = terms.get(tok[-1] + tokens[i + 1]) or terms.get(tok[-2:] + tokens[i + 1])
                    size = 2 if effects is not None else 1
            if effects is not None:
                negated = (i - 1 > last_break and tokens[i - 1] in negators) or (
                    i - 2 > last_break and tokens[i - 2] in negators and tokens[i - 1] in _FILLERS
                )
                word = tok if size == 1 else "".join(tokens[i : i + size])
                hits.append((i, clause, negated, effects, word))
                found.append("!" + word if negated else word)
            i += size
        return tokens, found, hits

    def decide(self, text: str, emoji_signals: frozenset[str]) -> Decision:
        """Classify a normalised, lower-cased message."""
        return self.analyse(text, emoji_signals)[0]

    def analyse(self, text: str, emoji_signals: frozenset[str]) -> tuple[Decision, list[str] | None]:
        """Classify a normalised, lower-cased message; return the decision and the jieba tokens.

        The tokens are None when the message has no word at all or is a roll-call list (the
        rules decide those alone); the learned layer reuses them instead of segmenting again.
        """
        if not _WORDY.search(text):
            return Decision("none", None, False, 0.95, 0.0, tuple(sorted(emoji_signals))), None
        if "\n" in text or _ROLL_CALL.match(text):
            lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
            if lines and all(_ROLL_CALL.match(ln) or _ROLL_CALL_TAIL.search(ln) for ln in lines):
                return Decision("none", None, False, 0.95, 0.0, ("roll-call",)), None
        _tokens, found, hits = self._match(text)
        n_tokens = len(_tokens)
        s = [0.0] * Slot.SIZE
        help_effects = self._help_effects
        request_clauses = {c for _, c, _, eff, _ in hits if id(eff) in help_effects}
        boost = self.request_clause_boost if request_clauses and _ncl(hits) > 1 else 1.0
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
        entries = list(filter(None, map(self._by_char.get, set(text))))
        have = 0
        for _free, _keyed, bits in entries:
            have |= bits
        runnable = set(self._always_set).union(*[entry[0] for entry in entries])
        missing = ~have
        runnable.update([k for entry in entries for k, need in entry[1] if not need & missing])
        patterns = self._patterns
        starts: list[int] | None = None
        for k in sorted(runnable):
            pattern, effects, _needs, negatable_rule = patterns[k]
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
                    at = max(0, bisect_right(starts, m.start()) - 1)
                    if weight < 0:
                        # a retraction ("打了…电话" is phoning) takes back only the harm of the
                        # violence word it starts on, never harm found elsewhere in the message
                        weight = -min(-weight, sum(w for i, w in violence_at if i == at))
                        if not weight:
                            continue
                    violence_at.append((at, weight))
                s[slot] += weight
        for tag in emoji_signals:
            for slot, weight, _neg in self.lexicon.signals.get(tag, ()):
                s[slot] += weight
            found.append(f"<{tag}>")
        if violence_at:
            if starts is None:
                starts = list(accumulate(map(len, _tokens), initial=0))
            find_agents(self._agents, text, starts, teacher_at, peer_at)
        attribute_violence(s, _tokens, violence_at, teacher_at, peer_at)
        if s[Slot.PRAISE] > 0 and s[Slot.TARGET] <= 0 and s[Slot.TEACHER] <= 0 and self._targets.search(text):
            s[Slot.TARGET] = 1.0  # "张老师", "谢谢学校": jieba glued the target into a longer token
        net = 0.0
        if s[Slot.URGENT] > 0 and self.net.exception(text):
            # a drill, a rule or a story heard elsewhere, with nothing happening now: background
            s[Slot.BACKGROUND] += self.decider.past_frame
            found.append("net:exception")
        elif self.decider.needs_net(s):  # the net can only add urgency the main lexicon missed
            net, fields = self.net.score(text)
            if fields and self.net.exception(text):
                net, fields = 0.0, ()  # …and never to a drill, a rule, news or a forwarded notice
            if fields:
                found.append("net:" + ",".join(fields) + f"={net}")
        return self.decider.conclude(s, place, tuple(found), net if net >= self.net.fire else 0.0), _tokens


def _target_regex(lexicon: Lexicon) -> re.Pattern[str]:
    """Compile one regex finding a praise target (老师, 学校, 食堂…) inside any token."""
    words = {t for t, eff in lexicon.terms.items() if any(sl in (Slot.TARGET, Slot.TEACHER) for sl, _w, _n in eff)}
    return re.compile("|".join(sorted(map(re.escape, words), key=len, reverse=True)) or "(?!)")


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
_FILLERS = frozenset(["是", "太", "会", "再", "很", "都", "也", "还", "算", "被", "怎么", "那么", "这么", "大", "够", "用", "能"])
