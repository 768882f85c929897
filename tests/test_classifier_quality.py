"""Quality floor of the classifier on the shared development set and on our own labelled sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.classifier import ACTIONABLE_KINDS
from handlers.evaluation import Report, evaluate, read_labelled

DEV = Path(__file__).resolve().parents[2] / "shared/data/dev.jsonl"
DATA = Path(__file__).resolve().parent / "data"
# Sets the lexicons were tuned on (their errors were read and fixed): the full bar applies.
OWN = [
    DATA / name
    for name in (
        "labelled.jsonl", "holdout.jsonl", "blind2.jsonl", "blind3.jsonl", "blind5.jsonl", "blind7.jsonl",
        "blind11.jsonl",  # round 6: first score kind 0.920, macro-F1 0.930, urgent 1.000 / 1.000
        # round 7 first scores: blind12 kind 0.900, macro-F1 0.853, urgent P 0.857 / R 0.923, actionable
        # P 0.971 / R 0.971; blind13 kind 0.850, macro-F1 0.856, urgent P 0.917 / R 0.846, actionable
        # P 0.897 / R 1.000. Tuned on afterwards by word class and rule: the full bar applies.
        "blind12.jsonl", "blind13.jsonl",
        # round 8 first score (120 lines, harder kind boundaries): kind 0.817, macro-F1 0.866, urgent
        # P 0.778 / R 0.933, urgency accuracy 0.858, actionable P 0.912 / R 0.988. Tuned on afterwards
        # by word class and rule: the full bar applies.
        "blind14.jsonl",
        # round 9 first score (120 lines in dev.jsonl's style, held back during round 8): kind 0.908,
        # macro-F1 0.886, urgent P 0.706 / R 0.800, urgency accuracy 0.892, actionable P 0.944 / R 1.000.
        # Tuned on afterwards by word class and rule (urgency first): the full bar applies.
        "blind15.jsonl",
        # round 10 first score (120 lines in dev.jsonl's style, held back during round 9): kind 0.892,
        # macro-F1 0.892, urgent P 0.875 / R 0.875, urgency accuracy 0.917, actionable P 0.976 / R 0.976.
        # Tuned on afterwards by word class and rule: the full bar applies.
        "blind16.jsonl",
        # round 11 first score (150 lines in dev.jsonl's style, held back during round 10): kind 0.907,
        # macro-F1 0.880, urgent P 0.818 / R 0.900, urgency accuracy 0.920, actionable P 0.991 / R 0.991.
        # Tuned on afterwards by word class and rule (urgency first): the full bar applies.
        "blind17.jsonl",
        # round 12 first score (120 lines in dev.jsonl's style, held back during round 11): kind 0.883,
        # macro-F1 0.871, urgent P 0.789 / R 0.938, urgency accuracy 0.900, actionable P 0.988 / R 0.952
        # (with b18-020 relabelled to teacher_conduct/urgent per the taxonomy's 变相体罚 rule: kind 0.883, macro-F1 0.882,
        # urgent P 0.842 / R 0.941, urgency accuracy 0.908). Tuned on afterwards by word class and rule: the full bar applies.
        "blind18.jsonl",
        # first score after round 12 (120 lines in dev.jsonl's style, held back during round 12): kind 0.942,
        # macro-F1 0.916, urgent P 0.938 / R 0.938, urgency accuracy 0.967, actionable P 1.000 / R 1.000. Its one
        # urgent miss (a food illness in many children while one is on a drip) was fixed by class: the full bar applies.
        "blind19.jsonl",
        # first score after round 13 (120 lines in dev.jsonl's style, held back): kind 0.917, macro-F1 0.920,
        # urgent P 0.722 / R 0.812, urgency accuracy 0.908, actionable P 0.966 / R 1.000. Round 14 fixed its
        # errors by class (unauthorised pick-up, acute episodes, 瘀青, hypotheticals, jokes, late notice…): the full bar applies.
        "blind21.jsonl",
    )
]
# Blind batches scored once before any change they prompted (docs/classifier-history.md), then fixed
# by word class and rule only. Their floors are what they honestly reach.
BLIND4 = DATA / "blind4.jsonl"
BLIND6 = DATA / "blind6.jsonl"
LATEST_BLIND = DATA / "blind8.jsonl"
# Round 5 (the urgent safety net): blind9 was never tuned on; blind10 was tuned on for urgency only.
BLIND9 = DATA / "frozen" / "blind9.jsonl"
BLIND10 = DATA / "blind10.jsonl"


def assert_quality_floor(report: Report) -> None:
    """Fail unless the report meets the issue's quality bar."""
    assert report.kind_accuracy >= 0.92, report.kind_accuracy
    assert report.category_macro_f1 >= 0.88, report.category_macro_f1
    assert report.urgent.recall >= 0.97, report.urgent.recall
    assert report.urgent.precision >= 0.85, report.urgent.precision


@pytest.mark.skipif(not DEV.is_file(), reason=f"shared dev set not found at {DEV}")
def test_quality_on_the_shared_dev_set() -> None:
    assert_quality_floor(evaluate(read_labelled(DEV)))


def test_quality_on_our_own_labelled_sets() -> None:
    rows = [row for path in OWN for row in read_labelled(path)]
    assert len(rows) >= 300
    assert {r["kind"] for r in rows} == {"complaint", "help", "suggestion", "inquiry", "praise", "none"}
    assert_quality_floor(evaluate(rows))


def test_quality_floor_on_blind_batch_4() -> None:
    report = evaluate(read_labelled(BLIND4))
    assert report.kind_accuracy >= 0.88, report.kind_accuracy
    assert report.category_macro_f1 >= 0.85, report.category_macro_f1
    assert report.urgent.recall >= 0.92, report.urgent.recall
    assert report.urgent.precision >= 0.90, report.urgent.precision
    assert report.actionable.precision >= 0.97, report.actionable.precision


def test_quality_floor_on_blind_batch_6() -> None:
    # blind6 first score: kind 0.784, macro-F1 0.877, urgent P 0.78 / R 0.70; one class-level round.
    report = evaluate(read_labelled(BLIND6))
    assert report.kind_accuracy >= 0.90, report.kind_accuracy
    assert report.category_macro_f1 >= 0.95, report.category_macro_f1
    assert report.urgent.recall >= 0.97, report.urgent.recall
    assert report.urgent.precision >= 0.85, report.urgent.precision
    assert report.actionable.precision >= 0.97, report.actionable.precision


def test_no_none_message_becomes_a_ticket_in_our_sets() -> None:
    rows = [row for path in OWN for row in read_labelled(path) if row["kind"] == "none"]
    tickets = [e for e in evaluate(rows).errors if e["pred"][0] in ACTIONABLE_KINDS]
    assert not tickets


def test_evaluate_computes_metrics_on_a_tiny_set() -> None:
    rows = [
        {"id": 1, "text": "收到", "kind": "none", "category": None, "urgency": None},
        {"id": 2, "text": "孩子被同学打了，头上流了好多血", "kind": "complaint", "category": "safety", "urgency": "urgent"},
        {"id": 3, "text": "请问几号开学？", "kind": "inquiry", "category": "schedule", "urgency": "normal"},
        {"id": 4, "text": "请问几号开学？", "kind": "inquiry", "category": "fees", "urgency": "normal"},
    ]
    report = evaluate(rows)
    assert report.total == 4 and report.kind_accuracy == 1.0
    assert report.urgent.recall == 1.0 and report.urgent.support == 1
    assert report.categories["fees"].recall == 0.0 and report.categories["schedule"].precision == 0.5
    assert [e["id"] for e in report.errors] == [4]
    assert report.kind_confusion[("none", "none")] == 1


def test_quality_on_the_round_6_blind_batch_alone() -> None:
    # blind11 (dev.jsonl's mix) was scored once, then tuned on by word class; the full bar applies.
    assert_quality_floor(evaluate(read_labelled(DATA / "blind11.jsonl")))


@pytest.mark.parametrize(
    "name", ["blind12.jsonl", "blind13.jsonl", "blind14.jsonl", "blind15.jsonl", "blind16.jsonl", "blind17.jsonl",
             "blind18.jsonl", "blind19.jsonl", "blind21.jsonl"]
)
def test_quality_on_the_round_7_to_12_blind_batches_alone(name: str) -> None:
    # Scored once (first scores above, in OWN), then tuned on by word class and rule; the full bar
    # applies to each batch alone, and no `none` line of theirs becomes a ticket.
    report = evaluate(read_labelled(DATA / name))
    assert_quality_floor(report)
    assert report.actionable.precision >= 0.97, report.actionable.precision


def test_quality_floor_on_the_latest_blind_batch() -> None:
    # blind8 first score: kind 0.894, macro-F1 0.807, urgent P 0.91 / R 0.625; one class-level round.
    report = evaluate(read_labelled(LATEST_BLIND))
    assert report.kind_accuracy >= 0.95, report.kind_accuracy
    assert report.category_macro_f1 >= 0.85, report.category_macro_f1
    assert report.urgent.recall >= 0.97, report.urgent.recall
    assert report.urgent.precision >= 0.85, report.urgent.precision
    assert report.actionable.precision >= 0.97, report.actionable.precision


@pytest.mark.parametrize(
    ("path", "kind", "macro_f1"),
    [(BLIND9, 0.77, 0.74), (BLIND10, 0.75, 0.65)],
    ids=["blind9", "blind10"],
)
def test_urgent_safety_net_on_the_round_5_blind_batches(path: Path, kind: float, macro_f1: float) -> None:
    # blind9 first score: urgent P 0.839 / R 0.963 (never tuned on; 0.931 / 1.000 with the net);
    # blind10 first score: urgent P 0.625 / R 0.455 (then one urgency-only round). Kind and
    # category were not worked on in round 5; their floors are what these batches reach.
    report = evaluate(read_labelled(path))
    assert report.urgent.recall >= 0.97, report.urgent.recall
    assert report.urgent.precision >= 0.90, report.urgent.precision
    assert report.kind_accuracy >= kind, report.kind_accuracy
    assert report.category_macro_f1 >= macro_f1, report.category_macro_f1
