"""The application factory and the operator CLI (``flask --app app ...``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask, g, jsonify
from flask.cli import with_appcontext
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session

from config.logs import setup_logging
from config.settings import Settings, load_settings
from models.db import make_engine, make_sessionmaker

EXTENSION = "lianxin"


class Lianxin:
    """Everything the app builds once: settings, engine, sessions, registry."""

    def __init__(self, settings: Settings) -> None:
        from bot.channels import build_sender
        from handlers import build_registry

        self.settings = settings
        self.engine = make_engine(settings.database.url, settings.database.echo)
        self.sessionmaker = make_sessionmaker(self.engine)
        self.registry = build_registry()
        self.sender = build_sender(settings)
        self.clock = lambda: dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        """Return the current time (tests replace ``clock``)."""
        return self.clock()


def create_app(settings: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    Args:
        settings: a ready ``Settings`` object, or a nested dict of overrides
            applied on top of the layered configuration (tests).

    Returns:
        The configured application; no database connection is opened yet.
    """
    if not isinstance(settings, Settings):
        settings = load_settings(overrides=settings)
    setup_logging(settings.app.log_level)
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(SECRET_KEY=settings.app.secret_key, MAX_CONTENT_LENGTH=settings.app.max_body_bytes)
    app.extensions[EXTENSION] = Lianxin(settings)
    app.teardown_appcontext(_close_session)
    from bot.web_security import install as install_security_headers

    install_security_headers(app)
    register_blueprints(app)
    register_cli(app)
    return app


def lianxin(app: Flask | None = None) -> Lianxin:
    """Return the app's Lianxin extension (current app by default)."""
    from flask import current_app

    return (app or current_app).extensions[EXTENSION]


def get_session() -> Session:
    """Return the request's session, opened lazily and closed at teardown."""
    if "db_session" not in g:
        g.db_session = lianxin().sessionmaker()
    return g.db_session


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()


def register_blueprints(app: Flask) -> None:
    """Mount the web routes."""
    from bot.simulator import bp as simulator_bp
    from bot.web_pages import bp as pages_bp

    app.add_url_rule("/healthz", "healthz", _healthz)
    from bot.webhook import register as register_webhooks

    register_webhooks(app)
    app.register_blueprint(pages_bp)
    if lianxin(app).settings.simulator.enabled:
        app.register_blueprint(simulator_bp)


def _healthz():
    try:
        get_session().execute(text("SELECT 1"))
    except Exception as exc:  # report, don't crash: this is what monitors call
        return jsonify(status="error", database=type(exc).__name__), 503
    return jsonify(status="ok", database="ok")


def register_cli(app: Flask) -> None:
    """Register the operator commands."""
    from bot.cli import chat_command
    from bot.cli_inbox import inbox_group, inbox_worker_command
    from bot.cli_outbox import outbox_group
    from bot.cli_platforms import platforms_group, roster_sync_command
    from bot.cli_stream import dingtalk_stream_command
    from handlers.classify_cli import classify_command, classify_eval_command
    from models.classifier_cli import classifier_group
    from models.cli import init_db_command, roster_group, schools_group, seed_demo_command
    from models.export_cli import export_command
    from models.groups_cli import groups_group
    from models.ticket_cli import tickets_group
    from scheduler.cli import digest_command, run_job_command, scheduler_command

    for command in (
        init_db_command, seed_demo_command, roster_group, schools_group, chat_command, show_settings_command,
        classify_command, classify_eval_command, tickets_group, groups_group, outbox_group,
        export_command, scheduler_command, run_job_command, digest_command, inbox_worker_command, inbox_group,
        dingtalk_stream_command, platforms_group, classifier_group,
    ):
        app.cli.add_command(command)
    roster_group.add_command(roster_sync_command)  # roster sync wecom|dingtalk (家校通讯录)


@click.command("settings")
@with_appcontext
def show_settings_command() -> None:
    """Print the effective settings (secrets masked)."""
    import dataclasses

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
