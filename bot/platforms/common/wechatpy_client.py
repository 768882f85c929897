"""What the WeCom and Official Account clients share: base URL, token fetch, bounded retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from wechatpy.exceptions import WeChatClientException

from bot.platforms.common.errors import TOKEN_ERRORS, translate


class ConfigurableClientMixin:
    """Mix into a wechatpy client: the token URL follows ``API_BASE_URL``; token errors retry once.

    wechatpy hard-codes the token URL, fetches it without a timeout, and on
    40001/40014/42001 refreshes and retries without bound; we fix all three.
    """

    TOKEN_PATH = ""
    API_BASE_URL: str
    _token_retried = False
    # Each client defines the query its token endpoint takes (corpid/corpsecret, appid/secret).
    _token_params: Callable[[], dict[str, str]]

    def fetch_access_token(self) -> dict[str, Any]:
        """Fetch a token from ``API_BASE_URL`` + ``TOKEN_PATH`` and store it (with the request timeout)."""
        res = self._http.get(self.API_BASE_URL + self.TOKEN_PATH, params=self._token_params(), timeout=self.timeout)
        try:
            res.raise_for_status()
        except requests.RequestException as exc:
            raise WeChatClientException(None, None, client=self, request=exc.request, response=exc.response) from exc
        result = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self, response=res)
        self.session.set(self.access_token_key, result["access_token"], int(result.get("expires_in", 7200)))
        self.expires_at = None  # the storage decides freshness, by the caller's clock
        return result

    def _handle_result(self, res: Any, method: Any = None, url: Any = None, result_processor: Any = None,
                       **kwargs: Any) -> Any:
        result = self._decode_result(res) if not isinstance(res, dict) else res
        if isinstance(result, dict) and _errcode(result) in TOKEN_ERRORS:
            # The first token error refreshes and retries; a second one is an error.
            self.auto_retry = not self._token_retried
            self._token_retried = True
        return super()._handle_result(res, method, url, result_processor, **kwargs)

    def call(self, endpoint: str, data: dict[str, Any], **params: Any) -> dict[str, Any]:
        """POST ``data`` to an endpoint; raise a ``SendError`` subclass on any failure."""
        self._token_retried, self.auto_retry = False, True
        try:
            kwargs: dict[str, Any] = {"data": data}
            if params:
                kwargs["params"] = dict(params)
            return self.post(endpoint, **kwargs)
        except Exception as exc:  # every failure becomes a typed send error
            raise translate(exc) from exc

    def upload_media(self, kind: str, filename: str, data: bytes, content_type: str) -> str:
        """Upload a temporary media file (``media/upload``, valid 3 days); return its ``media_id``."""
        self._token_retried, self.auto_retry = False, True
        try:
            result = self.post("media/upload", params={"type": kind},
                               files={"media": (filename, data, content_type)})
        except Exception as exc:  # every failure becomes a typed send error
            raise translate(exc) from exc
        media_id = str(result.get("media_id") or "")
        if not media_id:
            from bot.platforms.common.errors import from_errcode

            raise from_errcode(-1, "media/upload gave no media_id")
        return media_id

    def call_get(self, endpoint: str, **params: Any) -> dict[str, Any]:
        """GET an endpoint with query ``params``; raise a ``SendError`` subclass on any failure."""
        self._token_retried, self.auto_retry = False, True
        try:
            return self.get(endpoint, params=dict(params))  # wechatpy adds the token to this dict
        except Exception as exc:  # every failure becomes a typed send error
            raise translate(exc) from exc


def download_media(client: Any, media_id: str, max_bytes: int) -> tuple[bytes, str]:
    """Download a temporary media file (``media/get``, 3 days) with the token; return (bytes, file name).

    WeCom and the Official Account answer the file itself, or a JSON errcode
    (40007: the media_id is invalid or expired). A refused token is fetched
    again once.

    Raises:
        SendError: the platform's error, typed (``PermanentSendError`` 40007 for expired media).
        MediaRefused: ``too_big`` past ``max_bytes``.
    """
    from bot.platforms.common.downloads import file_name, is_json, read_capped
    from bot.platforms.common.errors import from_errcode

    for attempt in (0, 1):
        try:
            res = client._http.get(client.API_BASE_URL + "media/get", stream=True, timeout=client.timeout,
                                   params={"access_token": client.access_token, "media_id": media_id})
        except Exception as exc:  # network, token fetch: typed
            raise translate(exc) from exc
        if res.status_code >= 400:
            from bot.platforms.common.errors import from_http

            res.close()
            raise from_http(res.status_code, "media/get")
        if is_json(res):
            try:
                result = res.json()
            except ValueError:
                result = {"errcode": -1, "errmsg": "unreadable answer"}
            code = _errcode(result)
            if code in TOKEN_ERRORS and attempt == 0:
                client.session.delete(client.access_token_key)
                continue
            raise from_errcode(code or -1, str(result.get("errmsg") or ""))
        return read_capped(res, max_bytes), file_name(res)
    raise AssertionError("unreachable")


def _errcode(result: dict[str, Any]) -> int:
    try:
        return int(result.get("errcode") or 0)
    except (TypeError, ValueError):
        return 0
