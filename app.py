"""The application factory and the operator CLI (``flask --app app ...``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify
from sqlalchemy import text

from bot import console, console_school  # noqa: F401
from bot.cli import register as register_cli
from bot.console_auth import bp as console_bp  # console and console_school add their routes to it
from bot.extension import EXTENSION, Lianxin, close_session, get_session, lianxin
from bot.platforms.dingtalk import webhook as dingtalk
from bot.platforms.simulator.webhook import bp as simulator_bp
from bot.platforms.wechat import webhook as wechat
from bot.platforms.wecom_aibot import webhook as wecom_aibot
from bot.platforms.wecom_app import webhook as wecom_app
from bot.platforms.wecom_kf import webhook as wecom_kf
from bot.web_pages import bp as pages_bp
from bot.web_security import install as install_security_headers
from config.logs import setup_logging
from config.settings import Settings, load_settings
from handlers import build_registry

__all__ = ["create_app", "get_session", "lianxin"]


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
    app.extensions[EXTENSION] = Lianxin(settings, build_registry())
    app.teardown_appcontext(close_session)
    install_security_headers(app)
    register_blueprints(app)
    register_cli(app)
    return app


def register_blueprints(app: Flask) -> None:
    """Mount the web routes."""
    app.add_url_rule("/healthz", "healthz", _healthz)
    for platform in (dingtalk, wecom_app, wecom_aibot, wecom_kf, wechat):
        app.register_blueprint(platform.bp)  # each platform's webhook
    app.register_blueprint(pages_bp)
    app.register_blueprint(console_bp)
    if lianxin(app).settings.simulator.enabled:
        app.register_blueprint(simulator_bp)


def _healthz():
    try:
        get_session().execute(text("SELECT 1"))
    except Exception as exc:  # report, don't crash: this is what monitors call
        return jsonify(status="error", database=type(exc).__name__), 503
    return jsonify(status="ok", database="ok")
