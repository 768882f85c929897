"""Reply intents shared by the ticket features (the lowest handler module: it imports no feature)."""

from __future__ import annotations

from bot.message import Reply
from models.ticket_notify import Notice


def notice_replies(notices: list[Notice]) -> list[Reply]:
    """Turn ticket notices into reply intents addressed to their recipients."""
    return [Reply(n.text, to=n.to, urgent=n.urgent, ref=n.ref) for n in notices]
