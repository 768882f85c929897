"""Web console routes: login from chat, 总览, 台账 with the ticket page and its actions, 疑似紧急.

Routes read the request, call a service in ``models`` and render; the rules
live in the services (scope: ``models.ticket_access``; actions:
``models.console_actions``; figures: ``models.figures``). The school pages
(家访, 通知, 测评, 花名册) are in ``bot.web.console_school``.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, session, url_for

from bot.web import console_charts as charts
from bot.web.console_auth import (
    bp,
    current_staff,
    db,
    ext,
    frame,
    leaders_only,
    need,
    page_message,
    start_session,
)
from models import (
    console_actions,
    console_ledger,
    console_login,
    console_overview,
    console_school,
    exports,
    labels,
    media_access,
)
from models.directory import Staff
from models.tickets import TicketError

LOGIN_REFUSED = {
    "expired": ("登录链接已过期", "登录链接 10 分钟内有效。请在聊天中重新发送「后台」获取新链接。", 410),
    "used": ("登录链接已使用", "每个登录链接只能使用一次。请在聊天中重新发送「后台」获取新链接。", 410),
    "invalid": ("登录链接无效", "此链接无效，请检查是否完整复制，或在聊天中重新发送「后台」。", 403),
}


def _tz() -> str:
    return ext().settings.app.timezone


def _local(when: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return when.astimezone(ZoneInfo(_tz())).strftime(fmt) if when else "—"


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


@bp.app_template_global()
def console_helpers() -> dict[str, Any]:
    """Return formatting helpers for console templates."""
    return {"local": _local, "percent": _percent, "meter": charts.meter, "labels": labels}


@bp.errorhandler(404)
def _not_found(exc: Any) -> tuple[str, int]:
    return page_message("没有找到", "没有找到该页面，或您无权查看。", 404)


@bp.get("/howto")
def howto() -> Any:
    """Say how to log in: send 后台 to the bot in private chat."""
    return render_template("console/howto.html", bot_name=ext().settings.app.name, me=None), 200


@bp.route("/login/<token>", methods=["GET", "POST"])
def login(token: str) -> Any:
    """GET shows a button (link previews must not use the link up); POST uses the link once and logs in."""
    if request.method == "GET":
        return render_template("console/login.html", bot_name=ext().settings.app.name, me=None)
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        # Login CSRF: another site must not log a browser into someone else's session.
        return render_template("console/message.html", heading="登录链接无效", me=None,
                               message="请直接在浏览器中打开聊天里收到的登录链接。", bot_name=ext().settings.app.name), 403
    try:
        staff = console_login.redeem(db(), ext().settings, token, ext().now())
    except console_login.ConsoleLoginError as exc:
        db().commit()
        heading, message, status = LOGIN_REFUSED[exc.reason]
        return render_template("console/message.html", heading=heading, message=message, bot_name=ext().settings.app.name,
                               me=None), status
    db().commit()
    start_session(staff, ext().now())
    return redirect(url_for("console.overview"))


@bp.post("/logout")
def logout() -> Any:
    """End the session."""
    session.clear()
    return redirect(url_for("console.howto"))


@bp.get("/")
def overview() -> Any:
    """总览: counts for everyone; figures, trends, notices and surveys for leaders."""
    staff, s, now, tz = current_staff(), db(), ext().now(), _tz()
    data: dict[str, Any] = {"counts": console_overview.counts(s, staff, now, tz),
                            "today": now.astimezone(ZoneInfo(tz)).date().isoformat()}
    span, by_category = console_overview.categories_by_week(s, staff, now, tz)
    data["category_chart"] = charts.stacked_bars(
        [w.label for w in span], {labels.category_name(c): v for c, v in list(by_category.items())[:6]}, "chart-category")
    if staff.is_leader:
        data["figures"] = console_overview.last_30_days(s, staff.school_id, now)
        weekly = console_overview.weekly_figures(s, staff.school_id, now, tz)
        data["trend_chart"] = charts.line_chart([w.label for w, _ in weekly], {
            "响应率": [f.response_rate for _, f in weekly], "按期办结率": [f.on_time_rate for _, f in weekly],
            "满意率": [f.satisfaction_rate for _, f in weekly]}, "chart-trend")
        data["notices"] = console_overview.recent_notices(s, staff.school_id)
        data["survey"] = console_overview.latest_survey(s, staff.school_id,
                                                        console_school.min_breakdown(staff, ext().settings))
    if staff.is_leader or staff.role == "head_teacher":
        from bot.web.console_school import coverage_for

        data["coverage"] = coverage_for(staff)
    return render_template("console/overview.html", **data, **frame())


def _choices(staff: Staff) -> dict[str, Any]:
    classes, people = console_ledger.school_choices(db(), staff.school_id)
    return {"classes": classes, "people": people, "states": labels.state_codes(),
            "categories": labels.category_codes(), "urgencies": labels.urgency_codes()}


@bp.get("/tickets")
def tickets() -> Any:
    """台账: the tickets the viewer may see, filtered and paged."""
    staff, now = current_staff(), ext().now()
    flt = console_ledger.LedgerFilter.from_args(request.args)
    page = console_ledger.ledger_page(db(), staff, flt, request.args.get("page", 1, type=int) or 1, now, _tz())
    return render_template("console/tickets.html", flt=flt, page=page, args=flt.query_args(), now=now,
                           **_choices(staff), **frame())


@bp.get("/tickets/<int:ticket_id>")
def ticket(ticket_id: int) -> Any:
    """One ticket: details, full history (replies, 回访, 销号) and the actions the viewer may take."""
    staff = current_staff()
    found = need(console_ledger.visible_ticket(db(), staff, ticket_id))
    attachments = media_access.ticket_links(db(), ext().settings, found, staff, ext().now())
    return render_template("console/ticket.html", t=found, actions=console_actions.allowed(staff, found),
                           attachments=attachments, now=ext().now(), **_choices(staff), **frame())


@bp.post("/tickets/<int:ticket_id>/act")
def act(ticket_id: int) -> Any:
    """Take a ticket action from the page (same service and history as the chat command)."""
    staff, s = current_staff(), db()
    found = need(console_ledger.visible_ticket(s, staff, ticket_id))
    try:
        outcome = console_actions.act(s, staff, found, request.form.get("action", ""), request.form, ext().now(), _tz())
    except console_actions.ActionRefused as exc:
        s.rollback()
        return page_message("无法操作", exc.message, exc.status)
    except TicketError as exc:
        s.rollback()
        flash(exc.message, "warn")
        return redirect(url_for("console.ticket", ticket_id=ticket_id))
    s.commit()
    flash(outcome.message, "ok")
    return redirect(url_for("console.ticket", ticket_id=ticket_id))


@bp.post("/tickets/export")
@leaders_only
def export() -> Any:
    """Export the filtered ledger as the Excel 台账; the single-use download page follows."""
    staff, s, now = current_staff(), db(), ext().now()
    flt = console_ledger.LedgerFilter.from_args(request.form)
    _, url = exports.create_download(s, staff, "ledger", ext().settings, now,
                                     where=flt.conditions(staff, now, _tz()))
    s.commit()
    return redirect("/" + url.split("/", 3)[3])


@bp.get("/review")
@leaders_only
def review() -> Any:
    """疑似紧急: tickets the classifier was unsure about, oldest first, each with a one-click decision."""
    return render_template("console/review.html", tickets=console_ledger.review_queue(db(), current_staff()),
                           now=ext().now(), **frame())
