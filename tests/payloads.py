"""Inbound payloads built the way DingTalk, WeCom and WeChat build them (real signatures, real AES)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import uuid
from typing import Any

import xmltodict
from wechatpy.crypto import WeChatCrypto as OACrypto
from wechatpy.enterprise.crypto import WeChatCrypto as CorpCrypto

SCHOOL = "t1"
AES_KEY = base64.b64encode(b"lianxin-test-aes-key-32-bytes!!!").decode().rstrip("=")
OTHER_AES_KEY = base64.b64encode(b"another-aes-key-of-32-bytes-xxxx").decode().rstrip("=")
DINGTALK_SECRET = "ding-app-secret-for-tests"
CORP_ID = "ww-test-corp"
APP_ID = "wx-test-appid"
TOKEN = "wecom-token"
WECHAT_TOKEN = "wechat-token"
ROBOT_CODE = "dingrobot"
OPEN_KFID = "wk-test-kf"

CREDENTIALS = {
    SCHOOL: {
        "dingtalk": {"app_key": "dingappkey", "app_secret": DINGTALK_SECRET, "robot_code": ROBOT_CODE},
        "wecom": {"corp_id": CORP_ID, "agent_id": "1000002", "token": TOKEN, "aes_key": AES_KEY, "secret": "s1"},
        "wecom_kf": {"secret": "kf-secret", "open_kfids": [OPEN_KFID]},
        "wecom_aibot": {"token": TOKEN, "aes_key": AES_KEY, "bot_id": "aib-test"},
        "wechat": {"app_id": APP_ID, "token": WECHAT_TOKEN, "secret": "s2", "aes_key": AES_KEY},
    },
    # Configured but absent from the database: answers 404 like an unknown code.
    "ghost": {"wechat": {"app_id": "wx-ghost", "token": "t", "secret": "s"}},
}


def ms(when: dt.datetime) -> int:
    """Return epoch milliseconds."""
    return int(when.timestamp() * 1000)


# --- DingTalk ---------------------------------------------------------------------------------

def dingtalk_sign(timestamp: str, secret: str = DINGTALK_SECRET) -> str:
    """Return base64(HMAC-SHA256(secret, timestamp + "\\n" + secret))."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk_body(now: dt.datetime, text: str = " 你好", *, group: bool = False, msg_id: str | None = None,
                  staff_id: str = "staff-001", sender_id: str = "$:LWCP_v1:$abc", nick: str = "张三",
                  msgtype: str = "text", conversation_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """Return a robot callback body as DingTalk sends it."""
    body: dict[str, Any] = {
        "conversationId": conversation_id or ("cidGROUP001==" if group else "cidDM-" + (staff_id or sender_id)),
        "atUsers": [{"dingtalkId": "$:LWCP_v1:$robot"}] if group else [],
        "chatbotCorpId": "dingcorp", "chatbotUserId": "$:LWCP_v1:$robot", "msgId": msg_id or f"msg{uuid.uuid4().hex}",
        "senderNick": nick, "isAdmin": False, "senderStaffId": staff_id,
        "sessionWebhookExpiredTime": ms(now) + 5_400_060, "createAt": ms(now), "senderCorpId": "dingcorp",
        "conversationType": "2" if group else "1", "senderId": sender_id,
        "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=abc",
        "robotCode": ROBOT_CODE, "msgtype": msgtype, "isInAtList": group,
    }
    if group:
        body["conversationTitle"] = "一年级一班家长群"
    if msgtype == "text":
        body["text"] = {"content": text}
    body.update(extra)
    return body


_DISTINCT_MS = itertools.count()


def dingtalk_request(body: dict[str, Any] | bytes, when: dt.datetime, secret: str = DINGTALK_SECRET,
                     sign: str | None = None) -> dict[str, Any]:
    """Return kwargs for ``client.post``: signed headers at ``when``.

    Each request gets its own millisecond, as DingTalk's callbacks do: a
    (timestamp, sign) pair carries one message only.
    """
    timestamp = str(ms(when) + next(_DISTINCT_MS))
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers = {"timestamp": timestamp, "sign": dingtalk_sign(timestamp, secret) if sign is None else sign}
    return {"data": data, "headers": headers, "content_type": "application/json"}


# --- WeChat family ---------------------------------------------------------------------------

def sha1_signature(*parts: str) -> str:
    """Return sha1(sorted parts joined)."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def encrypt(plaintext: str, receive_id: str, when: dt.datetime, *, token: str = TOKEN, aes_key: str = AES_KEY,
            oa: bool = False) -> tuple[str, dict[str, str]]:
    """Encrypt like the platform; return (Encrypt, query args with msg_signature)."""
    crypto = (OACrypto if oa else CorpCrypto)(token, aes_key, receive_id)
    nonce, timestamp = uuid.uuid4().hex[:10], str(int(when.timestamp()))
    out = xmltodict.parse(crypto.encrypt_message(plaintext, nonce, timestamp))["xml"]
    return out["Encrypt"], {"msg_signature": out["MsgSignature"], "timestamp": timestamp, "nonce": nonce}


def wecom_xml(fields: dict[str, Any]) -> str:
    """Render callback fields as WeChat-family XML."""
    inner = "".join(
        f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()
    )
    return f"<xml>{inner}</xml>"


def wecom_text(now: dt.datetime, content: str = "你好", *, user: str = "zhangsan", msg_id: int | None = None,
               msgtype: str = "text", **extra: Any) -> str:
    """Return a decrypted WeCom app message."""
    fields: dict[str, Any] = {"ToUserName": CORP_ID, "FromUserName": user, "CreateTime": int(now.timestamp()),
                              "MsgType": msgtype}
    if msgtype == "text":
        fields["Content"] = content
    fields.update(extra)
    fields["MsgId"] = msg_id if msg_id is not None else uuid.uuid4().int % 10**18
    fields["AgentID"] = 1000002
    return wecom_xml(fields)


def wecom_post(plaintext: str, when: dt.datetime, receive_id: str = CORP_ID, **kw: Any) -> dict[str, Any]:
    """Return kwargs for ``client.post`` of an encrypted WeCom callback."""
    enc, args = encrypt(plaintext, receive_id, when, **kw)
    body = f"<xml><ToUserName><![CDATA[{receive_id}]]></ToUserName><AgentID>1000002</AgentID>" \
           f"<Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    return {"query_string": args, "data": body.encode(), "content_type": "text/xml"}


def echostr_args(echo: str, when: dt.datetime, receive_id: str = CORP_ID, **kw: Any) -> dict[str, str]:
    """Return the query of a WeCom URL check whose echostr decrypts to ``echo``."""
    enc, args = encrypt(echo, receive_id, when, **kw)
    return {**args, "msg_signature": sha1_signature(kw.get("token", TOKEN), args["timestamp"], args["nonce"], enc),
            "echostr": enc}


def aibot_post(message: dict[str, Any], when: dt.datetime, **kw: Any) -> dict[str, Any]:
    """Return kwargs for an encrypted AI-bot JSON callback (receive id "")."""
    enc, args = encrypt(json.dumps(message, ensure_ascii=False), "", when, **kw)
    return {"query_string": args, "data": json.dumps({"encrypt": enc}).encode(), "content_type": "application/json"}


def aibot_text(content: str, *, group: bool = False, user: str = "lisi", msg_id: str | None = None) -> dict[str, Any]:
    """Return a decrypted AI-bot text message."""
    msg: dict[str, Any] = {
        "msgid": msg_id or uuid.uuid4().hex, "aibotid": "aib-test", "chattype": "group" if group else "single",
        "from": {"userid": user}, "response_url": "https://qyapi.weixin.qq.com/cgi-bin/aibot/response?code=x",
        "msgtype": "text", "text": {"content": content},
    }
    if group:
        msg["chatid"] = "wrkGROUP01"
    return msg


def oa_args(when: dt.datetime, token: str = WECHAT_TOKEN) -> dict[str, str]:
    """Return signature/timestamp/nonce of an OA request."""
    nonce, timestamp = uuid.uuid4().hex[:10], str(int(when.timestamp()))
    return {"signature": sha1_signature(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


def oa_message(now: dt.datetime, content: str = "你好", *, user: str = "oOPENID1", msg_id: int | None = None,
               msgtype: str = "text", **extra: Any) -> str:
    """Return an OA message as XML."""
    fields: dict[str, Any] = {"ToUserName": "gh_test", "FromUserName": user, "CreateTime": int(now.timestamp()),
                              "MsgType": msgtype}
    if msgtype == "text":
        fields["Content"] = content
    fields.update(extra)
    if msgtype != "event":
        fields["MsgId"] = msg_id if msg_id is not None else uuid.uuid4().int % 10**18
    return wecom_xml(fields)


def oa_safe_post(plaintext: str, when: dt.datetime) -> dict[str, Any]:
    """Return kwargs for a safe-mode OA POST."""
    enc, args = encrypt(plaintext, APP_ID, when, token=WECHAT_TOKEN, oa=True)
    query = {**oa_args(when), **args, "encrypt_type": "aes"}
    query["signature"] = sha1_signature(WECHAT_TOKEN, args["timestamp"], args["nonce"])
    body = f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    return {"query_string": query, "data": body.encode(), "content_type": "text/xml"}
