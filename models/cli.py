"""Operator commands for the data: init-db, seed-demo, roster."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


def _ext():
    from app import lianxin

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
    from models.roster import RosterError, import_roster

    ext = _ext()
    try:
        with ext.sessionmaker.begin() as session:
            report = import_roster(session, path, now=ext.now())
    except RosterError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from exc
    click.echo(report.summary())
