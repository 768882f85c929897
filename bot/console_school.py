"""Web console routes for the school pages: 家访, 通知, 测评, 花名册 (rules in ``models.console_school``)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import redirect, render_template, request, url_for

from bot.console_auth import bp, current_staff, db, ext, frame, heads_only, leaders_only, need, page_message
from models import console_school, media, notices, scope, survey_results
from models.console_ledger import local_midnight
from models.roster import RosterError
from models.surveys import INDICATORS


def _tz() -> str:
    return ext().settings.app.timezone


def coverage_for(staff: Any) -> list[Any]:
    """Return this month's visit coverage for the 总览 (leaders: all classes; head teachers: theirs)."""
    return console_school.coverage(db(), staff, ext().now(), _tz())


def _range(args: Any = None) -> tuple[dt.date, dt.date]:
    args = request.args if args is None else args
    today = ext().now().astimezone(ZoneInfo(_tz())).date()
    try:
        start = dt.date.fromisoformat(args.get("from") or today.replace(day=1).isoformat())
        end = dt.date.fromisoformat(args.get("to") or today.isoformat())
    except ValueError:
        start, end = today.replace(day=1), today
    return (start, end) if start <= end else (end, start)


@bp.get("/visits")
@heads_only
def visits_page() -> Any:
    """家访: coverage by class and 包靠 teacher, families due (special care first), the 入户访问登记表."""
    start, end = _range()
    view = console_school.visits_view(db(), current_staff(), ext().now(), ext().settings,
                                      local_midnight(start, _tz()), local_midnight(end + dt.timedelta(days=1), _tz()))
    return render_template("console/visits.html", view=view, start=start, end=end, **frame())


@bp.post("/visits/export")
@leaders_only
def visits_export() -> Any:
    """Export the 入户访问登记表 of the chosen range as Excel (the single-use download page follows)."""
    from models import exports

    start, end = _range(request.form)
    _, url = exports.create_download(db(), current_staff(), "visits", ext().settings, ext().now(),
                                     start=local_midnight(start, _tz()),
                                     end=local_midnight(end + dt.timedelta(days=1), _tz()))
    db().commit()
    return redirect("/" + url.split("/", 3)[3])


@bp.get("/notices")
@heads_only
def notices_page() -> Any:
    """通知: compose form and the sent notices the viewer follows, with their acknowledgement figures."""
    rows = console_school.sent_notices(db(), current_staff())
    return render_template("console/notices.html", rows=rows, form={}, error=None, **frame())


@bp.post("/notices/preview")
@heads_only
def notice_preview() -> Any:
    """Draft the notice with the chat's scope parser and show who it reaches, with 确认发送."""
    request.max_content_length = ext().settings.media.max_bytes + 65_536  # an attachment, not app.max_body_bytes
    form, when = request.form, None
    if form.get("when"):
        try:
            when = dt.datetime.fromisoformat(form["when"]).replace(tzinfo=ZoneInfo(_tz())).astimezone(dt.UTC)
        except ValueError:
            return _compose_error("定时时间格式不正确。")
    try:
        upload = request.files.get("attachment")
        file = (upload.filename or "", upload.read()) if upload is not None and upload.filename else None
        notice, reach = console_school.draft(db(), current_staff(), form.get("scope", ""), form.get("text", "")[:2000],
                                             bool(form.get("important")), when, ext().now(), file, ext().settings)
    except (scope.ScopeError, ValueError) as exc:
        db().rollback()
        return _compose_error(str(exc), 403 if isinstance(exc, scope.ScopeForbidden) else 400)
    db().commit()
    return render_template("console/notice_preview.html", notice=notice, reach=reach,
                           attachments=media.of_notice(db(), notice.id), private_copy=ext().settings.notices.private_copy, **frame())


def _compose_error(message: str, status: int = 400) -> tuple[str, int]:
    rows = console_school.sent_notices(db(), current_staff())
    return render_template("console/notices.html", rows=rows, form=request.form, error=message, **frame()), status


@bp.post("/notices/<int:notice_id>/send")
@heads_only
def notice_send(notice_id: int) -> Any:
    """确认发送 (or 取消) the viewer's own draft."""
    notice = need(console_school.own_draft(db(), current_staff(), notice_id))
    if request.form.get("cancel"):
        notices.cancel_notice(db(), notice)
        db().commit()
        return page_message("已取消", "通知未发送。")
    notices.confirm_notice(db(), notice, ext().settings, ext().now())
    db().commit()
    return redirect(url_for("console.notice_page", notice_id=notice.id))


@bp.get("/notices/<int:notice_id>")
@heads_only
def notice_page(notice_id: int) -> Any:
    """One notice: per class delivered / acknowledged / not yet, with the names still to confirm."""
    notice = need(notices.get_notice(db(), notice_id, current_staff().school_id))
    stats = need(console_school.notice_stats_for(db(), current_staff(), notice))
    return render_template("console/notice.html", notice=notice, stats=stats, **frame())


@bp.get("/surveys")
def surveys_page() -> Any:
    """测评: the school's surveys; the newest one's results."""
    found = console_school.surveys_of(db(), current_staff())
    if not found:
        return render_template("console/surveys.html", surveys=[], results=None, **frame())
    return survey_page(request.args.get("id", found[0].id, type=int), found)


@bp.get("/surveys/<int:survey_id>")
def survey_page(survey_id: int, found: list[Any] | None = None) -> Any:
    """Results per indicator, grade and class, the ranking and the change since the last survey (teachers: their
    classes' aggregates only)."""
    staff = current_staff()
    results, minimum, own = need(console_school.survey_results(db(), staff, survey_id, ext().settings))
    return render_template("console/surveys.html", surveys=found or console_school.surveys_of(db(), staff),
                           results=results, minimum=minimum, own=own, indicators=INDICATORS, sr=survey_results,
                           **frame())


@bp.route("/roster", methods=["GET", "POST"])
@leaders_only
def roster_page() -> Any:
    """花名册: upload a roster; every bad row is listed and nothing is imported unless all rows are good."""
    if request.method == "GET":
        return render_template("console/roster.html", problems=None, report=None, **frame())
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("console/roster.html", problems=["请选择花名册文件（.xlsx 或 .csv）。"], report=None,
                               **frame()), 400
    suffix = Path(upload.filename).suffix.lower()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"roster{suffix if suffix in ('.xlsx', '.csv') else '.xlsx'}"
        upload.save(path)
        try:
            report = console_school.upload_roster(db(), current_staff(), path, ext().settings, ext().now())
        except RosterError as exc:
            db().rollback()
            return render_template("console/roster.html", problems=exc.problems, report=None, **frame()), 400
    db().commit()
    return render_template("console/roster.html", problems=None, report=report, **frame())
