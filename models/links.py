"""Signed, expiring links for pages that have no login (confirm, survey, download).

A token is the payload plus its expiry, signed with the app's secret key and
a salt per purpose, so a survey token never opens a download and a forged or
edited token is refused. Expiry is checked against the ``now`` the caller
passes (tests use the fixed clock), not the signer's own clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

PURPOSES = frozenset({"notice", "survey", "export", "message", "console"})


class LinkError(ValueError):
    """A token is forged, for another purpose, or expired (``expired`` tells which)."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def _serializer(secret: str, purpose: str) -> URLSafeSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    return URLSafeSerializer(secret, salt=f"lianxin-{purpose}")


def make_token(secret: str, purpose: str, payload: dict[str, Any], expires_at: dt.datetime) -> str:
    """Sign ``payload`` for ``purpose``, valid until ``expires_at``."""
    return _serializer(secret, purpose).dumps({**payload, "exp": int(expires_at.timestamp())})


def read_token(secret: str, purpose: str, token: str, now: dt.datetime) -> dict[str, Any]:
    """Return the payload of a valid token.

    Raises:
        LinkError: when the signature is wrong or the token expired.
    """
    try:
        data = _serializer(secret, purpose).loads(token)
    except BadSignature as exc:
        raise LinkError("invalid link") from exc
    if not isinstance(data, dict) or not isinstance(data.get("exp"), int):
        raise LinkError("invalid link")
    if now.timestamp() > data["exp"]:
        raise LinkError("expired link", expired=True)
    return {k: v for k, v in data.items() if k != "exp"}


def absolute_url(base_url: str, prefix: str, token: str) -> str:
    """Return the public URL of a page: ``<base_url>/<prefix>/<token>``."""
    return f"{base_url.rstrip('/')}/{prefix}/{token}"
