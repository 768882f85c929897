"""Classifier v2: the learned layer, its weights file, the combination and the output contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers._learned import escape, parse_learned
from handlers.classifier import Classifier, classify

ROOT = Path(__file__).resolve().parents[1]
LEARNED = ROOT / "config" / "lexicons" / "learned.tsv"


def test_the_committed_weights_are_what_training_produces() -> None:
    """Like the migrations test: retrain on the committed corpora and compare bytes."""
    pytest.importorskip("sklearn", reason="scikit-learn (requirements-dev.txt) trains the weights")
    from handlers._train import train_text

    fresh = train_text()
    assert fresh == LEARNED.read_text(encoding="utf-8"), (
        "config/lexicons/learned.tsv is stale: run `flask --app app classifier train` and commit it"
    )


def test_the_weights_file_is_compact_and_readable() -> None:
    text = LEARNED.read_text(encoding="utf-8")
    model = parse_learned(text)
    assert 1000 <= len(model.weights) <= 15000
    assert "@recipe\tfeatures=" in text and "@labels\t" in text and "@intercept\t" in text
    # a line is a feature and its non-zero weights by label name
    line = next(ln for ln in text.splitlines() if ln.startswith("老师\t"))
    assert "cat:teacher_conduct=" in line


def test_the_web_worker_never_imports_scikit_learn_or_numpy() -> None:
    code = ("import sys\nfrom handlers.classifier import classify\nclassify('孩子在学校被同学打了，脸都肿了')\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'numpy', 'scipy'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@settings(max_examples=200)
@given(st.text(min_size=1, max_size=6))
def test_any_feature_survives_the_file_format(feature: str) -> None:
    labels = "kind:complaint\tkind:help\tkind:suggestion\tkind:inquiry\tkind:praise\tkind:none\turgent"
    text = f"@labels\t{labels}\n@intercept\t0\t0\t0\t0\t0\t0\t-1\n{escape(feature)}\turgent=0.5\n"
    assert "\n" not in escape(feature) and "\t" not in escape(feature)
    model = parse_learned(text)
    assert model.weights[feature][-1] == 0.5


# --- bad input: a label, never an exception ----------------------------------------------------

@pytest.mark.parametrize("text", [
    "", " ", "\x00", "孩子\x00被打了", "\ud800", "老师\udfff你好", "😀😀😀", "🙏", "[捂脸][捂脸]", "\n\n\t",
    "救命" * 50_000, "食堂" + "。" * 100_000, "a" * 100_000, "@所有人",
])
def test_bad_input_gets_a_label(text: str) -> None:
    c = classify(text)
    assert c.kind in ("complaint", "help", "suggestion", "inquiry", "praise", "none")
    assert 0.0 <= c.p_urgent <= 1.0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_a_label(text: str) -> None:
    c = classify(text)
    assert (c.kind == "none") == (c.category is None) == (c.urgency is None)
    assert not (c.review and c.urgency == "urgent")


def test_without_learned_weights_the_rules_decide_alone() -> None:
    rules = Classifier(learned=None)
    c = rules.classify("孩子在学校被同学打了，脸都肿了")
    assert (c.urgency, c.p_urgent, c.review) == ("urgent", 0.0, False)


# --- the output contract -----------------------------------------------------------------------

def test_contract_has_review_and_p_urgent() -> None:
    record = classify("孩子刚才在操场上从单杠摔下来，头磕破了在流血").as_contract("x")
    assert set(record) == {"id", "kind", "category", "urgency", "review", "p_urgent"}
    assert record["urgency"] == "urgent" and record["review"] is False and record["p_urgent"] > 0.5
    assert classify("收到，谢谢老师").as_contract(1)["review"] is False


# --- phenomena the parents saw (wordings in no corpus) -----------------------------------------

@pytest.mark.parametrize(("text", "category"), [
    ("李老师，孩子说这周食堂的汤都特别咸，能不能跟厨房说说", "food"),
    ("张老师您好，校门口的路灯坏了好几天，晚上放学黑乎乎的", "safety"),
    ("刘老师，这学期的教辅费是不是收多了，别的班比我们少五十", "fees"),
    ("王老师，最近数学作业每天都要写两个小时，孩子有点吃不消", "homework"),
])
def test_a_teacher_addressed_is_not_the_subject(text: str, category: str) -> None:
    c = classify(text)
    assert c.actionable and c.category == category


@pytest.mark.parametrize(("text", "category"), [
    ("幼儿园早上最早几点可以送孩子入园", "schedule"),
    ("大班下午几点离园呀", "schedule"),
    ("孩子午睡尿湿了老师也不给换裤子", "teacher_conduct"),
    ("宝宝说老师嫌她吃得慢，把饭直接倒掉了，中午饿着肚子", "teacher_conduct"),
])
def test_kindergarten_words(text: str, category: str) -> None:
    c = classify(text)
    assert c.actionable and c.category == category


@pytest.mark.xfail(strict=True, reason="not fixed: the rules' injury concept still fires on scrapes asked about, "
                                       "and the learned layer does not always overrule it (docs/classifier.md)")
def test_a_scrape_asked_about_is_not_a_danger_now() -> None:
    for text in ("孩子说今天跳绳时膝盖蹭破了一点，想了解下情况", "女儿说下午做操的时候手肘擦破皮了，老师知道这事吗",
                 "儿子说体育课上脚崴了一下，现在走路没事，想问问当时怎么处理的"):
        c = classify(text)
        assert c.urgency != "urgent" and not c.review, text


def test_a_long_report_is_scored_by_what_it_is_mostly_about() -> None:
    text = ("跟老师说个事，孩子最近放学回来总是闷闷不乐，我问了好几次才说，班上有两个同学一直叫他矮冬瓜，"
            "上周把他的作业本撕了，前天又把他的水杯扔进了厕所，体育课分组谁都不要他，今天中午还把他的鸡腿抢走了。"
            "他说不敢跟老师讲，怕他们放学堵他。食堂的菜他倒是说还行，就是这几个同学的事，"
            "我实在不放心，请老师尽快处理一下，别让孩子再受委屈了。") * 2
    c = classify(text)
    assert c.category == "safety" and (c.urgency == "urgent" or c.review)


# --- the combination (config/lexicons/combine.yaml) --------------------------------------------

def _scores(p_urgent: float, kind: str = "complaint", category: str = "safety"):
    from handlers._learned import LearnedScores
    from handlers.classifier import CATEGORIES, KINDS

    return LearnedScores([9.0 if k == kind else 1.0 for k in KINDS], [9.0 if c == category else 1.0 for c in CATEGORIES],
                         p_urgent, list(KINDS), list(CATEGORIES))


def _rules(kind: str, urgent: bool, danger: float):
    from handlers._decide import Decision

    return Decision(kind, None if kind == "none" else "safety", urgent, 0.9, 0.9, (), danger)


@pytest.mark.parametrize(("rules", "p_urgent", "expected"), [
    (("complaint", True, 3.0), 0.5, ("urgent", False)),  # both see danger
    (("complaint", True, 3.0), 0.005, ("normal", True)),  # the model is sure it is not: a person looks
    (("help", True, 9.8), 0.005, ("urgent", False)),  # a strong danger concept (self-harm plan) stands
    (("complaint", False, 0.0), 0.95, ("urgent", False)),  # the model alone, very sure
    (("complaint", False, 0.0), 0.3, ("normal", True)),  # the model unsure: review
    (("complaint", False, 0.0), 0.1, ("normal", False)),
    (("none", False, 0.0), 0.3, (None, False)),  # chatter needs more evidence to be flagged
])
def test_the_combination_of_rules_and_model(rules, p_urgent: float, expected) -> None:
    from handlers._combine import Combiner
    from handlers._lexicon import load_lexicon

    kind = rules[0]
    c = Combiner(load_lexicon().combine).combine(_rules(*rules), _scores(p_urgent, kind))
    assert (c.urgency, c.review) == expected
    if c.urgency == "urgent" or c.review:
        assert c.kind in ("complaint", "help", "inquiry")


# --- classifier compare: never install weights that lose urgent or safe recall --------------------

def test_compare_refuses_a_candidate_that_lowers_urgent_recall(tmp_path) -> None:
    from app import create_app

    db_file = tmp_path / "never-created.sqlite3"
    cli = create_app({"database": {"url": f"sqlite:///{db_file}"}}).test_cli_runner()
    same = tmp_path / "same.tsv"
    same.write_text(LEARNED.read_text(encoding="utf-8"), encoding="utf-8")
    ok = cli.invoke(args=["classifier", "compare", str(same)])
    assert ok.exit_code == 0, ok.output
    assert "blind9.jsonl" in ok.output and "candidate" in ok.output
    # a candidate that never believes in danger: the rules' urgent ratings become mere reviews
    lines = LEARNED.read_text(encoding="utf-8").split("\n")
    at = next(i for i, ln in enumerate(lines) if ln.startswith("@intercept\t"))
    values = lines[at].split("\t")
    values[-1] = "-60.000"
    lines[at] = "\t".join(values)
    blind = tmp_path / "blind.tsv"
    blind.write_text("\n".join(lines), encoding="utf-8")
    refused = cli.invoke(args=["classifier", "compare", str(blind), "--install"])
    assert refused.exit_code != 0 and "拒绝安装" in refused.output
    assert LEARNED.read_text(encoding="utf-8") != blind.read_text(encoding="utf-8")
    assert not db_file.exists()
