"""Frozen generalisation batches (tests/data/frozen/*.jsonl): never trained or tuned on, each with floors.

The lead adds never-tuned batches here with their floors in floors.yaml; a batch without floors fails,
so a new batch cannot be added silently. While the folder holds only the example batch the test
still runs it and says so.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import yaml

from handlers.evaluation import evaluate, read_labelled

FROZEN = Path(__file__).resolve().parent / "data" / "frozen"
BATCHES = sorted(FROZEN.glob("*.jsonl"))
FLOORS = yaml.safe_load((FROZEN / "floors.yaml").read_text(encoding="utf-8")) or {}


def test_every_frozen_batch_has_floors_and_is_never_trained_on() -> None:
    from handlers._train import corpus_files

    assert BATCHES, "tests/data/frozen/ needs at least one batch"
    assert {p.name for p in BATCHES} == set(FLOORS), "each frozen batch needs floors in floors.yaml (and vice versa)"
    assert not set(BATCHES) & set(corpus_files(FROZEN.parents[2]))
    if [p.name for p in BATCHES] == ["blind9.jsonl"]:
        warnings.warn("tests/data/frozen holds only the example batch blind9.jsonl: add never-tuned batches",
                      stacklevel=1)


@pytest.mark.parametrize("path", BATCHES, ids=lambda p: p.stem)
def test_frozen_batch_meets_its_floors(path: Path) -> None:
    floors = FLOORS[path.name]
    r = evaluate(read_labelled(path))
    got = {
        "kind": r.kind_accuracy, "macro_f1": r.category_macro_f1, "urgent_precision": r.urgent.precision,
        "urgent_recall": r.urgent.recall, "safe_recall": r.safe_recall,
    }
    low = {k: (v, floors[k]) for k, v in got.items() if k in floors and v < floors[k]}
    assert not low, f"{path.name} below its floors (got, floor): {low}"
    excess = r.flag_share - r.urgent_share
    assert excess <= floors.get("flag_excess", 1.0), f"{path.name} flags {excess:.3f} above its urgent share"
