"""Offline training of the learned layer (``flask --app app classifier train``).

Needs scikit-learn (requirements-dev.txt); the web worker never imports this module.
Fits three L2 logistic regressions on the feature sets of handlers/_learned.py —
kind (multinomial), category (multinomial, rows with a category) and urgent
(binary) — then keeps the strongest features and writes them as learned.tsv.
Same rows in the same order → byte-identical file (lbfgs is deterministic and
the weights are rounded).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handlers._learned import LearnedModel, escape, parse_learned
from handlers._lexicon import CATEGORY_CODES

__all__ = [
    "RECIPE", "Example", "compare", "corpus_files", "cross_validate", "cross_validated_report", "examples", "read_rows",
    "train", "train_text", "write_weights",
]

ROOT = Path(__file__).resolve().parents[1]
LEARNED = ROOT / "config" / "lexicons" / "learned.tsv"
FROZEN = ROOT / "tests" / "data" / "frozen"

KINDS = ("complaint", "help", "suggestion", "inquiry", "praise", "none")
LABELS = tuple(f"kind:{k}" for k in KINDS) + tuple(f"cat:{c}" for c in CATEGORY_CODES) + ("urgent",)
# The recipe: written into the file, read back by the trainer's test.
RECIPE = {
    "features": "jieba tokens (HMM off, the rules' tokenizer) + character 1-2-grams, presence",
    "model": "logistic regression, L2, multinomial, lbfgs; weights below min_weight dropped",
    "C": "2.0",
    "chars": "1-2",
    "min_df": "2",
    "max_features": "15000",
    "min_weight": "0.1",
    "digits": "3",
}


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message, prepared for training."""

    feats: frozenset[str]
    kind: str
    category: str | None
    urgent: bool
    weight: float = 1.0


def read_rows(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Read labelled JSONL files in the given order (blank lines skipped)."""
    rows: list[dict[str, Any]] = []
    for path in paths:
        with Path(path).open(encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return rows


def corpus_files(root: Path) -> list[Path]:
    """Return the labelled corpora the weights are trained on, in a fixed order.

    tests/data/*.jsonl and tests/data/train/*.jsonl; never tests/data/frozen/ (the
    generalisation batches) and never the shared dev set (an evaluation set).
    """
    data = root / "tests" / "data"
    return sorted(data.glob("*.jsonl")) + sorted((data / "train").glob("*.jsonl"))


def examples(rows: Iterable[Mapping[str, Any]], weight: float = 1.0, recipe: Mapping[str, str] = RECIPE
             ) -> list[Example]:
    """Turn labelled rows into feature sets with the production normaliser and tokenizer."""
    from handlers.classifier import get_classifier

    clf = get_classifier()
    unigrams = "1" in recipe.get("chars", "1-2")
    out = []
    for row in rows:
        kind = row.get("kind")
        if kind not in KINDS or not isinstance(row.get("text"), str):
            continue
        category = row.get("category") if row.get("category") in CATEGORY_CODES else None
        out.append(Example(frozenset(clf.features(row["text"], unigrams)), kind, category, row.get("urgency") == "urgent",
                           float(row.get("weight", weight))))
    return out


def _matrix(exs: Sequence[Example], vocab: dict[str, int]):
    from scipy.sparse import csr_matrix

    indptr, indices = [0], []
    for ex in exs:
        cols = sorted(vocab[f] for f in ex.feats if f in vocab)
        indices += cols
        indptr.append(len(indices))
    return csr_matrix(([1.0] * len(indices), indices, indptr), shape=(len(exs), len(vocab)))


def _fit(x, y: list[str], classes: Sequence[str], weights: list[float], recipe: Mapping[str, str]
         ) -> tuple[list[list[float]], list[float]]:
    """Fit one head; return coefficient rows and intercepts in ``classes`` order.

    A multi-class head is one multinomial L2 logistic regression (lbfgs); the urgent head
    (``classes == ("1",)``) is a binary one. Pruning happens afterwards (write_weights).
    """
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=float(recipe["C"]), max_iter=1000)
    model.fit(x, y, sample_weight=weights)
    coef, icpt = model.coef_.tolist(), model.intercept_.tolist()
    if len(classes) == 1:  # binary: the one row is the positive class
        return coef, icpt
    rows = {str(label): (coef[i], icpt[i]) for i, label in enumerate(model.classes_)}
    width = x.shape[1]
    return ([rows[c][0] if c in rows else [0.0] * width for c in classes],
            [rows[c][1] if c in rows else -20.0 for c in classes])


def train(exs: Sequence[Example], recipe: Mapping[str, str] = RECIPE) -> LearnedModel:
    """Fit the three heads on examples and return the pruned model."""
    return parse_learned(write_weights(exs, recipe))


def write_weights(exs: Sequence[Example], recipe: Mapping[str, str] = RECIPE, note: str = "") -> str:
    """Fit the three heads and return the text of learned.tsv."""
    digits = int(recipe["digits"])
    min_w = float(recipe["min_weight"])
    df = Counter(f for ex in exs for f in ex.feats)
    vocab_list = sorted(f for f, n in df.items() if n >= int(recipe["min_df"]))
    vocab = {f: i for i, f in enumerate(vocab_list)}
    x = _matrix(exs, vocab)
    w = [ex.weight for ex in exs]
    kind_coef, kind_icpt = _fit(x, [ex.kind for ex in exs], KINDS, w, recipe)
    with_cat = [i for i, ex in enumerate(exs) if ex.category]
    cat_coef, cat_icpt = _fit(x[with_cat], [exs[i].category or "" for i in with_cat], CATEGORY_CODES,
                              [w[i] for i in with_cat], recipe)
    urg_coef, urg_icpt = _fit(x, ["1" if ex.urgent else "0" for ex in exs], ("1",), w, recipe)
    rows = kind_coef + cat_coef + urg_coef
    intercepts = kind_icpt + cat_icpt + urg_icpt
    # Keep the features with the largest weight in any head, then drop negligible weights.
    strength = [max(abs(r[j]) for r in rows) for j in range(len(vocab_list))]
    keep = sorted(range(len(vocab_list)), key=lambda j: (-round(strength[j], digits), vocab_list[j]))
    keep = keep[: int(recipe["max_features"])]
    lines = [
        "# Learned keyword weights of the classifier (docs/classifier.md). Written by",
        "# `flask --app app classifier train`; do not edit by hand (a test retrains and compares).",
        "# Each line: feature <TAB> label=weight ... (non-zero weights only). \\s is a space, \\n a line break.",
    ]
    lines += [f"@recipe\t{k}={v}" for k, v in sorted(recipe.items())]
    lines.append(f"@recipe\trows={len(exs)}")
    if note:
        lines.append(f"@recipe\tcorpus={note}")
    lines.append("@labels\t" + "\t".join(LABELS))
    lines.append("@intercept\t" + "\t".join(_num(v, digits) for v in intercepts))
    body = []
    for j in keep:
        pairs = [(LABELS[i], _num(r[j], digits)) for i, r in enumerate(rows) if abs(r[j]) >= min_w]
        pairs = [(lb, v) for lb, v in pairs if float(v) != 0.0]
        if pairs:
            body.append((vocab_list[j], escape(vocab_list[j]) + "\t" + "\t".join(f"{lb}={v}" for lb, v in pairs)))
    body.sort()
    lines += [text for _f, text in body]
    return "\n".join(lines) + "\n"


def _num(v: float, digits: int) -> str:
    s = f"{v:.{digits}f}"
    return "0" + s[s.index(".") :] if s.startswith("-0.") and float(s) == 0 else s


def folds(n: int, k: int, seed: int = 11) -> list[int]:
    """Assign each of n rows to one of k folds, shuffled with a fixed seed."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    out = [0] * n
    for pos, i in enumerate(order):
        out[i] = pos % k
    return out


def cross_validate(exs: Sequence[Example], k: int = 5, recipe: Mapping[str, str] = RECIPE,
                   seed: int = 11) -> list[LearnedModel | None]:
    """Return, for each example, the model trained without its fold (out-of-fold scoring)."""
    assign = folds(len(exs), k, seed)
    models = [train([ex for ex, f in zip(exs, assign, strict=True) if f != fold], recipe) for fold in range(k)]
    return [models[f] for f in assign]


def train_text(corrections: list[dict[str, Any]] | None = None) -> str:
    """Return the learned.tsv text trained on every corpus (plus corrections, counted twice)."""
    files = corpus_files(ROOT)
    extra = corrections or []
    exs = examples(read_rows(files)) + examples(extra, weight=2.0)
    note = ",".join(p.relative_to(ROOT).as_posix() for p in files) + (f",corrections:{len(extra)}" if extra else "")
    return write_weights(exs, note=note)


def cross_validated_report(k: int = 5) -> list[str]:
    """Return classify-eval style lines for out-of-fold classification of every corpus."""
    from handlers.classifier import Classifier, get_classifier
    from handlers.evaluation import evaluate, summary_lines

    files = corpus_files(ROOT)
    rows = read_rows(files)
    exs = examples(rows)
    assign = folds(len(exs), k)
    base = get_classifier()
    out = []
    by_fold: dict[int, Any] = {}
    for fold in range(k):
        model = train([ex for ex, f in zip(exs, assign, strict=True) if f != fold])
        by_fold[fold] = _with_model(base, model)
    preds = [by_fold[assign[i]](row["text"]) for i, row in enumerate(rows)]
    out.append(f"{k}-fold out-of-fold scores over {len(rows)} labelled messages ({len(files)} files):")
    out += summary_lines(_evaluate_preds(evaluate, rows, preds))
    # The batches of tests/data/train were never shown to the rules: there both layers are honest.
    sizes = [len(read_rows([p])) for p in files]
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
