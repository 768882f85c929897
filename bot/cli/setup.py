"""Operator commands for the data: init-db, seed-demo, roster."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from bot.extension import lianxin


def _ext():
    return lianxin()


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from models.migrate import upgrade

    ext = _ext()
    upgrade(ext.engine)
    click.echo(f"数据库已就绪：{ext.engine.url.render_as_string(hide_password=True)}")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the demo district (idempotent: running it twice changes nothing)."""
    from models.demo import seed_demo

    ext = _ext()
    with ext.sessionmaker.begin() as session:
        summary = seed_demo(session, ext.now())
    click.echo(summary)


@click.group("roster")
def roster_group() -> None:
    """Roster (花名册) template and import."""


@roster_group.command("template")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def roster_template_command(path: Path) -> None:
    """Write an Excel roster template with Chinese headers."""
    from models.roster import write_template

    write_template(path)
    click.echo(f"已生成花名册模板：{path}")


@roster_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def roster_import_command(path: Path) -> None:
    """Import a roster (.xlsx or .csv, UTF-8 or GBK); bad rows refuse the whole file."""
    import dataclasses

    from models.roster import RosterError, RosterLimits, import_roster

    ext = _ext()
    limits = RosterLimits(**dataclasses.asdict(ext.settings.roster))
    try:
        with ext.sessionmaker.begin() as session:
            report = import_roster(session, path, now=ext.now(), limits=limits)
    except RosterError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from exc
    click.echo(report.summary())


@click.group("schools")
def schools_group() -> None:
    """Schools and their codes (the code names a school in URLs and --school options)."""


@schools_group.command("list")
@with_appcontext
def schools_list_command() -> None:
    """List every school with its code, kind and size."""
    from models.schools import school_overview

    with _ext().sessionmaker() as session:
        for row in school_overview(session):
            click.echo(f"{row.code}\t{row.name}\t{row.kind_name}\t{row.classes} 个班\t{row.students} 名学生")


@schools_group.command("set-code")
@click.argument("school")
@click.argument("code")
@with_appcontext
def schools_set_code_command(school: str, code: str) -> None:
    """Give a school a readable code, e.g. ``schools set-code 实验小学 shiyan-primary``."""
    from models.schools import SchoolCodeError, set_code

    ext = _ext()
    try:
        with ext.sessionmaker.begin() as session:
            set_code(session, school, code)
    except SchoolCodeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"学校编码已设为 {code}；平台回调地址中的编码也要一并修改。")
