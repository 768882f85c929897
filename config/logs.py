"""Structured (JSON) logs that never contain phone numbers or secrets."""

from __future__ import annotations

import json
import logging
import re
import sys

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
# Credential-like names followed by = or : (URL query strings quoted in HTTP errors, key: value pairs):
# corpsecret=, access_token=, sign=, a group robot's key=, a DingTalk sessionWebhook's session=.
_SECRET = re.compile(r"(?i)(secret|token|aes_?key|password|sign|key|session)(['\"]?\s*[:=]\s*['\"]?)([^\s'\",&)]+)")


def scrub(text: str) -> str:
    """Mask phone numbers and secret-looking values in a log line or a stored error."""
    text = _PHONE.sub(r"\1****\2", text)
    return _SECRET.sub(r"\1\2***", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (+ exception)."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for key in ("platform", "school_id", "event"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        if record.exc_info:
            payload["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False)


def setup_logging(level: str = "INFO") -> None:
    """Install the JSON formatter on the root logger once."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("jieba").setLevel(logging.WARNING)
