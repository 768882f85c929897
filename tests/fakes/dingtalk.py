"""Fake DingTalk server: api.dingtalk.com robot APIs and per-conversation sessionWebhooks."""

from __future__ import annotations

import itertools
from typing import Any

from werkzeug.wrappers import Response

from tests.fakes.server import Call, FakeServer

_keys = itertools.count(1)


class FakeDingTalk(FakeServer):
    """accessToken, oToMessages/batchSend (≤20 users), groupMessages/send (≤15,000 B), /session/<id>."""

    def __init__(self) -> None:
        super().__init__()
        # userIds batchSend reports as invalid (left, not visible) or flow-controlled.
        self.invalid_staff: set[str] = set()
        self.flow_controlled: set[str] = set()
        self.files: dict[str, bytes] = {}  # downloadCode → the file a user sent the robot
        self._file_keys: dict[str, str] = {}
        self.routes.update({
            "/v1.0/oauth2/accessToken": self.access_token,
            "/v1.0/robot/oToMessages/batchSend": self.authed(self.batch_send),
            "/v1.0/robot/groupMessages/send": self.authed(self.group_send),
            "/topapi/message/corpconversation/asyncsend_v2": self.work_notice,
            "/v1.0/robot/messageFiles/download": self.authed(self.file_download),
        })

    def webhook_url(self, conversation: str) -> str:
        """Return a sessionWebhook URL served by this fake."""
        path = f"/session/{conversation}"
        self.routes[path] = lambda call: self.reply({"errcode": 0, "errmsg": "ok"})
        return self.url + path

    def access_token(self, call: Call) -> Response:
        if not call.json.get("appKey") or not call.json.get("appSecret"):
            return self.reply({"code": "MissingAppKey", "message": "appKey is required"}, 400)
        return self.reply({"accessToken": self.issue_token(), "expireIn": 7200})

    def authed(self, handler: Any) -> Any:
        def check(call: Call) -> Response:
            if call.headers.get("X-Acs-Dingtalk-Access-Token") != self.token:
                return self.reply({"code": "InvalidAuthentication", "message": "不合法的access_token"}, 401)
            return handler(call)

        return check

    def batch_send(self, call: Call) -> Response:
        users = call.json.get("userIds") or []
        if not 0 < len(users) <= 20:
            return self.reply({"code": "invalidParameter.userIds.invalid", "message": "userIds 1-20"}, 400)
        return self.reply({"processQueryKey": f"q{next(_keys)}",
                           "invalidStaffIdList": [u for u in users if u in self.invalid_staff],
                           "flowControlledStaffIdList": [u for u in users if u in self.flow_controlled]})

    def add_file(self, download_code: str, data: bytes) -> None:
        """Let ``download_code`` (from a callback) be exchanged for a URL serving ``data``."""
        key = f"f{next(_keys)}"
        self.files[download_code] = data
        self.routes[f"/files/{key}"] = lambda call: Response(data, content_type="application/octet-stream")
        self._file_keys[download_code] = key

    def file_download(self, call: Call) -> Response:
        """robot/messageFiles/download: a downloadCode (and robotCode) for a short-lived downloadUrl."""
        code = str(call.json.get("downloadCode") or "")
        if not call.json.get("robotCode"):
            return self.reply({"code": "MissingrobotCode", "message": "robotCode is mandatory"}, 400)
        if code not in self._file_keys:
            return self.reply({"code": "invalidParameter.downloadCode.invalid", "message": "downloadCode无效"}, 400)
        return self.reply({"downloadUrl": f"{self.url}/files/{self._file_keys[code]}"})

    def work_notice(self, call: Call) -> Response:
        """oapi 工作通知: access_token in the query, errcode in the body (88 for a bad agent)."""
        if call.args.get("access_token") != self.token:
            return self.reply({"errcode": 40014, "errmsg": "不合法的access_token"})
        if str(call.json.get("agent_id")) != "2001":
            return self.reply({"errcode": 88, "errmsg": "ding talk error[subcode=40012,submsg=无效的agentid]"})
        return self.reply({"errcode": 0, "errmsg": "ok", "task_id": next(_keys), "request_id": "r1"})

    def group_send(self, call: Call) -> Response:
        if len(str(call.json.get("msgParam", "")).encode("utf-8")) > 15_000:
            return self.reply({"code": "invalidParameter.msgParam.length", "message": "too long"}, 400)
        return self.reply({"processQueryKey": f"q{next(_keys)}"})
