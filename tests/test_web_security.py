"""Security headers on pages, and an access log without bearer tokens."""

from __future__ import annotations

import datetime as dt
import re
import types

import pytest

from bot.web.security import RedactingAccessLogger, redact
from tests.kit import SimBot


@pytest.fixture
def settings_overrides(settings_overrides):
    return {**settings_overrides, "simulator": {"enabled": True}}


def _export_link(ext, db_session) -> str:
    bot = SimBot(ext, db_session)
    bot.bind("钱主任")
    return re.search(r"http://[^/]+(/x/\S+)", "\n".join(bot.say("钱主任", "导出关爱"))).group(1)


def test_signed_link_pages_are_never_framed_cached_or_leaked_as_referrer(ext, db_session, client, school):
    page = client.get(_export_link(ext, db_session))
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "script-src 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    bad = client.get("/n/not-a-token")
    assert bad.status_code == 403 and bad.headers["Cache-Control"] == "no-store"


def test_the_simulator_script_runs_under_a_nonce_unique_per_request(client, school):
    first, second = client.get("/simulator"), client.get("/simulator")
    nonces = []
    for page in (first, second):
        nonce = re.search(r"script-src 'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)
        assert f'<script nonce="{nonce}">' in page.get_data(as_text=True)
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_the_health_check_is_not_cached_as_personal_data(client):
    assert "Cache-Control" not in client.get("/healthz").headers


@pytest.mark.parametrize(("line", "token"), [
    ("GET /x/eyJlIjoxLCJzdCI6Mn0.aBcD-efGh_123 HTTP/1.1", "eyJlIjoxLCJzdCI6Mn0.aBcD-efGh_123"),
    ("POST /n/abc.def.ghi?x=1 HTTP/1.1", "abc.def.ghi"),
    ("GET /s/tok3n HTTP/1.1", "tok3n"),
])
def test_tokens_are_redacted_from_request_lines(line, token):
    cleaned = redact(line)
    assert token not in cleaned and cleaned == line.replace(token, "…")


def test_gunicorn_access_log_never_records_a_token():
    from gunicorn.config import Config

    logger = RedactingAccessLogger(Config())
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/x/SECRET-TOKEN", "SERVER_PROTOCOL": "HTTP/1.1",
               "PATH_INFO": "/x/SECRET-TOKEN", "QUERY_STRING": "", "REMOTE_ADDR": "10.0.0.1",
               "HTTP_REFERER": "https://lianxin.example/n/OTHER-TOKEN"}
    resp = types.SimpleNamespace(status="200 OK", sent=10, headers=[])
    req = types.SimpleNamespace(headers=[("Referer", "https://lianxin.example/n/OTHER-TOKEN")])
    atoms = logger.atoms(resp, req, environ, dt.timedelta(milliseconds=5))
    line = logger.cfg.access_log_format % atoms
    assert "SECRET-TOKEN" not in line and "OTHER-TOKEN" not in line and "/x/…" in line
    assert not any("TOKEN" in str(v) for v in atoms.values())
