"""Operator commands for class groups: ``flask --app app groups list|link``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from bot.extension import lianxin


@click.group("groups")
def groups_group() -> None:
    """Class groups (班级群) on the platforms."""


@groups_group.command("list")
@click.option("--school", "school_code", default=None, help="school code (default: every school)")
@with_appcontext
def list_command(school_code: str | None) -> None:
    """List registered groups and their classes."""
    from models.directory import find_school
    from models.groups import list_groups

    ext = lianxin()
    with ext.sessionmaker() as session:
        school_id = None
        if school_code:
            school = find_school(session, school_code)
            if school is None:
                raise click.ClickException(f"没有学校代码 {school_code}")
            school_id = school.id
        rows = list_groups(session, school_id)
        for g in rows:
            cls = g.school_class.name if g.school_class else "（未绑定班级）"
            click.echo(f"{g.platform}\t{g.conversation_id}\t{cls}\t{g.title or ''}")
        click.echo(f"共 {len(rows)} 个群")


@groups_group.command("link")
@click.argument("platform")
@click.argument("conversation_id")
@click.argument("class_name")
@click.option("--school", "school_code", required=True, help="school code")
@click.option("--title", default=None, help="group title shown to staff")
@with_appcontext
def link_command(platform: str, conversation_id: str, class_name: str, school_code: str, title: str | None) -> None:
    """Register PLATFORM's CONVERSATION_ID as the group of CLASS_NAME."""
    from models.directory import find_school
    from models.groups import link_group

    ext = lianxin()
    with ext.sessionmaker.begin() as session:
        school = find_school(session, school_code)
        if school is None:
            raise click.ClickException(f"没有学校代码 {school_code}")
        outcome = link_group(session, platform=platform, school_id=school.id, conversation_id=conversation_id,
                             class_name=class_name, now=ext.now(), title=title)
        if outcome.status == "no_class":
            raise click.ClickException(f"{school.name}没有班级「{class_name}」")
        if outcome.status == "taken":
            raise click.ClickException("该群属于另一所学校")
        click.echo(f"已绑定：{platform} {conversation_id} → {outcome.school_class.name}")
