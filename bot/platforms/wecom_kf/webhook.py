"""微信客服 (WeCom kf): how parents on plain WeChat reach the school.

The callback carries no message, only the event ``kf_msg_or_event`` with a
sync ``Token`` and the ``OpenKfId``. We store that (the kf cursor row),
commit and answer at once; the messages are pulled with ``kf/sync_msg``
*after* the response (it is a platform call and may be slow), and again by
the scheduler through ``sync_kf(ext, school_code)``. Each pulled message is
deduplicated on its msgid, so overlapping syncs are harmless.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, request

from bot.exceptions import SendError
from bot.message import EVENT_ENTER, InboundMessage
from bot.platforms.common import webhook, wxcrypto

PLATFORM = "wecom_kf"
KF_EVENT = "kf_msg_or_event"
ORIGIN_CUSTOMER = 3  # 微信客户发送的消息
ORIGIN_SYSTEM = 4  # 系统推送的事件
MAX_PAGES = 20  # bounded: 20 × 1000 messages per sync

log = logging.getLogger(__name__)

bp = Blueprint("wecom_kf", __name__)
webhook.install_errors(bp)


@bp.get("/wecom/<school_code>/kf")
def verify_url(school_code: str) -> str:
    """Answer the kf callback URL check."""
    _, creds = webhook.school(school_code, "wecom_kf")
    return wxcrypto.echo(creds.token, creds.aes_key, creds.corp_id, request.args, webhook.ext().now())


@bp.post("/wecom/<school_code>/kf")
def callback(school_code: str) -> Response:
    """Receive a kf event: store it, answer, then sync."""
    school_id, creds = webhook.school(school_code, "wecom_kf")
    _, data = wxcrypto.decrypt_xml(creds.token, creds.aes_key, creds.corp_id, webhook.body(), request.args,
                                   webhook.ext().now())
    if not is_kf_event(data):
        return Response("", mimetype="text/plain")
    return notified(school_code, school_id, data)


def is_kf_event(data: dict[str, Any]) -> bool:
    """Return whether decrypted callback fields are a kf_msg_or_event."""
    return str(data.get("MsgType") or "").lower() == "event" and str(data.get("Event") or "") == KF_EVENT


def notified(school_code: str, school_id: int, data: dict[str, Any]) -> Response:
    """Store the event's sync token, commit, and sync once the answer is written."""
    from models.platform_state import note_kf_event

    open_kfid = str(data.get("OpenKfId") or "")
    app_ext = webhook.ext()
    creds = app_ext.settings.platforms[school_code].wecom_kf
    if not open_kfid or creds is None or (creds.open_kfids and open_kfid not in creds.open_kfids):
        log.warning("kf event for an unconfigured kf account at %s", school_code)
        return Response("", mimetype="text/plain")
    note_kf_event(webhook.session(), school_id, open_kfid, str(data.get("Token") or "") or None, app_ext.now())
    webhook.session().commit()
    response = Response("", mimetype="text/plain")
    webhook.after_response(response, lambda: sync_account(app_ext, school_code, open_kfid))
    return response


def sync_kf(app_ext: Any, school_code: str) -> int:
    """Pull every kf account of a school (scheduler-callable); return messages stored."""
    from models.platform_state import kf_cursors, school_id_for_code

    with app_ext.sessionmaker() as db:
        school_id = school_id_for_code(db, school_code)
        kfids = [row.open_kfid for row in kf_cursors(db, school_id)] if school_id is not None else []
    creds = app_ext.settings.platforms.get(school_code)
    configured = list(creds.wecom_kf.open_kfids) if creds is not None and creds.wecom_kf is not None else []
    stored = 0
    for kfid in dict.fromkeys(kfids + configured):
        try:
            stored += sync_account(app_ext, school_code, kfid)
        except SendError as exc:  # one failing account must not stop the others
            log.warning("kf sync failed for %s: %s", school_code, exc)
    return stored


def sync_account(app_ext: Any, school_code: str, open_kfid: str) -> int:
    """Pull one kf account's new messages, dispatch each, send the replies.

    Commits after each page, so a crash loses no stored message and the next
    sync resumes from the saved cursor. Returns how many new messages were stored.
    """
    from handlers import dispatch
    from models.platform_state import advance_kf_cursor, kf_cursor, school_id_for_code

    creds = app_ext.settings.platforms[school_code].wecom_kf
    stored, ids, fetch = 0, [], False
    with app_ext.sessionmaker() as db:
        school_id = school_id_for_code(db, school_code)
        if school_id is None or creds is None:
            return 0
        row = kf_cursor(db, school_id, open_kfid, app_ext.now())
        client = _client(app_ext, creds, db)
        for _ in range(MAX_PAGES):
            request_data = {"cursor": row.cursor or "", "open_kfid": open_kfid, "limit": 1000}
            if row.sync_token:
                request_data["token"] = row.sync_token
            page = client.call("kf/sync_msg", request_data)
            now = app_ext.now()
            for item in page.get("msg_list") or []:
                msg = to_message(item, school_id, open_kfid, now)
                if msg is not None:
                    result = dispatch(msg, session=db, settings=app_ext.settings, registry=app_ext.registry, now=now)
                    stored += not result.duplicate
                    ids.extend(result.outbox_ids)
                    fetch |= bool(msg.media) and not result.duplicate
            advance_kf_cursor(row, page.get("next_cursor"), now)
            row.sync_token = None  # a token serves one sync (valid 10 min)
            db.commit()
            if not page.get("has_more"):
                break
    if fetch:  # pictures and files: downloaded and handled now, after this sync's answer
        from bot.inbox_worker import InboxWorker

        InboxWorker(app_ext, ids.extend).run_once()
    if ids:
        with app_ext.sessionmaker() as db:
            app_ext.sender.send_ids(db, ids, app_ext.now())
            db.commit()
    return stored


def _client(app_ext: Any, creds: Any, db: Any) -> Any:
    """Return the outbound WeCom client for the kf secret (tokens cached in the database)."""
    from bot.platforms.common.tokens import DBTokenStorage
    from bot.platforms.wecom_app.client import WeComClient

    api = app_ext.settings.platform_api
    return WeComClient(creds.corp_id, creds.secret, base_url=api.wecom_api,
                       session=DBTokenStorage(db, app_ext.now), timeout=api.timeout_seconds)


def to_message(item: dict[str, Any], school_id: int, open_kfid: str, now: Any) -> InboundMessage | None:
    """Normalise one sync_msg item; None for what is not from a customer."""
    origin = item.get("origin")
    msgtype = str(item.get("msgtype") or "")
    event = item.get("event") if isinstance(item.get("event"), dict) else {}
    user = str(item.get("external_userid") or event.get("external_userid") or "")
    msg_id = str(item.get("msgid") or "")
    if origin not in (ORIGIN_CUSTOMER, ORIGIN_SYSTEM) or not user or not msg_id:
        return None
    context: dict[str, Any] = {"open_kfid": str(item.get("open_kfid") or open_kfid)}
    if msgtype == "text":
        kind, text = "text", str((item.get("text") or {}).get("content") or "").strip()
    elif msgtype == "event":
        kind, text = "event", str(event.get("event_type") or "")
        text = EVENT_ENTER if text == "enter_session" else text
        if event.get("welcome_code"):
            context["welcome_code"] = str(event["welcome_code"])
    elif msgtype in ("image", "file", "video", "voice"):
        kind, text = ("file" if msgtype == "video" else msgtype), ""
    else:
        kind, text = "unsupported", ""
    part = item.get(msgtype) if isinstance(item.get(msgtype), dict) else {}
    media_id = str(part.get("media_id") or "")
    media = ({"media_id": media_id},) if kind in ("image", "file", "voice") and media_id else ()
    return InboundMessage(
        platform=PLATFORM, school_id=school_id, msg_id=msg_id, conversation_id=user, is_group=False,
        sender_id=user, text=text, sent_at=webhook.from_epoch(item.get("send_time"), now), msgtype=kind,
        raw=item, reply_context=context, media=media,
    )
