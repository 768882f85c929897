"""DingTalk enterprise-internal robot, HTTP callback mode.

DingTalk POSTs JSON only when someone @-mentions the robot in a group or
writes to it privately. Headers ``timestamp`` (ms) and ``sign`` prove the
sender: ``sign == base64(HMAC-SHA256(appSecret, timestamp + "\\n" + appSecret))``
within one hour. The sign does not cover the body, so a captured request can
be replayed inside that hour; the msgId dedupe makes that harmless.

Stream mode (the dingtalk-stream websocket SDK) is an alternative that needs
no public URL; it is not implemented here (see docs/platforms.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

from flask import Blueprint, jsonify, request

from bot import webhook
from bot.message import InboundMessage
from bot.webhook import DINGTALK_MAX_SKEW, Reject

PLATFORM = "dingtalk"

bp = Blueprint("dingtalk", __name__)
webhook.install_errors(bp)

_LEADING_MENTIONS = re.compile(r"^(?:\s*@\S+)*\s*")


@bp.post("/dingtalk/<school_code>/callback")
def callback(school_code: str):
    """Receive one robot message."""
    school_id, creds = webhook.school(school_code, PLATFORM)
    data = webhook.body()
    verify(request.headers.get("timestamp", ""), request.headers.get("sign", ""), creds.app_secret)
    msg = to_message(webhook.parse_json(data), school_id, creds.robot_code)
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
    )


def content(p: dict[str, Any]) -> tuple[str, str]:
    """Return (msgtype, text): voice recognition counts as text."""
    kind = str(p.get("msgtype") or "")
    body = p.get("content") if isinstance(p.get("content"), dict) else {}
    if kind == "text":
        text = p.get("text", {}).get("content", "") if isinstance(p.get("text"), dict) else ""
        return "text", str(text)
    if kind == "audio":
        recognition = str(body.get("recognition") or "").strip()
        return ("text", recognition) if recognition else ("unsupported", "")
    if kind == "richText":
        parts = [str(i["text"]) for i in body.get("richText", []) if isinstance(i, dict) and i.get("text")]
        return ("text", "".join(parts)) if parts else ("image", "")
    if kind == "picture":
        return "image", ""
    if kind in ("file", "video"):
        return "file", ""
    return "unsupported", ""


def reply_context(p: dict[str, Any], robot_code: str, staff_id: str) -> dict[str, Any]:
    """Return the reply handles the DingTalk channel uses (see docs/platforms.md §0)."""
    context: dict[str, Any] = {
        "robot_code": str(p.get("robotCode") or robot_code),
        "sender_staff_id": staff_id,
        "conversation_type": str(p.get("conversationType") or ""),
    }
    webhook_url = p.get("sessionWebhook")
    if isinstance(webhook_url, str) and webhook_url.startswith(("https://", "http://")):
        context["session_webhook"] = webhook_url
        try:
            context["session_webhook_expires_at"] = int(p.get("sessionWebhookExpiredTime") or 0)
        except (TypeError, ValueError):
            context["session_webhook_expires_at"] = 0
    return context


def _redacted(p: dict[str, Any]) -> dict[str, Any]:
    """Return the payload for the inbound log, minus the sessionWebhook bearer URL."""
    return {k: v for k, v in p.items() if k not in ("sessionWebhook",)}
