"""The web console's blueprint, its session cookie, CSRF check and role guards.

Login is by a one-time link from chat (``models.console_login``); the session
is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure when the public URL
is https) holding the staff id, school, start time and the CSRF token. Every
request re-reads the staff member: one who left or moved school is logged out.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from sqlalchemy.orm import Session

from bot.extension import Lianxin, get_session, lianxin
from models import console_login
from models.directory import Staff

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
OPEN_ENDPOINTS = frozenset({"console.howto", "console.login"})


def ext() -> Lianxin:
    """Return the app's Lianxin extension."""
    return lianxin()


def db() -> Session:
    """Return the request's database session."""
    return get_session()


@bp.record_once
def _configure(state: Any) -> None:
    app = state.app
    https = lianxin(app).settings.app.base_url.startswith("https://")
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=https,
                      PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=console_login.SESSION_HOURS))
    app.jinja_env.globals["csrf_token"] = csrf_token


def start_session(staff: Staff, now: dt.datetime) -> None:
    """Log ``staff`` in: a fresh cookie (no fixation) with a new CSRF token."""
    session.clear()
    session.permanent = True
    session.update(console_staff=staff.id, console_school=staff.school_id, console_at=now.timestamp(),
                   console_csrf=secrets.token_urlsafe(24))


def current_staff() -> Staff | None:
    """Return the logged-in staff member, or None."""
    if "console_staff" not in g:
        g.console_staff = console_login.session_staff(
            db(), session.get("console_staff"), session.get("console_school"), session.get("console_at"), ext().now())
    return g.console_staff


def csrf_token() -> str:
    """Return the session's CSRF token (templates put it in every form)."""
    return str(session.get("console_csrf", ""))


@bp.before_request
def _guard() -> Any:
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if current_staff() is None:
        session.clear()
        return redirect(url_for("console.howto"))
    if request.method == "POST":
        sent, expected = request.form.get("csrf", ""), session.get("console_csrf", "")
        if not expected or not hmac.compare_digest(sent, expected):
            return page_message("请求已失效", "页面已过期或来源不明，请返回重新操作。", 400)
    return None


def page_message(heading: str, message: str, status: int = 200) -> tuple[str, int]:
    """Render a short message page inside the console frame."""
    return render_template("console/message.html", heading=heading, message=message, **frame()), status


def frame() -> dict[str, Any]:
    """Return what every console page's frame shows (who is logged in, which tabs)."""
    staff = current_staff()
    return {"bot_name": ext().settings.app.name, "me": staff, "is_leader": bool(staff and staff.is_leader),
            "is_head": bool(staff and (staff.is_leader or staff.role == "head_teacher"))}


def leaders_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403) a page or action meant for directors and principals."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        staff = current_staff()
        if staff is None or not staff.is_leader:
            return page_message("无权访问", "此页面仅限校长、主任使用。", 403)
        return view(*args, **kwargs)

    return wrapper


def heads_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403) a page for subject teachers (leaders and head teachers may open it)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        staff = current_staff()
        if staff is None or not (staff.is_leader or staff.role == "head_teacher"):
            return page_message("无权访问", "此页面仅限校长、主任和班主任使用。", 403)
        return view(*args, **kwargs)

    return wrapper


def need(value: Any) -> Any:
    """Return ``value`` or answer 404 (a ticket or notice the viewer may not see does not exist for them)."""
    if value is None:
        abort(404)
    return value
