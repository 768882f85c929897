"""Operator commands: ``scheduler`` (the clock process), ``run-job``, ``digest``."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import click
from flask.cli import with_appcontext

from bot.extension import lianxin
from scheduler.jobs import JOB_NAMES

log = logging.getLogger(__name__)


def _ext():
    return lianxin()


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler (exactly one process per deployment is expected; a second one idles safely)."""
    click.echo("连心定时任务已启动（Ctrl-C 退出）")
    from scheduler.build import run_scheduler

    run_scheduler(_ext())


@click.command("run-job")
@click.argument("name", type=click.Choice(JOB_NAMES))
@with_appcontext
def run_job_command(name: str) -> None:
    """Run one job now, with the same exactly-once rules as the scheduler."""
    from scheduler import jobs

    report = getattr(jobs, name)(_ext())
    click.echo(f"{name}: ran={report.ran} results={report.results} skipped={report.skipped}")
    for key, error in report.errors.items():
        click.echo(f"失败 {key}: {error}", err=True)


@click.command("digest")
@click.option("--school", "school_code", required=True, help="school code")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="YYYY-MM-DD (today)")
@click.option("--role", type=click.Choice(["principal", "director"]), default="principal")
@click.option("--markdown", is_flag=True, help="print the markdown version")
@with_appcontext
def digest_command(school_code: str, day: dt.datetime | None, role: str, markdown: bool) -> None:
    """Print a school's daily digest as the directors and principal receive it."""
    from models.digest import build_digest
    from models.digest_render import render_markdown, render_text
    from models.directory import find_school

    ext = _ext()
    tz = ZoneInfo(ext.settings.scheduler.timezone)
    with ext.sessionmaker() as session:
        school = find_school(session, school_code)
        if school is None:
            raise click.ClickException(f"没有学校代码为 {school_code} 的学校")
        date = day.date() if day else ext.now().astimezone(tz).date()
        digest = build_digest(session, ext.settings, school, date, now=ext.now())
        render = render_markdown if markdown else render_text
        click.echo(render(digest, principal=role == "principal"))
