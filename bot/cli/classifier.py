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

__all__ = ["classifier_group"]


@click.group("classifier")
def classifier_group() -> None:
    """Train and compare the classifier's learned weights."""


@classifier_group.command("train")
@click.option("--with-corrections", is_flag=True, help="Add the staff's corrections from the database.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write (default: config/lexicons/learned.tsv).")
@with_appcontext
def train_command(with_corrections: bool, output: Path | None) -> None:
    """Fit the learned weights on every labelled corpus and write them."""
    from handlers._train import LEARNED, train_text

    extra: list[dict[str, Any]] = []
    if with_corrections:
        from bot.extension import get_session
        from models.review import correction_rows

        extra = correction_rows(get_session())
    text = train_text(extra)
    target = output or LEARNED
    target.write_text(text, encoding="utf-8")
    features = sum(1 for line in text.splitlines() if line and line[0] not in "#@")
    click.echo(f"已写入 {target}：{features} 个特征" + (f"，含 {len(extra)} 条老师更正" if with_corrections else ""))


@classifier_group.command("cv")
@click.option("--folds", default=5, show_default=True)
def cv_command(folds: int) -> None:
    """Report out-of-fold scores of rules + learned layer (each fold scored by weights trained without it)."""
    from handlers._train import cross_validated_report

    for line in cross_validated_report(folds):
        click.echo(line)


@classifier_group.command("compare")
@click.argument("candidate", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--install", is_flag=True, help="Copy the candidate over the current weights when it passes.")
def compare_command(candidate: Path, install: bool) -> None:
    """Score CANDIDATE weights against the current ones on the frozen batches (tests/data/frozen)."""
    from handlers._train import LEARNED, compare

    ok, lines = compare(candidate)
    for line in lines:
        click.echo(line)
    if not ok:
        raise click.ClickException("候选权重降低了紧急召回率或安全召回率，拒绝安装。")
    if install:
        shutil.copyfile(candidate, LEARNED)
        click.echo(f"已安装到 {LEARNED}（重启 gunicorn 主进程或向它发送 USR2 后生效；HUP 不会重新加载预载的分类器）。")
