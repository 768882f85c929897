"""DingTalk (钉钉) robot API client: 1:1 batchSend, group send, sessionWebhook."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import requests

from bot.exceptions import PermanentSendError, SendError, TransientSendError, WindowClosedError
from bot.platforms.common.errors import from_errcode, from_http

TOKEN_PATH = "/v1.0/oauth2/accessToken"
# sessionWebhook errcodes worth retrying (sending too fast, system busy).
WEBHOOK_BUSY = frozenset({-1, 130101})
TOKEN_ERROR_CODES = frozenset({"InvalidAuthentication", "invalidAuthentication"})
MAX_BATCH = 20
# oapi errcodes for a bad or expired access_token.
OAPI_TOKEN_ERRORS = frozenset({40014, 42001, 40001})


def is_session_webhook(url: Any, prefixes: Iterable[str]) -> bool:
    """Tell whether a callback's sessionWebhook points where DingTalk's do (an allowlist of URL prefixes).

    Scheme, host and port must equal a prefix's exactly (no user info, no
    look-alike host) and the path must start with the prefix's path, so a
    forged callback cannot make the bot POST to an address of its choosing.
    """
    if not isinstance(url, str):
        return False
    try:
        given = urlsplit(url)
        port = given.port
    except ValueError:
        return False
    if given.username is not None or given.password is not None or not given.hostname:
        return False
    for prefix in prefixes:
        allowed = urlsplit(prefix if prefix.endswith("/") else prefix + "/")
        if ((given.scheme, given.hostname, port) == (allowed.scheme, allowed.hostname, allowed.port)
                and given.path.startswith(allowed.path)):
            return True
    return False


class DingTalkClient:
    """A small ``requests`` client for the robot APIs of one DingTalk app.

    Args:
        app_key: the app's AppKey (clientId).
        app_secret: the AppSecret.
        robot_code: the robot code (usually the AppKey).
        storage: token storage with ``get``/``set`` (the database cache).
        base_url: ``https://api.dingtalk.com`` (a fake server in tests).
        timeout: seconds per request.
    """

    def __init__(self, app_key: str, app_secret: str, robot_code: str, *, storage: Any, base_url: str,
                 timeout: float, http: requests.Session | None = None, oapi_url: str = "https://oapi.dingtalk.com"
                 ) -> None:
        self.app_key, self.app_secret, self.robot_code = app_key, app_secret, robot_code
        self.storage, self.base_url, self.timeout = storage, base_url.rstrip("/"), timeout
        self.oapi_url = oapi_url.rstrip("/")
        self.http = http or requests.Session()

    @property
    def token_key(self) -> str:
        return f"dingtalk:{self.app_key}"

    def access_token(self, refresh: bool = False) -> str:
        """Return the cached token, fetching a new one when missing, expired or rejected."""
        token = None if refresh else self.storage.get(self.token_key)
        if token:
            return token
        result = self._request("POST", TOKEN_PATH, {"appKey": self.app_key, "appSecret": self.app_secret}, None)
        self.storage.set(self.token_key, result["accessToken"], int(result.get("expireIn", 7200)))
        return result["accessToken"]

    def batch_send(self, user_ids: list[str], msg_key: str, msg_param: dict[str, Any]) -> dict[str, Any]:
        """Send one robot message to up to 20 users (``oToMessages/batchSend``)."""
        if not 0 < len(user_ids) <= MAX_BATCH:
            raise ValueError("batchSend takes 1 to 20 userIds")
        body = {"robotCode": self.robot_code, "userIds": user_ids, "msgKey": msg_key,
                "msgParam": json.dumps(msg_param, ensure_ascii=False)}
        return self._authed("/v1.0/robot/oToMessages/batchSend", body)

    def group_send(self, open_conversation_id: str, msg_key: str, msg_param: dict[str, Any]) -> dict[str, Any]:
        """Send a robot message to a group the robot is in (``groupMessages/send``)."""
        body = {"robotCode": self.robot_code, "openConversationId": open_conversation_id, "msgKey": msg_key,
                "msgParam": json.dumps(msg_param, ensure_ascii=False)}
        return self._authed("/v1.0/robot/groupMessages/send", body)

    def session_webhook(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        """Reply through a conversation's sessionWebhook (no token; lives 90 minutes).

        Raises:
            WindowClosedError: the webhook refused the message (expired, invalid): use the API.
        """
        result = self._send("POST", url, body, None)
        code = int(result.get("errcode") or 0)
        if code in WEBHOOK_BUSY:
            raise TransientSendError(f"sessionWebhook errcode {code}", str(code), retry_after=60)
        if code:
            raise WindowClosedError(f"sessionWebhook errcode {code}: {result.get('errmsg')}", str(code))
        return result

    def download_message_file(self, download_code: str, max_bytes: int) -> bytes:
        """Download a file a user sent the robot: exchange its ``downloadCode`` for a short-lived URL and read it.

        Raises:
            PermanentSendError: the code is invalid or expired (HTTP 4xx with the platform's code).
            MediaRefused: ``too_big`` past ``max_bytes``.
        """
        from bot.platforms.common.downloads import read_capped

        result = self._authed("/v1.0/robot/messageFiles/download",
                              {"downloadCode": download_code, "robotCode": self.robot_code})
        url = str(result.get("downloadUrl") or "")
        if not url:
            raise PermanentSendError("messageFiles/download gave no downloadUrl", "no_download_url")
        try:
            res = self.http.get(url, stream=True, timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransientSendError(f"{type(exc).__name__}: {exc}"[:500], "network") from exc
        if res.status_code >= 400:
            res.close()
            raise _http_error(res, {})
        return read_capped(res, max_bytes)

    def work_notice(self, agent_id: str, user_ids: list[str], text: str) -> dict[str, Any]:
        """Send a 工作通知 from the app to staff (``topapi/message/corpconversation/asyncsend_v2``).

        It reaches every member of the corp, unlike the robot (its visible
        range); the same content reaches a person once a day, at most 500 a day.
        """
        body = {"agent_id": int(agent_id), "userid_list": ",".join(user_ids),
                "msg": {"msgtype": "text", "text": {"content": text}}}
        for refresh in (False, True):
            url = f"{self.oapi_url}/topapi/message/corpconversation/asyncsend_v2"
            result = self.http_post(url, body, {"access_token": self.access_token(refresh=refresh)})
            code = int(result.get("errcode") or 0)
            if code in OAPI_TOKEN_ERRORS and not refresh:
                continue  # the token was refused: fetch a new one, once
            if code:
                raise from_errcode(code, str(result.get("errmsg") or ""))
            return result
        raise AssertionError("unreachable")

    def http_post(self, url: str, body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        """POST JSON to an oapi URL with query parameters; map network and HTTP errors."""
        return self._send("POST", url, body, None, params)

    def _authed(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._request("POST", path, body, self.access_token())
        except PermanentSendError as exc:
            if exc.code not in TOKEN_ERROR_CODES and exc.code != "http_401":
                raise
        return self._request("POST", path, body, self.access_token(refresh=True))  # retried once

    def _request(self, method: str, path: str, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        return self._send(method, self.base_url + path, body, token)

    def _send(self, method: str, url: str, body: dict[str, Any], token: str | None,
              params: dict[str, str] | None = None) -> dict[str, Any]:
        headers = {"x-acs-dingtalk-access-token": token} if token else {}
        try:
            res = self.http.request(method, url, json=body, params=params, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransientSendError(f"{type(exc).__name__}: {exc}"[:500], "network") from exc
        try:
            result = res.json()
        except ValueError:
            result = {}
        if res.status_code >= 400:
            raise _http_error(res, result)
        return result if isinstance(result, dict) else {}


def _http_error(res: requests.Response, result: dict[str, Any]) -> SendError:
    """Map a DingTalk HTTP error: 429/5xx transient, other 4xx permanent with the body's code."""
    code = str(result.get("code") or "") or None
    message = str(result.get("message") or res.text[:200])
    if res.status_code == 429 or res.status_code >= 500:
        retry_after = res.headers.get("Retry-After")
        return TransientSendError(f"HTTP {res.status_code}: {message}", code or f"http_{res.status_code}",
                                  retry_after=float(retry_after) if retry_after and retry_after.isdecimal() else 60)
    if code:
        return PermanentSendError(f"HTTP {res.status_code} {code}: {message}", code)
    return from_http(res.status_code, message)
