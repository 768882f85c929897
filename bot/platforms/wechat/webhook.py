"""WeChat Official Account (公众号) callback: plain, compatible and safe mode.

GET is the server check: ``signature = sha1(sorted(token, timestamp, nonce))``,
answer echostr as is (never encrypted). POSTs carry the same signature; in
safe mode also ``encrypt_type=aes&msg_signature`` and an ``<Encrypt>`` body
(receive id = AppID). The plain signature does not cover the body, so once a
school configures its EncodingAESKey (兼容 or 安全 mode) a plaintext POST is
refused: only ``msg_signature`` over the ciphertext is trusted. WeChat waits 5 s and retries 3 times, and shows users
"该公众号暂时无法提供服务" on errors, so we store, commit and answer
``success`` at once; replies go through the customer-service API afterwards.
"""

from __future__ import annotations

from flask import Blueprint, request
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from bot.message import InboundMessage
from bot.platforms.common import webhook, wxcrypto
from bot.platforms.common.webhook import Reject
from bot.platforms.common.wxmessage import classify, media_refs, message_key

PLATFORM = "wechat"

bp = Blueprint("wechat", __name__)
webhook.install_errors(bp)


@bp.get("/wechat/<school_code>")
def verify_url(school_code: str) -> str:
    """Answer the server check with echostr."""
    _, creds = webhook.school(school_code, PLATFORM)
    args = request.args
    wxcrypto.verify(creds.token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""),
                    webhook.ext().now())
    return args.get("echostr", "")


@bp.post("/wechat/<school_code>")
def callback(school_code: str):
    """Receive one message or event."""
    school_id, creds = webhook.school(school_code, PLATFORM)
    body, args, now = webhook.body(), request.args, webhook.ext().now()
    wxcrypto.verify(creds.token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""), now)
    if args.get("encrypt_type", "raw") == "aes":
        if not creds.aes_key:
            raise Reject(403, "safe mode but no EncodingAESKey configured")
        plain, _ = wxcrypto.decrypt_xml(creds.token, creds.aes_key, creds.app_id, body, args, now, WeChatCrypto)
    elif creds.aes_key:
        # The plain signature covers only (token, timestamp, nonce): with a key configured the
        # school runs 兼容/安全 mode, and a plaintext body could be anyone's.
        raise Reject(403, "plaintext refused: an EncodingAESKey is configured (safe/compatible mode)")
    else:
        plain = body.decode("utf-8", errors="replace")
    return webhook.deliver([to_message(plain, school_id)], "success")


def to_message(plain: str, school_id: int) -> InboundMessage:
    """Normalise a (decrypted) OA message or event."""
    data = wxcrypto.parse_xml(plain)
    with wxcrypto.crypto_errors():
        parsed = parse_message(plain)
    sender = str(getattr(parsed, "source", "") or "")
    if not sender:
        raise Reject(400, "no FromUserName")
    msgtype, text = classify(data)
    return InboundMessage(
        platform=PLATFORM, school_id=school_id, msg_id=message_key(data), conversation_id=sender, is_group=False,
        sender_id=sender, text=text, sent_at=webhook.from_epoch(data.get("CreateTime"), webhook.ext().now()),
        msgtype=msgtype, raw={k: v for k, v in data.items() if isinstance(v, str | int | None)},
        media=media_refs(data, msgtype),
    )
