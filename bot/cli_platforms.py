"""Operator commands for the platforms: ``roster sync`` (家校通讯录) and ``platforms check`` (the setup doctor)."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

platforms_group = AppGroup("platforms", help="Check the platform set-up of each school.")


@click.command("sync")
@click.argument("source", type=click.Choice(["wecom", "dingtalk"]))
@click.option("--school", "school", required=True, help="The school (code or name).")
@with_appcontext
def roster_sync_command(source: str, school: str) -> None:
    """Read the school's 家校通讯录 and apply it like a roster import (never deletes)."""
    from app import lianxin
    from bot.school_contacts import DINGTALK_UNAVAILABLE, ContactsError, sync_wecom
    from models.directory import find_school
    from models.roster import RosterError

    ext = lianxin()
    with ext.sessionmaker() as db:
        found = find_school(db, school)
        code = found.code if found is not None else school
    if source == "dingtalk":
        raise click.ClickException(DINGTALK_UNAVAILABLE)
    try:
        report = sync_wecom(ext, code)
    except (ContactsError, RosterError) as exc:
        raise click.ClickException(f"家校通讯录同步失败，未做任何修改。\n{exc}") from exc
    click.echo(report.summary())
