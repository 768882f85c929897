"""What each delivery route allows: message size, rate and reply window, and how to split text."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class RouteSpec:
    """The limits of one way of delivering a message.

    Attributes:
        name: recorded in ``outbox.channel`` and ``send_log.channel``.
        text_bytes: UTF-8 byte limit of one text message (None: unlimited).
        markdown_bytes: byte limit of one markdown message.
        rate: (messages, seconds) allowed per rate key, or None.
        window: (hours, messages): only this many messages within that long
            after the person's last inbound message (customer service), or None.
    """

    name: str
    text_bytes: int | None = 2048
    markdown_bytes: int | None = 2048
    rate: tuple[int, int] | None = None
    window: tuple[int, int] | None = None

    def limit(self, fmt: str) -> int | None:
        """Return the byte limit for a format (a WeCom textcard description holds 512 bytes)."""
        if fmt == "textcard":
            return min(512, self.text_bytes or 512)
        return self.markdown_bytes if fmt == "markdown" else self.text_bytes


SIMULATOR = RouteSpec("simulator", None, None)
DINGTALK_WEBHOOK = RouteSpec("dingtalk_webhook", 15_000, 15_000, rate=(20, 60))
# msgParam is a JSON string of at most 15,000 bytes; leave room for the JSON around the text.
DINGTALK_GROUP = RouteSpec("dingtalk_group", 14_000, 14_000, rate=(20, 60))
DINGTALK_USER = RouteSpec("dingtalk_user", 14_000, 14_000)
# 工作通知: the same content reaches a person once a day, at most 500 a day per app.
DINGTALK_WORK_NOTICE = RouteSpec("dingtalk_work_notice", 2048, 2048)
WECOM_APP = RouteSpec("wecom_app", 2048, 2048, rate=(30, 60))
WECOM_SCHOOL = RouteSpec("wecom_school", 2048, 2048)
WECOM_KF = RouteSpec("wecom_kf", 2048, 2048, window=(48, 5))
# One welcome per enter_session event, through its one-use welcome_code.
WECOM_KF_WELCOME = RouteSpec("wecom_kf_welcome", 2048, 2048)
WECOM_WEBHOOK = RouteSpec("wecom_webhook", 2048, 4096, rate=(20, 60))
# A response_url answers once, within about an hour of the message.
WECOM_AIBOT = RouteSpec("wecom_aibot", 2048, 2048, window=(1, 1))
WECHAT_CUSTOM = RouteSpec("wechat", 2048, 2048, window=(48, 5))
# A template or subscribe message shows a summary and links to the whole text: one per message.
WECHAT_TEMPLATE = RouteSpec("wechat_template", None, None)
WECHAT_SUBSCRIBE = RouteSpec("wechat_subscribe", None, None)


def split_utf8(text: str, limit: int | None) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` UTF-8 bytes, never inside a character.

    Prefers to cut after a newline, then after Chinese or Latin sentence
    punctuation, in the second half of a chunk; the chunks join back to ``text``.
    """
    if limit is None or len(text.encode("utf-8")) <= limit:
        return [text] if text else [""]
    if limit < 4:
        raise ValueError("limit must hold at least one character (4 bytes)")
    chunks: list[str] = []
    rest = text
    while rest:
        cut = _cut(rest, limit)
        chunks.append(rest[:cut])
        rest = rest[cut:]
    return chunks


def _cut(text: str, limit: int) -> int:
    """Return how many characters of ``text`` fit in ``limit`` bytes, at a nice place if possible."""
    size = 0
    fit = 0
    for ch in text:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            break
        size += width
        fit += 1
    if fit == len(text):
        return fit
    for marks in ("\n", "。！？；!?;", "，、,. "):
        best = max(text.rfind(m, 0, fit) for m in marks)
        if best >= fit // 2:
            return best + 1
    return fit
