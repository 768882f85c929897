"""WeCom 智能机器人 (AI bot): group @-mentions and private chats.

Callbacks are encrypted JSON ``{"encrypt": …}`` with the usual
msg_signature/timestamp/nonce query; the receive id is "" (not the CorpID).
The plaintext is JSON: msgid, aibotid, chatid, chattype single|group,
from.userid, response_url, msgtype, text.content. We answer an empty 200 at
once; replies go later through ``response_url`` (outbound side).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from typing import Any

from flask import Blueprint, Response, request

from bot.message import InboundMessage
from bot.platforms.common import webhook, wxcrypto
from bot.platforms.common.webhook import Reject
from config.texts import welcome_texts
from models import outbox

PLATFORM = "wecom_aibot"
# The event when someone opens a private chat with the bot (first time each day); it is
# answered by the adapter itself (``welcome``), so it is not mapped to ``EVENT_ENTER``.
ENTER_CHAT = "enter_chat"
RECEIVE_ID = ""

bp = Blueprint("wecom_aibot", __name__)
webhook.install_errors(bp)

_LEADING_MENTIONS = re.compile(r"^(?:\s*@\S+)+\s*")


@bp.get("/wecom/<school_code>/aibot")
def verify_url(school_code: str) -> str:
    """Answer the URL check (must be within 1 s: no database work beyond the school lookup)."""
    _, creds = webhook.school(school_code, "wecom_aibot")
    return wxcrypto.echo(creds.token, creds.aes_key, RECEIVE_ID, request.args, webhook.ext().now())


@bp.post("/wecom/<school_code>/aibot")
def callback(school_code: str):
    """Receive one message."""
    school_id, creds = webhook.school(school_code, "wecom_aibot")
    envelope = webhook.parse_json(webhook.body())
    plain = wxcrypto.decrypt(creds.token, creds.aes_key, RECEIVE_ID, str(envelope.get("encrypt") or ""),
                             request.args, webhook.ext().now())
    data = webhook.parse_json(plain.encode("utf-8"))
    if creds.bot_id and data.get("aibotid") not in (None, "", creds.bot_id):
        raise Reject(403, "message for another bot")
    msg = to_message(data, school_id)
    if msg.msgtype == "event" and msg.text == ENTER_CHAT:
        return webhook.deliver([msg], welcome(creds, school_id))
    url = msg.reply_context.get("response_url")
    if msg.is_group or not url:
        return webhook.deliver([msg], "")

    def release(db: Any, now: dt.datetime) -> list[int]:
        # Private messages that waited for this person to write to us privately (bot/platforms/wecom_aibot/channel.py).
        handle = {"response_url": url, "response_url_at": int(now.timestamp())}
        return outbox.release_awaiting(db, PLATFORM, school_id, msg.sender_id, handle, now)

    return webhook.deliver([msg], "", also=release)


def welcome(creds: Any, school_id: int) -> Response:
    """Return the encrypted welcome a person entering the bot's chat sees (the only way to greet them).

    The AI bot sends ``enter_chat`` once a day per person and takes the answer
    to that callback as the welcome; it is the same text the other platforms'
    welcomes use (``config/welcome.yaml``).
    """
    from models.people import school_name

    text = welcome_texts()["stranger"].format(school=school_name(webhook.session(), school_id))
    plain = json.dumps({"msgtype": "text", "text": {"content": text}}, ensure_ascii=False)
    now = webhook.ext().now()
    body = wxcrypto.encrypt_json(creds.token, creds.aes_key, RECEIVE_ID, plain, secrets.token_hex(8),
                                 str(int(now.timestamp())))
    return Response(json.dumps(body), mimetype="application/json")


def to_message(data: dict[str, Any], school_id: int) -> InboundMessage:
    """Normalise a decrypted AI-bot message."""
    sender_info = data.get("from") if isinstance(data.get("from"), dict) else {}
    sender = str(sender_info.get("userid") or "")
    is_group = data.get("chattype") == "group"
    chat_id = str(data.get("chatid") or "")
    msgtype, text = content(data)
    msg_id = str(data.get("msgid") or "") or f"event:{sender}:{data.get('create_time')}:{text}"
    if not sender or (is_group and not chat_id):
        raise Reject(400, "from.userid (and chatid in groups) required")
    if is_group and msgtype == "text":
        text = _LEADING_MENTIONS.sub("", text, count=1)
    now = webhook.ext().now()
    context = {"chatid": chat_id, "chattype": str(data.get("chattype") or ""), "aibot_id": str(data.get("aibotid") or "")}
    if isinstance(data.get("response_url"), str):
        context["response_url"] = data["response_url"]
    return InboundMessage(
        platform=PLATFORM, school_id=school_id, msg_id=msg_id, conversation_id=chat_id if is_group else sender,
        is_group=is_group, sender_id=sender, text=text.strip(), sent_at=webhook.from_epoch(data.get("create_time"), now),
        msgtype=msgtype, mentioned_bot=is_group, raw={k: v for k, v in data.items() if k != "response_url"},
        reply_context=context, media=media_refs(data),
    )


def media_refs(data: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """Return the URL (and per-file aeskey, when given) of each image or file; the content is encrypted."""
    kind = str(data.get("msgtype") or "")
    part = data.get(kind) if isinstance(data.get(kind), dict) else {}
    items = [{"msgtype": kind, kind: part}] if kind in ("image", "file") else []
    if kind == "mixed":
        items = [i for i in part.get("msg_item") or [] if isinstance(i, dict)]
    refs = []
    for item in items:
        sub = str(item.get("msgtype") or "")
        body = item.get(sub) if isinstance(item.get(sub), dict) else {}
        if sub in ("image", "file") and isinstance(body.get("url"), str) and body["url"]:
            ref = {"url": body["url"]}
            if body.get("aeskey"):
                ref["aeskey"] = str(body["aeskey"])
            refs.append(ref)
    return tuple(refs)


def content(data: dict[str, Any]) -> tuple[str, str]:
    """Return (msgtype, text); voice arrives already transcribed (voice.content)."""
    kind = str(data.get("msgtype") or "")
    part = data.get(kind) if isinstance(data.get(kind), dict) else {}
    if kind in ("text", "voice"):
        text = str(part.get("content") or "").strip()
        return ("text", text) if text else ("unsupported", "")
    if kind == "mixed":
        items = part.get("msg_item") if isinstance(part.get("msg_item"), list) else []
        texts = [str(i.get("text", {}).get("content", "")) for i in items if isinstance(i, dict) and i.get("msgtype") == "text"]
        return ("text", " ".join(t for t in texts if t)) if any(texts) else ("image", "")
    if kind == "image":
        return "image", ""
    if kind == "file":
        return "file", ""
    if kind == "event":
        return "event", str(part.get("eventtype") or "")
    return "unsupported", ""
