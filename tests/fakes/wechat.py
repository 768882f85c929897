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


class FakeWeCom(_WeChatFamily):
    """qyapi.weixin.qq.com/cgi-bin: gettoken, message/send, 学校通知, kf, group robot, AI-bot response_url."""

    def __init__(self) -> None:
        super().__init__()
        self.kf_messages: list[dict[str, Any]] = []
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
            p + "kf/send_msg": self.authed(lambda c: self.reply({"errcode": 0, "errmsg": "ok",
                                                                 "msgid": f"kf{next(_ids)}"})),
            p + "kf/sync_msg": self.authed(self.sync_msg),
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

    def sync_msg(self, call: Call) -> Response:
        start = int(call.json.get("cursor") or 0)
        page = self.kf_messages[start:start + 1000]
        return self.reply({"errcode": 0, "errmsg": "ok", "next_cursor": str(start + len(page)),
                           "has_more": 0, "msg_list": page})

    def webhook(self, call: Call) -> Response:
        if not call.args.get("key"):
            return self.reply({"errcode": 93000, "errmsg": "invalid webhook url"})
        return self.reply({"errcode": 0, "errmsg": "ok"})


class FakeOfficialAccount(_WeChatFamily):
    """api.weixin.qq.com/cgi-bin: token, customer-service and template messages."""

    def __init__(self) -> None:
        super().__init__()
        p = "/cgi-bin/"
        self.routes.update({
            p + "token": self.token_endpoint,
            p + "message/custom/send": self.authed(self.ok()),
            p + "message/template/send": self.authed(lambda c: self.reply({"errcode": 0, "errmsg": "ok",
                                                                           "msgid": next(_ids)})),
        })
