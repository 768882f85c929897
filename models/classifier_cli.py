"""``flask --app app classifier train|cv|compare``: the learned layer's offline tools.

``train`` fits the weights on every labelled corpus (handlers/_train.py, scikit-learn from
requirements-dev.txt) and writes config/lexicons/learned.tsv; ``--with-corrections`` adds the
staff's corrections (改类, 改为, 确认紧急, 非紧急) from the database. ``cv`` reports
out-of-fold scores. ``compare`` scores a candidate weights file against the current one on the
frozen batches and refuses one that lowers urgent or safe recall.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
LEARNED = ROOT / "config" / "lexicons" / "learned.tsv"
FROZEN = ROOT / "tests" / "data" / "frozen"

__all__ = ["classifier_group", "compare", "correction_rows", "cross_validated_report", "train_text"]


@click.group("classifier")
def classifier_group() -> None:
    """Train and compare the classifier's learned weights."""


def correction_rows(session: Any) -> list[dict[str, Any]]:
    """Return the staff's corrections as labelled rows (latest correction of a ticket wins).

    A correction to 无需处理 is a ``none`` row; an urgency of ``review`` (a flag answered 非紧急)
    becomes ``normal``. Rows are ordered by id so training stays deterministic.
    """
    from models.tickets import ClassifierCorrection

    latest: dict[int, dict[str, Any]] = {}
    for c in session.scalars(select(ClassifierCorrection).order_by(ClassifierCorrection.id)):
        row = latest.get(c.ticket_id) or {"id": f"correction-{c.id}", "text": c.text}
        row["kind"] = c.to_kind or row.get("kind") or "complaint"
        row["category"] = None if row["kind"] == "none" else c.to_category
        urgency = c.to_urgency or row.get("urgency") or "normal"
        row["urgency"] = None if row["kind"] == "none" else ("normal" if urgency == "review" else urgency)
        latest[c.ticket_id] = row
    return list(latest.values())


def train_text(corrections: list[dict[str, Any]] | None = None) -> str:
    """Return the learned.tsv text trained on every corpus (plus corrections, counted twice)."""
    from handlers import _train

    files = _train.corpus_files(ROOT)
    extra = corrections or []
    exs = _train.examples(_train.read_rows(files)) + _train.examples(extra, weight=2.0)
    note = ",".join(p.relative_to(ROOT).as_posix() for p in files) + (f",corrections:{len(extra)}" if extra else "")
    return _train.write_weights(exs, note=note)


def _train_text(with_corrections: bool) -> tuple[str, int]:
    extra: list[dict[str, Any]] = []
    if with_corrections:
        from app import get_session

        extra = correction_rows(get_session())
    return train_text(extra), len(extra)


@classifier_group.command("train")
@click.option("--with-corrections", is_flag=True, help="Add the staff's corrections from the database.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write (default: config/lexicons/learned.tsv).")
@with_appcontext
def train_command(with_corrections: bool, output: Path | None) -> None:
    """Fit the learned weights on every labelled corpus and write them."""
    text, n = _train_text(with_corrections)
    target = output or LEARNED
    target.write_text(text, encoding="utf-8")
    features = sum(1 for line in text.splitlines() if line and line[0] not in "#@")
    click.echo(f"已写入 {target}：{features} 个特征" + (f"，含 {n} 条老师更正" if with_corrections else ""))


@classifier_group.command("cv")
@click.option("--folds", default=5, show_default=True)
def cv_command(folds: int) -> None:
    """Report out-of-fold scores of rules + learned layer (each fold scored by weights trained without it)."""
    for line in cross_validated_report(folds):
        click.echo(line)


def cross_validated_report(k: int = 5) -> list[str]:
    """Return classify-eval style lines for out-of-fold classification of every corpus."""
    from handlers import _train
    from handlers.classifier import Classifier, get_classifier
    from handlers.evaluation import evaluate, summary_lines

    files = _train.corpus_files(ROOT)
    rows = _train.read_rows(files)
    exs = _train.examples(rows)
    assign = _train.folds(len(exs), k)
    base = get_classifier()
    out = []
    by_fold: dict[int, Any] = {}
    for fold in range(k):
        model = _train.train([ex for ex, f in zip(exs, assign, strict=True) if f != fold])
        by_fold[fold] = _with_model(base, model)
    preds = [by_fold[assign[i]](row["text"]) for i, row in enumerate(rows)]
    out.append(f"{k}-fold out-of-fold scores over {len(rows)} labelled messages ({len(files)} files):")
    out += summary_lines(_evaluate_preds(evaluate, rows, preds))
    # The batches of tests/data/train were never shown to the rules: there both layers are honest.
    sizes = [len(_train.read_rows([p])) for p in files]
    fresh = [i for i, name in enumerate(n for p, size in zip(files, sizes, strict=True) for n in [p.parent.name] * size)
             if name == "train"]
    if fresh:
        sub = [rows[i] for i in fresh]
        out += ["", f"of which tests/data/train/ ({len(sub)} messages the rules were never tuned on), v2:"]
        out += summary_lines(_evaluate_preds(evaluate, sub, [preds[i] for i in fresh]))
        rules = Classifier(learned=None)
        out += ["", "the same messages, rules alone:"]
        out += summary_lines(evaluate(sub, rules.classify))
    return out


def _evaluate_preds(evaluate: Any, rows: list[dict[str, Any]], preds: list[Any]) -> Any:
    it = iter(preds)
    return evaluate(rows, lambda _text: next(it))


def _with_model(base: Any, model: Any):
    """Return a classify function that uses the base classifier's rules with another learned model."""
    from handlers._learned import features
    from handlers._normalize import prepare

    engine, combiner, emoticons = base._engine, base._combiner, base.lexicon.emoticons

    def classify(text: str):
        clean, emoji = prepare(text, emoticons)
        low = clean.lower()
        d, tokens = engine.analyse(low, emoji)
        learned = model.score(features(low, tokens, model.unigrams)) if tokens is not None else None
        return combiner.combine(d, learned)

    return classify


@classifier_group.command("compare")
@click.argument("candidate", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--install", is_flag=True, help="Copy the candidate over the current weights when it passes.")
def compare_command(candidate: Path, install: bool) -> None:
    """Score CANDIDATE weights against the current ones on the frozen batches (tests/data/frozen)."""
    ok, lines = compare(candidate)
    for line in lines:
        click.echo(line)
    if not ok:
        raise click.ClickException("候选权重降低了紧急召回率或安全召回率，拒绝安装。")
    if install:
        shutil.copyfile(candidate, LEARNED)
        click.echo(f"已安装到 {LEARNED}（重启 web 进程后生效）。")


def compare(candidate: Path, current: Path = LEARNED, frozen: Path = FROZEN) -> tuple[bool, list[str]]:
    """Return whether the candidate keeps urgent and safe recall on every frozen batch, and the table."""
    from handlers._learned import parse_learned
    from handlers.classifier import get_classifier
    from handlers.evaluation import evaluate, read_labelled

    base = get_classifier()
    models = {"current": parse_learned(current.read_text(encoding="utf-8")),
              "candidate": parse_learned(candidate.read_text(encoding="utf-8"))}
    lines = [f"{'batch':<22}{'weights':<11}{'kind':>7}{'macroF1':>9}{'urgP':>7}{'urgR':>7}{'safeR':>7}{'flag':>7}"]
    ok = True
    batches = sorted(frozen.glob("*.jsonl"))
    if not batches:
        lines.append(f"（{frozen} 下没有冻结批次，无法比较）")
        return False, lines
    for path in batches:
        rows = read_labelled(path)
        scores = {}
        for name, model in models.items():
            r = evaluate(rows, _with_model(base, model))
            scores[name] = r
            lines.append(f"{path.name:<22}{name:<11}{r.kind_accuracy:>7.3f}{r.category_macro_f1:>9.3f}"
                         f"{r.urgent.precision:>7.3f}{r.urgent.recall:>7.3f}{r.safe_recall:>7.3f}{r.flag_share:>7.3f}")
        cur, cand = scores["current"], scores["candidate"]
        if cand.urgent.recall < cur.urgent.recall or cand.safe_recall < cur.safe_recall:
            ok = False
            lines.append(f"  ✗ {path.name}: urgent/safe recall lower")
    return ok, lines
