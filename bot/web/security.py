"""Security headers on every response, and an access log that never records a bearer token.

Signed-link pages (/n/ notice, /s/ survey, /x/ download) are opened from chat
on phones: they must not be framed, leak their URL as a referrer, or stay in a
shared cache. HTML gets a Content-Security-Policy that allows only our own
resources and the one inline script a page marks with the request's nonce.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Flask, Response, g, request

# URL paths whose last segment is a credential (a signed token).
TOKEN_PATH = re.compile(r"(/(?:n|s|x|m|a|console/login)/)[^/?#\s\"]+")
PERSONAL_PREFIXES = ("/n/", "/s/", "/x/", "/m/", "/a/", "/simulator", "/console")


def redact(text: str) -> str:
    """Replace the token in every signed-link path of ``text`` by ``…``."""
    return TOKEN_PATH.sub(r"\1…", text)


def csp_nonce() -> str:
    """Return this request's script nonce (templates: ``<script nonce="{{ csp_nonce() }}">``)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _policy() -> str:
    script = f"'nonce-{g.csp_nonce}'" if "csp_nonce" in g else "'none'"
    return ("default-src 'none'; "
            f"script-src {script}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self'; connect-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", _policy())
    if request.path.startswith(PERSONAL_PREFIXES):
        headers["Cache-Control"] = "no-store"  # personal data: never kept by a shared or back/forward cache
    return response


def install(app: Flask) -> None:
    """Add the headers to every response and the nonce helper to templates."""
    app.after_request(_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce


try:  # gunicorn is the production server; the app itself does not need it
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover - gunicorn is in requirements.txt
    _GunicornLogger = object  # type: ignore[assignment,misc]


class RedactingAccessLogger(_GunicornLogger):  # type: ignore[misc,valid-type]
    """gunicorn's logger with signed-link tokens removed from every access-log field.

    Use with ``gunicorn -c config/gunicorn.conf.py`` (which sets ``logger_class``).
    """

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """Return gunicorn's log atoms with the request line, path and referrer redacted."""
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
