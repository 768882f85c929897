"""WeCom 智能机器人 (AI bot) delivery: the one-use response_url, then the group robot, the app, or waiting.

The AI bot can only answer through the ``response_url`` of a message it was
sent (one call, about an hour). So:

- several rows answering the same message share one call (joined, ≤ 2048 bytes);
- a group row whose url is used or stale goes through that group's own robot
  (registered in the group with 设置群机器人), and, when the group has none,
  privately to every bound family of the class (never to another group);
- a private row without a url (a private reply to someone who wrote in a group)
  goes through the self-built app when the person is staff (a corp member the
  app reaches); anyone else's row *waits* (``AwaitContact``) until they write
  to the bot privately — ``bot/platforms/wecom_aibot/webhook.py`` then hands the new url to the
  waiting rows (``models.outbox.release_awaiting``) — and fails with a clear
  reason after ``AWAIT_PRIVATE``. Private details never go to the group; the
  group answer that @-mentions such a person gets ``HINT`` appended.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.exceptions import AwaitContact, PermanentSendError, SendError, TransientSendError
from bot.outbound import limits
from bot.outbound.sender import Route
from bot.platforms.wecom_app.channel import WeComBase, plain
from models import groups, outbox
from models.identity import Identity
from models.outbox import OutboxMessage, OutboxStatus

PLATFORM = "wecom_aibot"
# A response_url is good for about an hour; stop using it a little before.
RESPONSE_URL_TTL = dt.timedelta(minutes=55)
# How long a private message waits for the person to write to the bot privately.
AWAIT_PRIVATE = dt.timedelta(days=3)
WAIT = limits.RouteSpec("wecom_aibot_wait", None, None)
# A group row that went to every family of the class privately (no route into the group).
FAMILIES = limits.RouteSpec("families", None, None)
HINT = "\n（详情会私信发给您：请点开我的头像，私聊我任意一句话即可收到。）"
NEVER_WROTE = "对方 3 天内没有私聊智能机器人，私信无法送达（详情不会发到群里），请电话联系"


def fresh_url(row: OutboxMessage, now: dt.datetime) -> str | None:
    """Return the row's response_url while it is still usable."""
    url = (row.context or {}).get("response_url")
    return str(url) if url and now - url_time(row) < RESPONSE_URL_TTL else None


def url_time(row: OutboxMessage) -> dt.datetime:
    """Return when the row's response_url arrived (a released row keeps it in its context)."""
    try:
        return dt.datetime.fromtimestamp(int((row.context or {})["response_url_at"]), dt.UTC)
    except (KeyError, TypeError, ValueError):
        return row.created_at


def url_key(url: str) -> str:
    """Return the send_log key of a response_url (it answers once)."""
    return "resp:" + hashlib.sha1(url.encode()).hexdigest()


class WeComAiBotChannel(WeComBase):
    """``wecom_aibot``: answers on the response_url; fallbacks as the module says."""

    max_batch = 20
    batch_distinct_addresses = False  # rows are joined into one text

    def routes(self, session: Session, row: OutboxMessage, now: dt.datetime) -> list[Route]:
        """response_url while fresh and unused, then the group robot, the app (staff) or waiting."""
        routes: list[Route] = []
        url = fresh_url(row, now)
        hint = HINT if self._others_wait(session, row) else ""

        def text(chunk: str) -> str:
            last = row.sent_chars + len(chunk) >= len(row.text)
            return plain(row.title, chunk) + (hint if last else "")

        if url:
            client = self.wecom(session, "", "", now)
            routes.append(Route(limits.WECOM_AIBOT, key=url_key(url), opened_at=url_time(row),
                                deliver=lambda chunk: client.post_url(url, _body(text(chunk)))))
        try:
            delivery = self.school(session, row)
        except PermanentSendError:
            if routes:
                return routes
            raise
        if row.recipient_kind == "group":
            route = self.webhook_route(session, row, now)
            routes.append(route if route is not None else self._families_route(session, row, now))
        elif delivery.creds.wecom is not None and _is_staff(session, row.identity_id):
            routes.append(self.app_route(session, row, delivery, row.address, now))
        else:
            routes.append(Route(WAIT, key=row.address, deliver=lambda chunk: _wait(row, now)))
        if not routes:
            raise PermanentSendError("智能机器人的回复地址已过期，且没有可用的替代渠道", "no_route")
        return routes

    # -- rows answering one message share its response_url (bot/outbound/batching.py) --
    def batch_key(self, session: Session, row: OutboxMessage, now: dt.datetime) -> str | None:
        """Rows with the same fresh response_url, whole and short enough to join."""
        url = fresh_url(row, now)
        if url is None or row.sent_chars or len(row.text.encode("utf-8")) > (limits.WECOM_AIBOT.text_bytes or 0):
            return None
        return url

    def batch_rate_key(self, row: OutboxMessage) -> str:
        return url_key(str((row.context or {}).get("response_url")))

    def send_batch(self, session: Session, rows: list[OutboxMessage],
                   now: dt.datetime) -> tuple[limits.RouteSpec, dict[int, SendError | None]]:
        """Join the rows (in order) into the url's one answer; rows that don't fit wait or retry."""
        url = fresh_url(rows[0], now) or ""
        parts: list[str] = []
        outcomes: dict[int, SendError | None] = {}
        limit = limits.WECOM_AIBOT.text_bytes or 0
        for row in sorted(rows, key=lambda r: r.id):
            part = plain(row.title, row.text) + (HINT if self._others_wait(session, row) else "")
            if len("\n\n".join([*parts, part]).encode("utf-8")) <= limit:
                parts.append(part)
                outcomes[row.id] = None
            elif row.recipient_kind == "group":  # the group robot will take it
                outcomes[row.id] = TransientSendError("response_url 已用于同一消息的其他回复", "url_shared", 0)
            else:
                outcomes[row.id] = AwaitContact("等待对方再次私聊机器人", row.created_at + AWAIT_PRIVATE)
        self.wecom(session, "", "", now).post_url(url, _body("\n\n".join(parts)))
        return limits.WECOM_AIBOT, outcomes

    @staticmethod
    def _families_route(session: Session, row: OutboxMessage, now: dt.datetime) -> Route:
        """A group the bot cannot post to (no fresh url, no robot of its own): each family privately instead."""
        def deliver(chunk: str) -> None:
            if not row.sent_chars:  # the whole text, once, however the route splits it
                outbox.fan_out(session, row, groups.family_recipients(session, row.school_id, row.address), now)

        return Route(FAMILIES, key=row.address, deliver=deliver)

    @staticmethod
    def _others_wait(session: Session, row: OutboxMessage) -> bool:
        """Whether a group answer @-mentions someone whose private copy must wait for them."""
        mention = (row.context or {}).get("mention")
        if row.recipient_kind != "group" or not mention:
            return False
        private = session.scalars(select(OutboxMessage).where(
            OutboxMessage.platform == PLATFORM, OutboxMessage.recipient_kind == "user",
            OutboxMessage.school_id == row.school_id, OutboxMessage.address == str(mention),
            OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
            OutboxMessage.created_at >= row.created_at,
        )).all()
        return any(not (p.context or {}).get("response_url") and not _is_staff(session, p.identity_id)
                   for p in private)


def _is_staff(session: Session, identity_id: int | None) -> bool:
    """Staff are corp members the self-built app reaches (bound to a staff record)."""
    if identity_id is None:
        return False
    return session.scalar(select(Identity.staff_id).where(Identity.id == identity_id)) is not None


def _wait(row: OutboxMessage, now: dt.datetime) -> Any:
    until = row.created_at + AWAIT_PRIVATE
    if now >= until:
        raise PermanentSendError(NEVER_WROTE, "no_private_chat")
    raise AwaitContact("等待对方私聊机器人后用其回复地址发送", until)


def _body(text: str) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": text}}
