"""The WeChat-family XML message fields (WeCom app and Official Account): kind, media, dedupe key."""

from __future__ import annotations

from typing import Any


def classify(data: dict[str, Any]) -> tuple[str, str]:
    """Return (msgtype, text) for the WeChat-family XML fields (WeCom app and OA).

    Voice with speech recognition (``Recognition``) counts as text.
    """
    kind = str(data.get("MsgType") or "").lower()
    if kind == "text":
        return "text", str(data.get("Content") or "").strip()
    if kind == "voice":
        recognition = str(data.get("Recognition") or "").strip()
        return ("text", recognition) if recognition else ("voice", "")
    if kind == "image":
        return "image", ""
    if kind in ("file", "video", "shortvideo"):
        return "file", ""
    if kind == "event":
        return "event", str(data.get("Event") or "").lower()
    return "unsupported", ""


def media_refs(data: dict[str, Any], msgtype: str) -> tuple[dict[str, Any], ...]:
    """Return what to download for an image/file/video/voice message: its temporary ``MediaId`` (3 days)."""
    media_id = str(data.get("MediaId") or "").strip()
    if msgtype not in ("image", "file", "voice") or not media_id:
        return ()
    return ({"media_id": media_id, "name": str(data.get("FileName") or data.get("Title") or "")},)


def message_key(data: dict[str, Any]) -> str:
    """Return the dedupe key: MsgId, or FromUserName+CreateTime(+Event) for events."""
    if str(data.get("MsgType") or "").lower() != "event" and data.get("MsgId"):
        return str(data["MsgId"])
    return f"event:{data.get('FromUserName')}:{data.get('CreateTime')}:{str(data.get('Event') or '').lower()}"
