"""A wechatpy ``SessionStorage`` over the database token cache."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from wechatpy.session import SessionStorage

from models import tokens

# Refresh a little before the platform's expiry so a token never dies mid-request.
MARGIN = dt.timedelta(seconds=120)
DEFAULT_TTL = 7200


class DBTokenStorage(SessionStorage):
    """Store access tokens in ``access_tokens`` so web and scheduler share them.

    Only token keys are stored; ``get`` returns None once a token is within
    ``MARGIN`` of expiry, which makes the client fetch a fresh one.
    """

    def __init__(self, session: Session, clock: Callable[[], dt.datetime]) -> None:
        self.db = session
        self.clock = clock

    def get(self, key: str, default: Any = None) -> Any:
        value = tokens.get_token(self.db, key, self.clock(), MARGIN)
        return default if value is None else value

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        now = self.clock()
        tokens.store_token(self.db, key, str(value), now + dt.timedelta(seconds=ttl or DEFAULT_TTL), now)

    def delete(self, key: str) -> None:
        tokens.drop_token(self.db, key)
