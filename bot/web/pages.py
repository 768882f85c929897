"""Small mobile pages behind signed links: notice confirm, survey form, export download.

There is no login: the signed, expiring token in the URL is the credential
(see ``models.links``). Routes only verify the token, call a service and
render; a bad or expired token shows a page in Chinese, never a stack trace.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request, send_file

from bot.extension import get_session, lianxin
from models import links
from models.directory import School

bp = Blueprint("pages", __name__, template_folder="templates")


def _ext() -> Any:
    return lianxin()


def _session() -> Any:
    return get_session()


def _payload(purpose: str, token: str) -> dict[str, Any]:
    ext = _ext()
    return links.read_token(ext.settings.app.secret_key, purpose, token, ext.now())


def _message(heading: str, message: str, status: int = 200, css: str = "") -> tuple[str, int]:
    return render_template("page_message.html", bot_name=_ext().settings.app.name, heading=heading,
                           message=message, css=css), status


@bp.errorhandler(links.LinkError)
def _bad_link(exc: links.LinkError) -> tuple[str, int]:
    if exc.expired:
        return _message("链接已过期", "此链接已过期。如需查看，请在聊天中联系老师或重新获取链接。", 410, "warn")
    return _message("链接无效", "此链接无效，请检查是否完整复制。", 403, "warn")


def _local(when: Any) -> str:
    return when.astimezone(ZoneInfo(_ext().settings.app.timezone)).strftime("%Y-%m-%d %H:%M")


@bp.route("/n/<token>", methods=["GET", "POST"])
def notice_page(token: str) -> Any:
    """Show a notice to one family; POST records 「我已阅读」."""
    from models import notice_acks, open_days

    data, session = _payload("notice", token), _session()
    view = notice_acks.notice_view(session, int(data["n"]), int(data["s"]))
    if view is None:
        return _message("通知不存在", "这条通知已撤回或不再适用。", 404)
    event = open_days.by_notice(session, view.notice.id)  # an open day announced by this notice: sign up here
    if request.method == "POST" and not view.acked:
        notice_acks.record_ack(session, view.notice, view.student.id, "link", _ext().now())
    if request.method == "POST" and event is not None and request.form.get("action") == "signup":
        try:
            open_days.sign_up(session, event, view.student, None, "link", _ext().now())
        except open_days.OpenDayError as exc:
            return _message(event.kind_name, exc.message, 409)
    if request.method == "POST":
        session.commit()
        view = notice_acks.notice_view(session, view.notice.id, view.student.id)
    signup = open_days.signup_of(session, event, view.student.id) if event is not None else None
    author = view.notice.author
    return render_template(
        "notice.html", bot_name=_ext().settings.app.name, notice=view.notice, acked=view.acked,
        title="重要通知" if view.notice.important else "学校通知", school=view.notice.author.school.name,
        family=f"{view.student.name}家长", sent=_local(view.notice.sent_at), author=f"{author.name}{author.role_name}",
        event=event, signup_state=open_days.SIGNUP_NAMES.get(signup.state) if signup is not None else None)


@bp.route("/s/<token>", methods=["GET", "POST"])
def survey_page(token: str) -> Any:
    """Show a family's survey form prefilled with its answers; POST saves (until the deadline)."""
    from handlers.surveys import file_comment
    from models import surveys

    data, session, now = _payload("survey", token), _session(), _ext().now()
    found = surveys.family_form(session, int(data["v"]), int(data["s"]))
    if found is None:
        return _message("测评不存在", "这次测评已撤回或不再适用。", 404)
    survey, student, response = found
    saved, missing, answers = False, [], dict(response.answers) if response else {}
    comment = response.comment if response else None
    if request.method == "POST" and survey.is_open(now):
        answers, missing = surveys.read_form(request.form)
        comment = request.form.get("comment", "")[:500]
        if not missing:
            response = surveys.save_answers(session, survey, student, answers, comment=comment, via="web", now=now)
            file_comment(session, _ext().settings, response, student, now, None)
            session.commit()
            saved = True
    return render_template(
        "survey.html", bot_name=_ext().settings.app.name, school=student.school.name, family=f"{student.name}家长",
        deadline=_local(survey.deadline), indicators=surveys.INDICATORS, options=sorted(surveys.OPTIONS.items()),
        answers=answers, comment=comment, saved=saved, missing=missing, closed=not survey.is_open(now),
        anonymous=_ext().settings.surveys.anonymous), 200 if not missing else 400


@bp.route("/o/<token>", methods=["GET", "POST"])
def open_day_feedback_page(token: str) -> Any:
    """The three-question form after an open day or 家长课程; POST saves (and files an actionable suggestion)."""
    from handlers.open_days import file_feedback
    from models import open_days

    data, session, now = _payload("openday", token), _session(), _ext().now()
    signup = session.get(open_days.OpenDaySignup, int(data["u"]))
    if signup is None:
        return _message("反馈不存在", "这次活动已撤回或不再适用。", 404)
    answers = {"lesson": signup.lesson, "order": signup.order_rating}
    saved, missing, suggestion = False, False, signup.suggestion
    if request.method == "POST":
        answers = {k: open_days.parse_rating(request.form.get(k, "")) for k in ("lesson", "order")}
        suggestion = request.form.get("suggestion", "")[:500]
        missing = None in answers.values()
        if not missing:
            file_feedback(session, _ext().settings, signup, answers["lesson"], answers["order"], suggestion, now,
                          None)
            session.commit()
            saved = True
    event = signup.open_day
    return render_template(
        "open_day_feedback.html", bot_name=_ext().settings.app.name, kind_name=event.kind_name,
        school=signup.student.school.name, family=f"{signup.student.name}家长", when=_local(event.starts_at),
        questions=list(zip(("lesson", "order"), open_days.QUESTIONS[:2], strict=True)),
        options=sorted(open_days.RATING_NAMES.items(), reverse=True), answers=answers, suggestion=suggestion,
        saved=saved, missing=missing, ticket=signup.ticket_number), 400 if missing else 200


@bp.get("/m/<token>")
def message_page(token: str) -> Any:
    """Show one message in full (template and subscribe messages only carry a summary)."""
    from models import outbox

    data, session = _payload("message", token), _session()
    row = outbox.message_view(session, int(data["o"]))
    if row is None:
        return _message("消息不存在", "这条消息已不存在。", 404)
    school = row.school_id and session.get(School, row.school_id)
    return render_template("message.html", bot_name=_ext().settings.app.name, title=row.title or "学校消息",
                           school=school.name if school else "", sent=_local(row.created_at), text=row.text)


def _attachment(token: str) -> Any:
    from models import media_access

    return media_access.open_attachment(_session(), _payload("attachment", token))


@bp.get("/a/<token>")
def attachment_page(token: str) -> Any:
    """Show one attachment (a ticket's evidence to its staff, a notice's file to families) behind a signed link."""
    row = _attachment(token)
    if row is None:
        return _message("无法查看", "此附件已不存在，或您已无权查看（链接只限收到它的人）。", 403, "warn")
    staff_link = "st" in _payload("attachment", token)
    note = ("含学生和家长信息，仅限您本人查看，请勿转发。" if staff_link else "学校发送的通知附件。")
    return render_template("attachment.html", bot_name=_ext().settings.app.name, kind=row.kind, label=row.label,
                           heading=f"{row.label}附件", name=row.name, size=_size(row.size), sent=_local(row.created_at),
                           file_url=f"/a/{token}/file", playable=row.mime != "audio/silk", note=note)


@bp.get("/a/<token>/file")
def attachment_file(token: str) -> Any:
    """Send the attachment's bytes (pictures inline, other files as a download)."""
    from models import media

    row = _attachment(token)
    data = media.read(_session(), _ext().settings, row) if row is not None else None
    if row is None or data is None:
        return _message("无法查看", "此附件已不存在，或您已无权查看。", 403, "warn")
    inline = row.kind in ("image", "audio") and not request.args.get("download")
    disposition = "inline" if inline else "attachment"
    response = Response(data, mimetype=row.mime)
    response.headers["Content-Disposition"] = (f'{disposition}; filename="attachment.{row.name.rsplit(".", 1)[-1]}"; '
                                               f"filename*=UTF-8''{quote(row.name)}")
    response.headers["Cache-Control"] = "no-store"
    return response


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{max(1, n // 1024)} KB"


@bp.route("/x/<token>", methods=["GET", "POST"])
def export_download(token: str) -> Any:
    """Offer an export to the staff member the link was made for; POST downloads it, once.

    GET only shows a button: chat apps fetch links for previews, and a preview
    must not use up a single-use link.
    """
    from models import exports

    data, session, ext = _payload("export", token), _session(), _ext()
    record = exports.find_download(session, ext.settings, int(data["e"]), int(data["st"]), ext.now())
    if record is None:
        return _message("无法下载", "此下载链接已失效或不属于您，请在聊天中重新发送导出命令。", 403, "warn")
    if record.downloads:
        return _message("链接已使用", "此下载链接只能使用一次，已经下载过。如需再次下载，请在聊天中重新发送导出命令。",
                        410, "warn")
    if request.method == "GET":
        return render_template("download.html", bot_name=ext.settings.app.name, name=record.download_name,
                               expires=_local(record.expires_at))
    found = exports.take_download(session, ext.settings, record)
    session.commit()
    if found is None:
        return _message("链接已使用", "此下载链接只能使用一次，已经下载过。如需再次下载，请在聊天中重新发送导出命令。",
                        410, "warn")
    path, name = found
    response: Response = send_file(path, as_attachment=True, download_name=name, max_age=0)
    # Werkzeug's ASCII fallback drops the Chinese and leaves "-20261205.xlsx": name it in English.
    response.headers["Content-Disposition"] = (f'attachment; filename="{exports.plain_download_name(name)}"; '
                                               f"filename*=UTF-8''{quote(name)}")
    response.headers["Cache-Control"] = "no-store"
    return response
