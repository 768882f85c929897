"""WeCom self-built app callback (staff write to the app; apps get no group messages).

GET is the URL check (echo the decrypted echostr exactly); POST carries
``<xml><ToUserName/><AgentID/><Encrypt/></xml>`` whose plaintext is the
message. WeCom retries when it gets no answer in 5 s (3 tries), so we store,
commit and answer an empty 200 at once and send replies afterwards.
A 微信客服 ``kf_msg_or_event`` may arrive here when the app manages kf, and
a 家校通讯录 ``change_school_contact`` event (bot/platforms/wecom_app/contacts.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from wechatpy.enterprise import parse_message

from bot.message import InboundMessage
from bot.platforms.common import webhook, wxcrypto
from bot.platforms.common.wxmessage import classify, media_refs, message_key
from bot.platforms.wecom_app import contacts as school_contacts
from bot.platforms.wecom_kf import webhook as wecom_kf

PLATFORM = "wecom_app"

bp = Blueprint("wecom_app", __name__)
webhook.install_errors(bp)


@bp.get("/wecom/<school_code>/app")
def verify_url(school_code: str) -> str:
    """Answer the URL check with the plaintext echostr."""
    _, creds = webhook.school(school_code, "wecom")
    return wxcrypto.echo(creds.token, creds.aes_key, creds.corp_id, request.args, webhook.ext().now())


@bp.post("/wecom/<school_code>/app")
def callback(school_code: str):
    """Receive one message or event."""
    school_id, creds = webhook.school(school_code, "wecom")
    plain, data = wxcrypto.decrypt_xml(creds.token, creds.aes_key, creds.corp_id, webhook.body(), request.args,
                                       webhook.ext().now())
    if wecom_kf.is_kf_event(data):
        return wecom_kf.notified(school_code, school_id, data)
    if school_contacts.is_contact_event(data):  # 家校通讯录 changed: read it again after the answer
        return school_contacts.notified(school_code, school_id, data)
    return webhook.deliver([to_message(plain, data, school_id)], "")


def to_message(plain: str, data: dict[str, Any], school_id: int) -> InboundMessage:
    """Normalise a decrypted app message or event (wechatpy's typed message plus the raw fields)."""
    with wxcrypto.crypto_errors():
        parsed = parse_message(plain)
    sender = str(getattr(parsed, "source", "") or "")
    if not sender:
        raise webhook.Reject(400, "no FromUserName")
    msgtype, text = classify(data)
    now = webhook.ext().now()
    return InboundMessage(
        platform=PLATFORM,
        school_id=school_id,
        msg_id=message_key(data),
        conversation_id=sender,
        is_group=False,
        sender_id=sender,
        text=text,
        sent_at=webhook.from_epoch(data.get("CreateTime"), now),
        msgtype=msgtype,
        raw={k: v for k, v in data.items() if isinstance(v, str | int | None)},
        reply_context={"agent_id": str(data.get("AgentID") or "")},
        media=media_refs(data, msgtype),
    )
