"""The classify and classify-eval commands, through Flask's CLI runner; no database is touched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import create_app

DEV = Path(__file__).resolve().parents[2] / "shared/data/dev.jsonl"


@pytest.fixture
def cli(tmp_path: Path):
    db_file = tmp_path / "never-created.sqlite3"
    app = create_app({"database": {"url": f"sqlite:///{db_file}"}})
    yield app.test_cli_runner()
    assert not db_file.exists(), "the classifier commands must not touch the database"


def test_classify_reads_and_writes_json_lines_in_order(cli) -> None:
    lines = [
        {"id": "a", "text": "收到"},
        {"id": 2, "text": "校车座位根本不够，三个孩子挤两个座"},
        {"id": "c", "text": "請問下學期幾號開學？"},
    ]
    result = cli.invoke(args=["classify"], input="\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [{k: v for k, v in x.items() if k not in ("review", "p_urgent")} for x in out] == [
        {"id": "a", "kind": "none", "category": None, "urgency": None},
        {"id": 2, "kind": "complaint", "category": "transport", "urgency": "urgent"},
        {"id": "c", "kind": "inquiry", "category": "schedule", "urgency": "normal"},
    ]
    assert [x["review"] for x in out] == [False, False, False]
    assert all(isinstance(x["p_urgent"], float) and 0 <= x["p_urgent"] <= 1 for x in out)
    assert out[1]["p_urgent"] > out[2]["p_urgent"]


def test_bad_lines_get_an_error_and_the_run_continues(cli) -> None:
    source = '{"id": 1, "text": "好的"}\nnot json\n{"id": 3}\n[1, 2]\n\n{"id": 5, "text": 7}\n{"id": 6, "text": "谢谢"}\n'
    result = cli.invoke(args=["classify"], input=source)
    assert result.exit_code == 0
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 6
    assert out[0]["kind"] == "none" and out[5]["id"] == 6 and out[5]["kind"] == "none" and out[5]["review"] is False
    assert "error" in out[1] and "id" not in out[1]
    assert out[2]["id"] == 3 and "error" in out[2]
    assert "error" in out[3] and out[4]["id"] == 5 and "error" in out[4]


def test_classify_eval_prints_the_metrics(cli, tmp_path: Path) -> None:
    data = tmp_path / "mini.jsonl"
    rows = [
        {"id": "x1", "text": "收到", "kind": "none", "category": None, "urgency": None},
        {"id": "x2", "text": "请问几号开学？", "kind": "inquiry", "category": "fees", "urgency": "normal"},
    ]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    result = cli.invoke(args=["classify-eval", str(data), "--errors"])
    assert result.exit_code == 0, result.output
    for needle in ("kind accuracy", "actionable", "urgent", "safe recall", "flag share", "category macro-F1",
                   "kind confusion",
                   "category confusion", "misclassified (1)", "x2"):
        assert needle in result.output


@pytest.mark.skipif(not DEV.is_file(), reason=f"shared dev set not found at {DEV}")
def test_classify_eval_on_the_dev_set(cli) -> None:
    result = cli.invoke(args=["classify-eval", str(DEV)])
    assert result.exit_code == 0 and "messages            180" in result.output
