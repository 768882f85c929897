"""Every web route the app mounts: the platform webhooks, the signed-link pages, the console, the simulator.

``app.py`` calls :func:`register`; it imports no platform package itself.
"""

from __future__ import annotations

from flask import Flask

from bot.extension import lianxin
from bot.platforms.dingtalk import webhook as dingtalk
from bot.platforms.simulator.webhook import bp as simulator_bp
from bot.platforms.wechat import webhook as wechat
from bot.platforms.wecom_aibot import webhook as wecom_aibot
from bot.platforms.wecom_app import webhook as wecom_app
from bot.platforms.wecom_kf import webhook as wecom_kf
from bot.web import console, console_school  # noqa: F401 - they add their routes to the console blueprint
from bot.web.console_auth import bp as console_bp
from bot.web.pages import bp as pages_bp

WEBHOOKS = (dingtalk, wecom_app, wecom_aibot, wecom_kf, wechat)


def register(app: Flask) -> None:
    """Mount each platform's webhook, the pages and the console; the simulator only when enabled."""
    for platform in WEBHOOKS:
        app.register_blueprint(platform.bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(console_bp)
    if lianxin(app).settings.simulator.enabled:
        app.register_blueprint(simulator_bp)
