"""The seam between the Flask app and everything it hosts.

``app.create_app`` builds one :class:`Lianxin` and stores it in ``app.extensions``;
routes, CLI commands and the inbox worker reach it through :func:`lianxin`, and
a request's database session through :func:`get_session`. Nothing but ``app.py``
(and the process entry points) imports ``app``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from config.settings import Settings
from models.db import make_engine, make_sessionmaker

if TYPE_CHECKING:
    from bot.outbound.sender import Sender

EXTENSION = "lianxin"


class Lianxin:
    """Everything the app builds once: settings, engine, sessions, handler registry, sender.

    Args:
        settings: the loaded settings.
        registry: the handler registry (``handlers.build_registry()``), passed in so that
            the bot layer does not build what the layer above it defines.
    """

    def __init__(self, settings: Settings, registry: Any) -> None:
        from bot.outbound.channels import build_sender

        self.settings = settings
        self.engine = make_engine(settings.database.url, settings.database.echo)
        self.sessionmaker = make_sessionmaker(self.engine)
        self.registry = registry
        self.sender: Sender = build_sender(settings)
        self.clock = lambda: dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        """Return the current time (tests replace ``clock``)."""
        return self.clock()


def lianxin(app: Flask | None = None) -> Lianxin:
    """Return the app's Lianxin extension (current app by default)."""
    return (app or current_app).extensions[EXTENSION]


def get_session() -> Session:
    """Return the request's session, opened lazily and closed at teardown."""
    if "db_session" not in g:
        g.db_session = lianxin().sessionmaker()
    return g.db_session


def close_session(exc: BaseException | None) -> None:
    """Teardown: roll back on error and close the request's session."""
    session = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()
