"""What the classifier says of one message (the type every stage and every caller shares)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = ("complaint", "help", "suggestion", "inquiry", "praise", "none")
ACTIONABLE_KINDS = frozenset({"complaint", "help", "suggestion", "inquiry"})


@dataclass(frozen=True, slots=True)
class Classification:
    """The labels of one message, with confidences and the cues that produced them."""

    kind: str
    category: str | None
    urgency: str | None
    confidence: float
    kind_confidence: float
    category_confidence: float
    signals: tuple[str, ...] = ()
    # flagged for the safety review (疑似紧急) without being rated urgent
    review: bool = False
    # the learned layer's probability that the message is urgent (0.0 without a learned layer)
    p_urgent: float = 0.0

    @property
    def actionable(self) -> bool:
        """Return whether the message should become a ticket."""
        return self.kind in ACTIONABLE_KINDS

    def as_contract(self, id: Any) -> dict[str, Any]:
        """Return the classify-contract record ``{"id", "kind", "category", "urgency", "review", "p_urgent"}``."""
        return {"id": id, "kind": self.kind, "category": self.category, "urgency": self.urgency,
                "review": self.review, "p_urgent": round(self.p_urgent, 3)}
