"""DingTalk delivery: the conversation's sessionWebhook while it lives, else the robot APIs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from bot import limits
from bot.channel_base import PlatformChannel
from bot.exceptions import PermanentSendError
from bot.sender import Route
from models.outbox import OutboxMessage

PLATFORM = "dingtalk"
# Don't start a send on a webhook that dies within this margin.
WEBHOOK_MARGIN = dt.timedelta(seconds=60)


def webhook_body(fmt: str, title: str | None, text: str) -> dict[str, Any]:
    """Return a sessionWebhook message."""
    if fmt == "markdown":
        return {"msgtype": "markdown", "markdown": {"title": title or text[:20], "text": text}}
    return {"msgtype": "text", "text": {"content": f"【{title}】\n{text}" if title else text}}


def robot_message(fmt: str, title: str | None, text: str) -> tuple[str, dict[str, Any]]:
    """Return (msgKey, msgParam) for the robot APIs."""
    if fmt == "markdown":
        return "sampleMarkdown", {"title": title or text[:20], "text": text}
    return "sampleText", {"content": f"【{title}】\n{text}" if title else text}


class DingTalkChannel(PlatformChannel):
    """Deliver ``dingtalk`` rows (class groups and private chats)."""

    def routes(self, session: Session, row: OutboxMessage, now: dt.datetime) -> list[Route]:
        """Prefer the live sessionWebhook; then groupMessages/send or oToMessages/batchSend."""
        ctx = row.context or {}
        routes: list[Route] = []
        url = ctx.get("session_webhook")
        same_chat = row.recipient_kind == "group" or str(ctx.get("conversation_type", "1")) == "1"
        if url and same_chat and _alive(ctx.get("session_webhook_expires_at"), now):
            client = self._webhook_client()
            routes.append(Route(limits.DINGTALK_WEBHOOK, key=row.address, deliver=lambda chunk: client.session_webhook(
                url, webhook_body(row.fmt, row.title, chunk))))
        try:
            delivery = self.school(session, row)
            client = self.dingtalk(session, delivery, now)
        except PermanentSendError:
            if routes:
                return routes  # the webhook alone can still answer
            raise
        if row.recipient_kind == "group":
            routes.append(Route(limits.DINGTALK_GROUP, key=row.address,
                                deliver=lambda chunk: client.group_send(row.address, *robot_message(
                                    row.fmt, row.title, chunk))))
        else:
            routes.append(Route(limits.DINGTALK_USER, key=row.address,
                                deliver=lambda chunk: client.batch_send([row.address], *robot_message(
                                    row.fmt, row.title, chunk))))
        return routes

    def _webhook_client(self) -> Any:
        from bot.clients.dingtalk import DingTalkClient

        return DingTalkClient("", "", "", storage=None, base_url=self.api.dingtalk_api,
                              timeout=self.api.timeout_seconds)


def _alive(expires_ms: Any, now: dt.datetime) -> bool:
    """Return whether a sessionWebhook expiring at ``expires_ms`` (epoch ms) is still usable."""
    try:
        expires = dt.datetime.fromtimestamp(int(expires_ms) / 1000, dt.UTC)
    except (TypeError, ValueError):
        return False
    return expires - WEBHOOK_MARGIN > now
