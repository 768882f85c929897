"""Quality metrics of the classifier on labelled JSONL rows (like shared/data/dev.jsonl)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handlers.classifier import ACTIONABLE_KINDS, CATEGORIES, KINDS, Classification, classify

__all__ = ["PRF", "Report", "evaluate", "format_report", "read_labelled", "summary_lines"]

_NO_CATEGORY = "-"


@dataclass(frozen=True, slots=True)
class PRF:
    """Precision, recall and F1 of one class."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(slots=True)
class Report:
    """Every metric classify-eval prints."""

    total: int
    kind_accuracy: float
    actionable: PRF
    categories: dict[str, PRF]
    category_macro_f1: float
    urgent: PRF
    urgency_accuracy: float
    kind_confusion: dict[tuple[str, str], int]
    category_confusion: dict[tuple[str, str], int]
    # gold urgent messages that came out urgent or flagged for review, over all gold urgent
    safe_recall: float = 0.0
    # messages that came out urgent or flagged for review, over all messages
    flag_share: float = 0.0
    urgent_share: float = 0.0  # gold urgent messages over all messages
    errors: list[dict[str, Any]] = field(default_factory=list)


def read_labelled(path: Path) -> list[dict[str, Any]]:
    """Read a labelled JSONL file, skipping blank lines."""
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _prf(tp: int, fp: int, fn: int) -> PRF:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(round(precision, 4), round(recall, 4), round(f1, 4), tp + fn)


def _binary(pairs: Iterable[tuple[bool, bool]]) -> PRF:
    counts = Counter(pairs)
    return _prf(counts[(True, True)], counts[(False, True)], counts[(True, False)])


def evaluate(
    rows: Iterable[Mapping[str, Any]], classifier: Callable[[str], Classification] = classify
) -> Report:
    """Classify labelled rows and compute the quality metrics.

    Args:
        rows: mappings with ``text``, ``kind``, ``category``, ``urgency`` (and usually ``id``).
        classifier: the function to evaluate (the default classifier unless given).

    Returns:
        The metrics, confusion matrices and the misclassified rows.
    """
    gold_pred: list[tuple[Mapping[str, Any], Classification]] = [(row, classifier(row["text"])) for row in rows]
    kind_conf: Counter[tuple[str, str]] = Counter()
    cat_conf: Counter[tuple[str, str]] = Counter()
    errors = []
    for row, pred in gold_pred:
        kind_conf[(row["kind"], pred.kind)] += 1
        cat_conf[(row.get("category") or _NO_CATEGORY, pred.category or _NO_CATEGORY)] += 1
        wrong = (row["kind"], row.get("category"), row.get("urgency")) != (pred.kind, pred.category, pred.urgency)
        if wrong:
            errors.append({
                "id": row.get("id"), "text": row["text"],
                "gold": [row["kind"], row.get("category"), row.get("urgency")],
                "pred": [pred.kind, pred.category, pred.urgency],
                "confidence": pred.confidence, "signals": list(pred.signals), "review": pred.review,
                "p_urgent": round(pred.p_urgent, 3),
            })
    total = len(gold_pred)
    categories = {}
    for code in CATEGORIES:
        tp = cat_conf[(code, code)]
        fp = sum(n for (g, p), n in cat_conf.items() if p == code and g != code)
        fn = sum(n for (g, p), n in cat_conf.items() if g == code and p != code)
        if tp + fp + fn:
            categories[code] = _prf(tp, fp, fn)
    macro = sum(m.f1 for m in categories.values()) / len(categories) if categories else 0.0
    gold_urgent = [p for r, p in gold_pred if r.get("urgency") == "urgent"]
    safe = sum(1 for p in gold_urgent if p.urgency == "urgent" or p.review)
    flagged = sum(1 for _r, p in gold_pred if p.urgency == "urgent" or p.review)
    return Report(
        total=total,
        kind_accuracy=round(sum(n for (g, p), n in kind_conf.items() if g == p) / total, 4) if total else 0.0,
        actionable=_binary((r["kind"] in ACTIONABLE_KINDS, p.kind in ACTIONABLE_KINDS) for r, p in gold_pred),
        categories=categories,
        category_macro_f1=round(macro, 4),
        urgent=_binary((r.get("urgency") == "urgent", p.urgency == "urgent") for r, p in gold_pred),
        urgency_accuracy=round(sum(r.get("urgency") == p.urgency for r, p in gold_pred) / total, 4) if total else 0.0,
        kind_confusion=dict(kind_conf),
        category_confusion=dict(cat_conf),
        safe_recall=round(safe / len(gold_urgent), 4) if gold_urgent else 0.0,
        flag_share=round(flagged / total, 4) if total else 0.0,
        urgent_share=round(len(gold_urgent) / total, 4) if total else 0.0,
        errors=errors,
    )


def _matrix(labels: list[str], counts: Mapping[tuple[str, str], int], width: int) -> list[str]:
    head = "gold\\pred".ljust(width) + "".join(label[:width].rjust(width) for label in labels)
    lines = [head]
    for gold in labels:
        cells = "".join(str(counts.get((gold, pred), 0) or ".").rjust(width) for pred in labels)
        lines.append(gold[:width].ljust(width) + cells)
    return lines


def summary_lines(report: Report) -> list[str]:
    """Return the headline figures of a report."""
    a, u = report.actionable, report.urgent
    return [
        f"messages            {report.total}",
        f"kind accuracy       {report.kind_accuracy:.3f}",
        f"actionable          precision {a.precision:.3f}  recall {a.recall:.3f}  (n={a.support})",
        f"urgent              precision {u.precision:.3f}  recall {u.recall:.3f}  (n={u.support})",
        f"safe recall         {report.safe_recall:.3f}  (gold urgent rated urgent or flagged for review)",
        f"flag share          {report.flag_share:.3f}  (urgent or review; gold urgent share {report.urgent_share:.3f})",
        f"urgency accuracy    {report.urgency_accuracy:.3f}",
        f"category macro-F1   {report.category_macro_f1:.3f}",
    ]


def format_report(report: Report, errors: bool = False) -> str:
    """Render a report as plain text for the terminal."""
    lines = [
        *summary_lines(report),
        "",
        f"{'category':<16}{'prec':>7}{'recall':>8}{'F1':>7}{'n':>5}",
    ]
    for code, m in report.categories.items():
        lines.append(f"{code:<16}{m.precision:>7.3f}{m.recall:>8.3f}{m.f1:>7.3f}{m.support:>5}")
    lines += ["", "kind confusion (rows = gold):"]
    lines += _matrix(list(KINDS), report.kind_confusion, 11)
    lines += ["", "category confusion (rows = gold, '-' = none):"]
    lines += _matrix([*CATEGORIES, _NO_CATEGORY], report.category_confusion, 7)
    if errors:
        lines += ["", f"misclassified ({len(report.errors)}):"]
        for e in report.errors:
            gold, pred = "/".join(str(x) for x in e["gold"]), "/".join(str(x) for x in e["pred"])
            flag = " +review" if e["review"] else ""
            lines.append(f"{e['id']}\t{gold}\t→ {pred}{flag}\tp_urgent {e['p_urgent']:.2f}\t{e['text']!r}")
            lines.append(f"\t\tsignals: {' '.join(e['signals'])}")
    return "\n".join(lines)
