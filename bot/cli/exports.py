"""The ``export`` operator command: write a ledger as a formatted .xlsx file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask.cli import with_appcontext

from bot.extension import lianxin


@click.command("export")
@click.argument("kind", type=click.Choice(["ledger", "visits", "care", "survey"]))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--school", required=True, help="学校代码或名称")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="起始日期（含）")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="结束日期（含）")
@click.option("--survey", "survey_id", type=int, help="测评编号（默认最近一次）")
@with_appcontext
def export_command(kind: str, file: Path, school: str, start: dt.datetime | None, end: dt.datetime | None,
                   survey_id: int | None) -> None:
    """Write 问题整改台账 (ledger), 入户访问登记表 (visits), 特殊关爱清单 (care) or 满意度测评结果 (survey)."""
    from models import exports
    from models.directory import find_school

    ext = lianxin()
    tz = ZoneInfo(ext.settings.app.timezone)
    since = start.replace(tzinfo=tz).astimezone(dt.UTC) if start else None
    until = (end.replace(tzinfo=tz) + dt.timedelta(days=1)).astimezone(dt.UTC) if end else None
    with ext.sessionmaker() as session:
        found = find_school(session, school)
        if found is None:
            raise click.ClickException(f"没有找到学校：{school}")
        try:
            count = exports.write_export(session, kind, found, file, tz=ext.settings.app.timezone, start=since,
                                         end=until, survey_id=survey_id, now=ext.now(),
                                         min_responses=ext.settings.surveys.min_breakdown)
        except exports.ExportError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"已导出{exports.KINDS[kind]}：{count} 行 → {file}")
