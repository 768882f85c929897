"""Fake WeCom (qyapi) and Official Account (api.weixin) servers: same errcode conventions."""

from __future__ import annotations

import itertools
from typing import Any

from werkzeug.wrappers import Response

from tests.fakes.server import Call, FakeServer

_ids = itertools.count(1000)


class _WeChatFamily(FakeServer):
    """Token in the query string; 40014 for an unknown token, 42001 for an expired one."""

    def authed(self, handler: Any) -> Any:
        def check(call: Call) -> Response:
            token = call.args.get("access_token", "")
            if not self.token or token != self.token:
                code = 42001 if token and self.token.startswith("expired-") else 40014
                return self.reply({"errcode": code, "errmsg": "access_token invalid or expired"})
            return handler(call)

        return check

    def ok(self, **extra: Any) -> Any:
        return lambda call: self.reply({"errcode": 0, "errmsg": "ok", **extra})

    def token_endpoint(self, call: Call) -> Response:
        return self.reply({"errcode": 0, "errmsg": "ok", "access_token": self.issue_token(), "expires_in": 7200})

    def media_upload(self, call: Call) -> Response:
        """media/upload (multipart, field ``media``): a media_id valid 3 days; 40005 for a bad type."""
        kind = call.args.get("type", "")
        if kind not in ("image", "voice", "video", "file"):
            return self.reply({"errcode": 40005, "errmsg": "invalid file type"})
        media_id = f"UP{next(_ids)}"
        self.uploads.append((kind, media_id))
        return self.reply({"errcode": 0, "errmsg": "", "type": kind, "media_id": media_id, "created_at": "1380000000"})

    # -- temporary media (media/get, valid 3 days; 40007 once expired or unknown) -------------------
    def add_media(self, media_id: str, data: bytes, filename: str = "", content_type: str = "image/jpeg") -> None:
        """Serve ``data`` as the temporary media ``media_id``."""
        self.media[media_id] = (data, filename or f"{media_id}.jpg", content_type)
        self.routes["/cgi-bin/media/get"] = self.authed(self.media_get)

    def media_get(self, call: Call) -> Response:
        found = self.media.get(call.args.get("media_id", ""))
        if found is None:
            return self.reply({"errcode": 40007, "errmsg": "invalid media_id"})
        data, filename, content_type = found
        from urllib.parse import quote

        return Response(data, content_type=content_type,
                        headers={"Content-disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


class FakeWeCom(_WeChatFamily):
    """qyapi.weixin.qq.com/cgi-bin: gettoken, message/send, 学校通知, kf, group robot, AI-bot response_url."""

    def __init__(self) -> None:
        super().__init__()
        self.media: dict[str, tuple[bytes, str, str]] = {}
        self.uploads: list[tuple[str, str]] = []
        self.kf_messages: list[dict[str, Any]] = []
        self.used_codes: set[str] = set()
        # 家校通讯录: departments, and students per class department id.
        self.school_departments: list[dict[str, Any]] = []
        self.school_students: dict[int, list[dict[str, Any]]] = {}
        # 「家长可使用的应用」 scope of the app (school/agent/get_allow_scope); kf accounts.
        self.allow_scope: dict[str, Any] = {"students": {"userid": []}, "departments": {"partyid": [1]}}
        self.kf_accounts: list[str] = ["wkKF1"]
        p = "/cgi-bin/"
        self.routes.update({
            p + "gettoken": self.token_endpoint,
            p + "message/send": self.authed(self.ok(invaliduser="", msgid="m1")),
            p + "externalcontact/message/send": self.authed(self.ok(invalid_parent_userid=[])),
            p + "media/upload": self.authed(self.media_upload),
            p + "kf/send_msg": self.authed(lambda c: self.reply({"errcode": 0, "errmsg": "ok",
                                                                 "msgid": f"kf{next(_ids)}"})),
            p + "kf/sync_msg": self.authed(self.sync_msg),
            p + "kf/send_msg_on_event": self.authed(self.welcome),
            p + "webhook/send": self.webhook,
            "/aibot/response": self.ok(),
            p + "school/department/list": self.authed(lambda c: self.reply(
                {"errcode": 0, "errmsg": "ok", "departments": self.school_departments})),
            p + "school/user/list": self.authed(lambda c: self.reply(
                {"errcode": 0, "errmsg": "ok", "students": self.school_students.get(int(c.args["department_id"]), [])})),
            p + "school/agent/get_allow_scope": self.authed(lambda c: self.reply(
                {"errcode": 0, "errmsg": "ok", "allow_scope": self.allow_scope})),
            p + "agent/get": self.authed(lambda c: self.reply(
                {"errcode": 0, "errmsg": "ok", "agentid": int(c.args.get("agentid") or 0), "name": "连心"})),
            p + "kf/account/list": self.authed(lambda c: self.reply(
                {"errcode": 0, "errmsg": "ok", "account_list": [{"open_kfid": k, "name": "学校客服"}
                                                               for k in self.kf_accounts]})),
        })

    def welcome(self, call: Call) -> Response:
        """A welcome_code works once; a used one is refused with an errcode."""
        code = str(call.json.get("code") or "")
        if not code or code in self.used_codes:
            return self.reply({"errcode": 95010, "errmsg": "invalid welcome code"})
        self.used_codes.add(code)
        return self.reply({"errcode": 0, "errmsg": "ok", "msgid": f"kfw{next(_ids)}"})

    def sync_msg(self, call: Call) -> Response:
        start = int(call.json.get("cursor") or 0)
        page = self.kf_messages[start:start + 1000]
        return self.reply({"errcode": 0, "errmsg": "ok", "next_cursor": str(start + len(page)),
                           "has_more": 0, "msg_list": page})

    def add_aibot_file(self, key: str, encrypted: bytes) -> str:
        """Serve an AI-bot media file (already encrypted) at a short-lived URL; return the URL."""
        self.routes[f"/aibot/file/{key}"] = lambda call: Response(encrypted, content_type="application/octet-stream")
        return f"{self.url}/aibot/file/{key}"

    def webhook(self, call: Call) -> Response:
        if not call.args.get("key"):
            return self.reply({"errcode": 93000, "errmsg": "invalid webhook url"})
        return self.reply({"errcode": 0, "errmsg": "ok"})


class FakeOfficialAccount(_WeChatFamily):
    """api.weixin.qq.com/cgi-bin: token, customer-service, template and subscribe messages.

    Templates are checked as the platform does since 2023: only the template's
    own keys, ``thing`` values of at most 20 characters (47003 otherwise), an
    unknown template id is 40037, and a subscribe message to someone who did
    not subscribe is 43101.
    """

    def __init__(self) -> None:
        super().__init__()
        # template id → its keys (what the OA console shows for a 类目模板 / 订阅通知 template)
        self.templates: dict[str, tuple[str, ...]] = {"TPL1": ("thing1", "thing2", "time3"),
                                                      "SUB1": ("thing1", "thing2", "time3")}
        self.unsubscribed: set[str] = set()
        self.media: dict[str, tuple[bytes, str, str]] = {}
        self.uploads: list[tuple[str, str]] = []
        p = "/cgi-bin/"
        self.routes.update({
            p + "token": self.token_endpoint,
            p + "message/custom/send": self.authed(self.ok()),
            p + "media/upload": self.authed(self.media_upload),
            p + "message/template/send": self.authed(self.template),
            p + "message/subscribe/bizsend": self.authed(self.subscribe),
        })

    def _invalid(self, call: Call) -> Response | None:
        keys = self.templates.get(str(call.json.get("template_id")))
        if keys is None:
            return self.reply({"errcode": 40037, "errmsg": "invalid template_id"})
        data = call.json.get("data") or {}
        for key, field in data.items():
            value = str((field or {}).get("value", ""))
            if key not in keys or not value or (key.startswith("thing") and len(value) > 20):
                return self.reply({"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value invalid"})
        return None

    def template(self, call: Call) -> Response:
        return self._invalid(call) or self.reply({"errcode": 0, "errmsg": "ok", "msgid": next(_ids)})

    def subscribe(self, call: Call) -> Response:
        if call.json.get("touser") in self.unsubscribed:
            return self.reply({"errcode": 43101, "errmsg": "user refuse to accept the msg"})
        return self._invalid(call) or self.reply({"errcode": 0, "errmsg": "ok"})
