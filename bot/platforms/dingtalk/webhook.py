"""DingTalk enterprise-internal robot, HTTP callback mode.

DingTalk POSTs JSON only when someone @-mentions the robot in a group or
writes to it privately. Headers ``timestamp`` (ms) and ``sign`` prove the
sender: ``sign == base64(HMAC-SHA256(appSecret, timestamp + "\\n" + appSecret))``
within one hour. The sign does not cover the body, so each (timestamp, sign)
pair is remembered for its hour and accepted for one msgId only: DingTalk's
redelivery of that message, never a captured sign with another body.

A school with ``dingtalk.mode: stream`` receives its robot messages through
the ``dingtalk-stream`` process (bot/platforms/dingtalk/stream.py), which normalises
them with ``to_message`` below; its callback URL answers 404.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, jsonify, request

from bot.message import InboundMessage
from bot.platforms.common import webhook
from bot.platforms.common.webhook import DINGTALK_MAX_SKEW, Reject
from bot.platforms.dingtalk.client import is_session_webhook

PLATFORM = "dingtalk"
log = logging.getLogger(__name__)

bp = Blueprint("dingtalk", __name__)
webhook.install_errors(bp)

_LEADING_MENTIONS = re.compile(r"^(?:\s*@\S+)*\s*")


@bp.post("/dingtalk/<school_code>/callback")
def callback(school_code: str):
    """Receive one robot message."""
    school_id, creds = webhook.school(school_code, PLATFORM)
    if creds.mode == "stream":  # its messages come over the stream connection only
        abort(404)
    data = webhook.body()
    timestamp, given = request.headers.get("timestamp", ""), request.headers.get("sign", "")
    verify(timestamp, given, creds.app_secret)
    msg = to_message(webhook.parse_json(data), school_id, creds.robot_code)
    once(timestamp, given, msg.msg_id)
    return webhook.deliver([msg], jsonify({}))


def sign(timestamp: str, app_secret: str) -> str:
    """Return the sign DingTalk sends for a timestamp."""
    digest = hmac.new(app_secret.encode("utf-8"), f"{timestamp}\n{app_secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(timestamp: str, given: str, app_secret: str) -> None:
    """Check the timestamp (±1 h) and the sign in constant time; 403 otherwise."""
    webhook.check_fresh(timestamp, webhook.ext().now(), DINGTALK_MAX_SKEW, unit_ms=True)
    if not given or not webhook.same(sign(timestamp, app_secret), given):
        raise Reject(403, "bad sign")


def once(timestamp: str, given: str, msg_id: str) -> None:
    """Accept a (timestamp, sign) pair for one message only: its redelivery, never another body (403)."""
    from models.inbound import remember_signature

    expires = dt.datetime.fromtimestamp(int(timestamp) / 1000, dt.UTC) + DINGTALK_MAX_SKEW
    if not remember_signature(webhook.session(), PLATFORM, given, msg_id, expires):
        raise Reject(403, "sign already used for another message")


def to_message(p: dict[str, Any], school_id: int, robot_code: str) -> InboundMessage:
    """Normalise a callback body; 400 when the ids a reply needs are missing."""
    staff_id = str(p.get("senderStaffId") or "")
    sender = staff_id or str(p.get("senderId") or "")
    msg_id, conversation = str(p.get("msgId") or ""), str(p.get("conversationId") or "")
    if not (msg_id and sender and conversation):
        raise Reject(400, "msgId, sender and conversationId are required")
    is_group = str(p.get("conversationType")) == "2"
    msgtype, text = content(p)
    if is_group and msgtype == "text":
        text = _LEADING_MENTIONS.sub("", text, count=1) if text.lstrip().startswith("@") else text
    now = webhook.ext().now()
    at_users = p.get("atUsers") if isinstance(p.get("atUsers"), list) else []
    return InboundMessage(
        platform=PLATFORM,
        school_id=school_id,
        msg_id=msg_id,
        conversation_id=conversation,
        is_group=is_group,
        sender_id=sender,
        sender_name=str(p.get("senderNick") or "") or None,
        text=text.strip(),
        sent_at=webhook.from_epoch(p.get("createAt"), now, unit_ms=True),
        msgtype=msgtype,
        mentions=tuple(str(u.get("staffId") or u.get("dingtalkId")) for u in at_users if isinstance(u, dict)),
        mentioned_bot=is_group or bool(p.get("isInAtList")),
        raw=_redacted(p),
        reply_context=reply_context(p, robot_code, staff_id),
        outside_directory=outside_directory(p, staff_id),
        media=media_refs(p, msgtype),
    )


def outside_directory(p: dict[str, Any], staff_id: str) -> bool:
    """Tell whether the sender is not a member of the robot's organisation (no staffId, or another corp)."""
    sender_corp, bot_corp = str(p.get("senderCorpId") or ""), str(p.get("chatbotCorpId") or "")
    return not staff_id or bool(sender_corp and bot_corp and sender_corp != bot_corp)


def content(p: dict[str, Any]) -> tuple[str, str]:
    """Return (msgtype, text): voice recognition counts as text."""
    kind = str(p.get("msgtype") or "")
    body = p.get("content") if isinstance(p.get("content"), dict) else {}
    if kind == "text":
        text = p.get("text", {}).get("content", "") if isinstance(p.get("text"), dict) else ""
        return "text", str(text)
    if kind == "audio":
        recognition = str(body.get("recognition") or "").strip()
        return ("text", recognition) if recognition else ("voice", "")
    if kind == "richText":
        parts = [str(i["text"]) for i in body.get("richText", []) if isinstance(i, dict) and i.get("text")]
        return ("text", "".join(parts)) if parts else ("image", "")
    if kind == "picture":
        return "image", ""
    if kind in ("file", "video"):
        return "file", ""
    return "unsupported", ""


def media_refs(p: dict[str, Any], msgtype: str) -> tuple[dict[str, Any], ...]:
    """Return the ``downloadCode`` of each picture/file/voice/video (richText: each picture between the texts)."""
    body = p.get("content") if isinstance(p.get("content"), dict) else {}
    robot = str(p.get("robotCode") or "")
    if p.get("msgtype") == "richText":
        parts = [i for i in body.get("richText", []) if isinstance(i, dict) and i.get("downloadCode")]
        return tuple({"download_code": str(i["downloadCode"]), "robot_code": robot} for i in parts)
    code = str(body.get("downloadCode") or body.get("pictureDownloadCode") or "")
    if msgtype not in ("image", "file", "voice") or not code:
        return ()
    return ({"download_code": code, "robot_code": robot, "name": str(body.get("fileName") or "")},)


def reply_context(p: dict[str, Any], robot_code: str, staff_id: str) -> dict[str, Any]:
    """Return the reply handles the DingTalk channel uses (see docs/platforms.md §0)."""
    context: dict[str, Any] = {
        "robot_code": str(p.get("robotCode") or robot_code),
        "sender_staff_id": staff_id,
        "conversation_type": str(p.get("conversationType") or ""),
    }
    webhook_url = p.get("sessionWebhook")
    if webhook_url and not is_session_webhook(webhook_url, webhook.ext().settings.platform_api.dingtalk_webhook_prefixes):
        log.warning("dingtalk: sessionWebhook off the allowed hosts refused (%s); replies use the robot API",
                    _host(webhook_url))
    elif webhook_url:
        context["session_webhook"] = webhook_url
        try:
            context["session_webhook_expires_at"] = int(p.get("sessionWebhookExpiredTime") or 0)
        except (TypeError, ValueError):
            context["session_webhook_expires_at"] = 0
    return context


def _host(url: Any) -> str:
    """Return what a log may say of a refused URL: its scheme and host, never the bearer path."""
    try:
        parts = urlsplit(str(url))
        return f"{parts.scheme}://{parts.hostname or '?'}"
    except ValueError:
        return "unparsable"


def _redacted(p: dict[str, Any]) -> dict[str, Any]:
    """Return the payload for the inbound log, minus the sessionWebhook bearer URL."""
    return {k: v for k, v in p.items() if k not in ("sessionWebhook",)}
