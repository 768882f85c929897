"""Turn the evidence a message accumulated into kind, category and urgency.

The taxonomy's tie-breaks live here as rules over the score vector (not as
words): money charged is fees, a facility endangering a child now is safety,
a service context (托管) owns the homework done in it, an injury follows its
agent, and the default kind of a bare problem statement depends on whose
difficulty it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers._lexicon import CATEGORY_CODES, Slot

__all__ = ["Decision", "Decider", "margin"]

_CAT_END = Slot.CAT0 + len(CATEGORY_CODES)
_IDX = {code: i for i, code in enumerate(CATEGORY_CODES)}
_FEES, _FACILITIES, _TEACHER, _SAFETY = _IDX["fees"], _IDX["facilities"], _IDX["teacher_conduct"], _IDX["safety"]
_AFTER_SCHOOL = _IDX["after_school"]
_SCHEDULE, _TRANSPORT = _IDX["schedule"], _IDX["transport"]
# Where a classmate's violence may happen; the violence, not the venue, is the topic (safety).
_VENUES = frozenset(_IDX[c] for c in ("transport", "after_school", "facilities", "schedule"))
# Money charged for these services is fees (taxonomy: "even for meals or buses").
_FEES_OVER = frozenset(
    _IDX[c] for c in ("food", "transport", "after_school", "schedule", "facilities", "other", "enrollment", "homework")
)
# Inside a named service (托管, 课后服务) homework and teaching are what the service does.
_SERVICE_CONTENT = frozenset(_IDX[c] for c in ("homework", "teaching"))
# A bare statement of hardship is the family's own trouble (help), not blame.
_OWN_TROUBLE = frozenset({_IDX["aid"]})
# Ties go to the earlier code in this priority list (safety-relevant first).
_PRIORITY = ("teacher_conduct", "safety", "transport", "food", "fees", "aid", "wellbeing")
_TIE_BREAK = tuple(
    -(_PRIORITY.index(code) if code in _PRIORITY else len(_PRIORITY) + i) for i, code in enumerate(CATEGORY_CODES)
)

_INDEXES = range(len(CATEGORY_CODES))
assert len(set(_TIE_BREAK)) == len(_TIE_BREAK)


@dataclass(frozen=True, slots=True)
class Decision:
    """The raw outcome of scoring one message."""

    kind: str
    category: str | None
    urgent: bool
    kind_confidence: float
    category_confidence: float
    signals: tuple[str, ...]
    # the rules' urgency score (cues minus background, the net's override included): > 0 when a
    # danger concept fired and was not taken back, whether or not it reached the threshold
    danger: float = 0.0


def margin(top: float, second: float) -> float:
    """Map the lead of the best score over the runner-up to a 0.5..1 confidence."""
    if top <= 0:
        return 0.5
    return round(min(0.99, 0.5 + 0.5 * (top - second) / (top + second + 1.0)), 3)


class Decider:
    """Apply the thresholds of ``urgency.yaml`` ``params`` to a score vector."""

    def __init__(self, params: dict[str, float]) -> None:
        p = params
        self.urgent_threshold = p.get("urgent_threshold", 2.0)
        self.min_evidence = p.get("min_evidence", 1.0)
        self.min_category = p.get("min_category", 0.8)
        self.implicit_topic = p.get("implicit_topic", 0.3)
        self.implicit_urgent = p.get("implicit_urgent", 0.6)
        self.money_share = p.get("money_share", 0.6)
        self.explicit_floor = p.get("explicit_floor", 0.5)
        self.past_frame = p.get("past_frame", 1.5)
        self.past_scale = p.get("past_scale", 0.6)
        self.place_discount = p.get("place_discount", 0.7)
        self.service_context = p.get("service_context", 3.5)
        self.vehicle_context = p.get("vehicle_context", 4.0)
        self.complaint_over_help = p.get("complaint_over_help", 0.8)
        self.hardship_help = p.get("hardship_help", 2.0)

    def urgency(self, s: list[float], net: float = 0.0) -> float:
        """Return the urgency score: cues minus background, scaled down for past stories.

        ``net`` is the safety net's harm score when it fired (handlers/_safety_net.py): a
        strong net overrides a main lexicon that saw no danger ("prefer urgent").
        """
        urgency = s[Slot.URGENT] - s[Slot.BACKGROUND]
        if s[Slot.BACKGROUND] >= self.past_frame:
            return urgency * self.past_scale  # a past or settled incident: the whole story is background
        if urgency > 0:
            urgency += s[Slot.IMMEDIATE] + s[Slot.GROUP]
        if net and urgency < self.urgent_threshold:
            urgency = max(urgency, self.urgent_threshold)
        return urgency

    def needs_net(self, s: list[float]) -> bool:
        """Return whether the safety net could change the outcome (no danger seen, no past frame)."""
        return s[Slot.BACKGROUND] < self.past_frame and self.urgency(s) < self.urgent_threshold

    def categories(self, s: list[float], place: list[float], danger: bool) -> list[float]:
        """Return the category scores after the place and harm rules."""
        cats = s[Slot.CAT0 : _CAT_END]
        if danger:
            cats = [c - self.place_discount * p for c, p in zip(cats, place, strict=True)]
        # An injury is teacher_conduct when a teacher did it, else safety; when it is only
        # background ("骨折了，作业能不能…") the category follows what is asked.
        cats[_TEACHER if s[Slot.AGENT] else _SAFETY] += s[Slot.HARM] * (1.0 if danger else 0.3)
        return cats

    def rank(self, cats: list[float], urgent: bool, peer_harm: float = 0.0) -> list[int]:
        """Order the categories best first, applying the taxonomy's tie-breaks."""
        # _TIE_BREAK values are distinct, so the index never decides and the order is total.
        ranked = [k for _c, _t, k in sorted(zip(cats, _TIE_BREAK, _INDEXES, strict=True), reverse=True)]
        fees = cats[_FEES]
        if ranked[0] in _FEES_OVER and fees >= 2.5 and fees >= self.money_share * cats[ranked[0]]:
            _promote(ranked, _FEES)  # money charged is fees, even for meals, buses or 托管
        elif ranked[0] in _SERVICE_CONTENT and cats[_AFTER_SCHOOL] >= self.service_context:
            _promote(ranked, _AFTER_SCHOOL)  # "托管班就让孩子自己写作业": the service is the topic
        elif ranked[0] == _SCHEDULE and cats[_TRANSPORT] >= self.vehicle_context:
            _promote(ranked, _TRANSPORT)  # "校车六点就到村口": a school bus's timetable is transport
        if urgent and (ranked[0] == _FACILITIES or (ranked[0] in _VENUES and peer_harm >= 2.0)):
            # a facility that endangers a child now, or classmates hurting a child on the bus or
            # in 托管, is a safety matter
            _promote(ranked, _SAFETY)
        return ranked

    def conclude(self, s: list[float], place: list[float], found: tuple[str, ...], net: float = 0.0) -> Decision:
        """Turn accumulated evidence into labels and confidences."""
        urgency = self.urgency(s, net)
        danger = urgency >= self.urgent_threshold
        cats = self.categories(s, place, danger)
        topic = max(cats)
        none_score = s[Slot.ACK] + s[Slot.STATUS] + s[Slot.CHAT] + 0.8 * s[Slot.THANKS]
        complaint = s[Slot.COMPLAINT]  # before the hedge: "不是投诉…能不能让食堂…" still asks for a correction
        if s[Slot.HEDGE] >= 1.5:
            s[Slot.COMPLAINT] *= 0.5
            s[Slot.INQUIRY] += s[Slot.HEDGE]
        # A parent describing a school matter or a danger, without a "done/thanks" marker, is
        # reporting a problem even with no complaint words: implicit evidence makes the message
        # actionable, explicit cues choose the kind.
        implicit = self.implicit_topic * min(topic, 4.0) * max(0.0, 1.0 - none_score / 3.0)
        implicit += self.implicit_urgent * max(urgency, 0.0)
        praise = s[Slot.PRAISE]
        if praise > 0 or topic > 0:
            praise += 0.6 * s[Slot.THANKS]
        if s[Slot.TARGET] <= 0 and s[Slot.TEACHER] <= 0:
            # praise needs a school target; "孩子们唱得真棒" is chatter, not a problem report
            if praise >= 1.0 and not danger and max(s[Slot.COMPLAINT], s[Slot.HELP], s[Slot.SUGGESTION],
                                                    s[Slot.INQUIRY]) < self.explicit_floor:
                return Decision("none", None, False, margin(praise, 0.0), 0.0, found, urgency)
            praise *= 0.4
        if danger:
            praise *= 0.2  # "闻得清清楚楚" next to a drunk driver is not praise
        inquiry = s[Slot.INQUIRY] - s[Slot.CHAT]  # parents asking each other
        scores = [(s[Slot.COMPLAINT], "complaint"), (s[Slot.HELP], "help"), (s[Slot.SUGGESTION], "suggestion"),
                  (inquiry, "inquiry"), (praise, "praise")]
        scores.sort(reverse=True)
        (best, kind), (second, _) = scores[0], scores[1]
        strength = best + implicit
        # A danger happening now is never chatter: acknowledgement or parent-to-parent words
        # ("我家的也…") cannot outvote it (a missed emergency is the worst error).
        if strength < self.min_evidence or (none_score >= strength + 0.5 and not danger):
            conf = margin(max(none_score, 1.0), max(strength, 0.0))
            return Decision("none", None, False, conf, 0.0, found, urgency)
        ranked = self.rank(cats, danger, s[Slot.PEER_HARM])
        if best < self.explicit_floor:
            # A bare statement: thanks with a school topic is praise, a child's own difficulty
            # (health, hardship) is a call for help, anything else is a complaint.
            if s[Slot.THANKS] > 0 and s[Slot.COMPLAINT] <= 0 and not danger:
                kind = "praise"
            elif ranked[0] in _OWN_TROUBLE and cats[ranked[0]] >= self.min_category:
                kind = "help"
            else:
                kind = "complaint"
            second = best
        elif not danger and kind == "help" and complaint >= max(1.0, self.complaint_over_help * s[Slot.HELP]):
            # taxonomy: complaining and asking for an action for this child → complaint (a child
            # hurt now stays help unless blame outweighs the call for help); a hedge ("不是投诉")
            # softens the tone of a question, not a grievance that comes with a request
            kind = "complaint"
        elif kind == "inquiry" and ranked[0] in _OWN_TROUBLE and s[Slot.HELP] >= self.hardship_help:
            # round 11: "家里现在没收入，想问问能不能申请减免" asks the school to act on the family's
            # own hardship (help), even phrased as a question; a bare procedure question has no help
            # evidence and stays an inquiry
            kind = "help"
        urgent = danger and kind in ("complaint", "help", "inquiry")
        if urgent and kind == "inquiry":
            kind = "help"  # asking about a child in danger now is a call for help
        if not urgent and danger:
            ranked = self.rank(cats, False)
        c1, c2 = cats[ranked[0]], cats[ranked[1]]
        if c1 < self.min_category:
            code, cat_conf = "other", round(0.3 + 0.2 * max(c1, 0.0), 3)
        else:
            code, cat_conf = CATEGORY_CODES[ranked[0]], margin(c1, c2)
        return Decision(kind, code, urgent, margin(strength, max(second, none_score)), cat_conf, found, urgency)


def _promote(ranked: list[int], index: int) -> None:
    ranked.remove(index)
    ranked.insert(0, index)
