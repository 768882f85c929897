"""``flask settings``: the effective settings with secrets masked."""

from __future__ import annotations

import dataclasses

import click
from flask.cli import with_appcontext
from sqlalchemy import make_url

from bot.extension import lianxin


@click.command("settings")
@with_appcontext
def show_settings_command() -> None:
    """Print the effective settings (secrets masked)."""


    settings = lianxin().settings
    for field in dataclasses.fields(settings):
        section = getattr(settings, field.name)
        if not dataclasses.is_dataclass(section):
            continue  # free-form sections and per-school credentials are not printed
        for key, value in dataclasses.asdict(section).items():
            hidden = any(word in key for word in ("secret", "password", "token", "aes_key"))
            if key == "url" and isinstance(value, str) and "@" in value:
                value = make_url(value).render_as_string(hide_password=True)  # user:***@host
            click.echo(f"{field.name}.{key} = {'***' if hidden else value}")
