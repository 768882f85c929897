"""The ``classify`` and ``classify-eval`` commands: JSON lines in, labels out; no database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

import click

from handlers.classifier import get_classifier
from handlers.evaluation import evaluate, format_report, read_labelled

__all__ = ["classify_command", "classify_eval_command", "classify_lines"]


def _classify_line(line: str) -> dict[str, Any]:
    """Classify one JSON line, or describe why it cannot be classified."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"error": f"invalid JSON: {exc.msg}"}
    if not isinstance(record, dict):
        return {"error": "expected a JSON object"}
    text = record.get("text")
    if not isinstance(text, str):
        return {"id": record.get("id"), "error": "missing or non-string 'text'"}
    return get_classifier().classify(text).as_contract(record.get("id"))


def classify_lines(source: IO[str], sink: IO[str]) -> int:
    """Classify every non-blank line of ``source`` into ``sink``; return the number of bad lines."""
    bad = 0
    for line in source:
        if not line.strip():
            continue
        result = _classify_line(line)
        bad += "error" in result
        sink.write(json.dumps(result, ensure_ascii=False) + "\n")
        sink.flush()
    return bad


@click.command("classify")
def classify_command() -> None:
    """Classify parent messages: JSON lines {"id", "text"} on stdin, labels on stdout."""
    with click.open_file("-", "r", encoding="utf-8") as source, click.open_file("-", "w", encoding="utf-8") as sink:
        bad = classify_lines(source, sink)
    if bad:
        click.echo(f"{bad} line(s) could not be classified", err=True)


@click.command("classify-eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--errors", is_flag=True, help="List the misclassified lines too.")
def classify_eval_command(file: Path, errors: bool) -> None:
    """Print the classifier's quality metrics on a labelled JSONL FILE."""
    click.echo(format_report(evaluate(read_labelled(file)), errors=errors))
