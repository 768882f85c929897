"""Map WeChat/WeCom errcodes and HTTP failures to the sender's typed exceptions."""

from __future__ import annotations

import requests
from wechatpy.exceptions import WeChatClientException

from bot.exceptions import PermanentSendError, SendError, TransientSendError, WindowClosedError

# Refresh the token and retry once (wechatpy does the refresh; we bound it to one).
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# System busy, frequency limits: try again later.
BUSY_ERRORS = frozenset({-1, 45009, 45011, 45033})
# The reply window is closed (customer service 48 h / 5 messages): use a fallback channel.
WINDOW_ERRORS = frozenset({45015, 45047, 95001})
# What an operator should read for codes a school meets (shown by flask outbox list).
EXPLAINED = {43101: "家长没有订阅（或已取消订阅）公众号的通知，超过48小时窗口的消息无法送达，请电话联系",
             47003: "模板字段与公众号后台的模板不一致或超长：请核对 wechat.template_fields"}


def from_errcode(code: int, message: str) -> SendError:
    """Return the exception for a platform errcode."""
    text = f"errcode {code}: {EXPLAINED[code]}（{message}）" if code in EXPLAINED else f"errcode {code}: {message}"
    if code in BUSY_ERRORS or code in TOKEN_ERRORS:
        return TransientSendError(text, str(code), retry_after=60)
    if code in WINDOW_ERRORS:
        return WindowClosedError(text, str(code))
    return PermanentSendError(text, str(code))


def from_http(status: int | None, message: str) -> SendError:
    """Return the exception for an HTTP failure (no status: the network)."""
    if status is None or status >= 500 or status in (408, 429):
        return TransientSendError(f"HTTP {status}: {message}", f"http_{status}" if status else "network")
    return PermanentSendError(f"HTTP {status}: {message}", f"http_{status}")


def translate(exc: Exception) -> SendError:
    """Return the typed exception for anything a wechatpy call raised."""
    if isinstance(exc, WeChatClientException):
        if exc.errcode is None:
            response = getattr(exc, "response", None)
            return from_http(getattr(response, "status_code", None), "request failed")
        return from_errcode(int(exc.errcode), str(exc.errmsg))
    if isinstance(exc, requests.RequestException):
        return TransientSendError(f"{type(exc).__name__}: {exc}"[:500], "network")
    if isinstance(exc, SendError):
        return exc
    return TransientSendError(f"{type(exc).__name__}: {exc}"[:500], "unexpected")
