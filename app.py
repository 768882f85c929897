"""The application factory and the operator CLI (``flask --app app ...``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify
from sqlalchemy import text

from bot.cli import register as register_cli
from bot.extension import EXTENSION, Lianxin, close_session, get_session, lianxin
from bot.routes import register as register_routes
from bot.web.security import install as install_security_headers
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
    register_routes(app)  # each platform's webhook, the pages, the console, the simulator (bot/routes.py)


def _healthz():
    try:
        get_session().execute(text("SELECT 1"))
    except Exception as exc:  # report, don't crash: this is what monitors call
        return jsonify(status="error", database=type(exc).__name__), 503
    return jsonify(status="ok", database="ok")
