"""Operator commands for the platforms: ``roster sync`` (家校通讯录) and ``platforms check`` (the setup doctor)."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from bot.extension import lianxin

platforms_group = AppGroup("platforms", help="Check the platform set-up of each school.")


@click.command("sync")
@click.argument("source", type=click.Choice(["wecom", "dingtalk"]))
@click.option("--school", "school", required=True, help="The school (code or name).")
@with_appcontext
def roster_sync_command(source: str, school: str) -> None:
    """Read the school's 家校通讯录 and apply it like a roster import (never deletes)."""
    from bot.platforms.wecom_app.contacts import DINGTALK_UNAVAILABLE, ContactsError, sync_wecom
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


@platforms_group.command("check")
@click.option("--school", "school", default=None, help="Only this school (code or name); default: every configured school.")
@with_appcontext
def platforms_check_command(school: str | None) -> None:
    """Fetch a token on each configured platform and print what an administrator must set up (exit 1 if anything)."""
    from bot.platforms.doctor import check, render
    from models.directory import find_school

    ext = lianxin()
    codes = list(ext.settings.platforms)
    if school:
        with ext.sessionmaker() as db:
            found = find_school(db, school)
        codes = [c for c in codes if c in (school, found.code if found is not None else None)]
        if not codes:
            raise click.ClickException(f"学校「{school}」没有配置任何平台（instance/settings.yaml 的 platforms.<学校代码>）。")
    if not codes:
        raise click.ClickException("没有配置任何平台：见 docs/platforms.md「管理员设置」。")
    problems = 0
    for code in codes:
        with ext.sessionmaker() as db:
            found = find_school(db, code)
        if found is None:
            click.echo(f"学校 {code}：已配置平台，但数据库中没有这个学校代码（先导入花名册，再用 schools set-code 设置代码）。\n")
            problems += 1
            continue
        findings = check(ext, code)
        problems += sum(not f.ok for f in findings)
        click.echo(render(code, found.name, findings) + "\n")
    if problems:
        raise SystemExit(1)
