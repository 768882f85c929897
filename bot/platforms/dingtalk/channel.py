"""DingTalk delivery: the conversation's sessionWebhook while it lives, else the robot APIs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.exceptions import PermanentSendError, SendError, TransientSendError, WindowClosedError
from bot.outbound import limits
from bot.outbound.sender import Route
from bot.platforms.common.channel import PlatformChannel, SchoolDelivery
from bot.platforms.common.tokens import DBTokenStorage
from bot.platforms.dingtalk.client import MAX_BATCH, DingTalkClient, is_session_webhook
from models.identity import Identity
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


def attachment_markdown(row: OutboxMessage) -> str | None:
    """Return a notice attachment as markdown: the picture itself (DingTalk fetches the signed link) and the link."""
    ctx = row.context or {}
    url = ctx.get("attachment_url")
    if not url:
        return None
    picture = f"![附件]({url}/file)\n\n" if ctx.get("attachment_kind") == "image" else ""
    return f"#### {row.title or '附件'}\n\n{picture}{row.text.replace(chr(10), chr(10) + chr(10))}"


class DingTalkChannel(PlatformChannel):
    """Deliver ``dingtalk`` rows (class groups and private chats)."""

    def dingtalk(self, session: Session, delivery: SchoolDelivery, now: dt.datetime) -> DingTalkClient:
        """Return the school's DingTalk client (token in the database)."""
        creds = delivery.creds.dingtalk
        if creds is None:
            raise PermanentSendError("学校没有配置钉钉应用", "no_credentials")
        return DingTalkClient(creds.app_key, creds.app_secret, creds.robot_code,
                              storage=DBTokenStorage(session, lambda: now),
                              base_url=self.api.dingtalk_api, timeout=self.api.timeout_seconds,
                              oapi_url=self.api.dingtalk_oapi)

    def routes(self, session: Session, row: OutboxMessage, now: dt.datetime) -> list[Route]:
        """Prefer the live sessionWebhook; then groupMessages/send or oToMessages/batchSend."""
        markdown = attachment_markdown(row)
        if markdown is not None:  # a notice's picture or file: markdown with the picture and its link
            return self._routes(session, row, now, "markdown", lambda chunk: markdown)
        return self._routes(session, row, now, row.fmt, lambda chunk: chunk)

    def _routes(self, session: Session, row: OutboxMessage, now: dt.datetime, fmt: str,
                body: Callable[[str], str]) -> list[Route]:
        ctx = row.context or {}
        routes: list[Route] = []
        url = ctx.get("session_webhook")
        if url and not is_session_webhook(url, self.api.dingtalk_webhook_prefixes):
            url = None  # stored before the allowlist, or forged: never fetched
        same_chat = row.recipient_kind == "group" or str(ctx.get("conversation_type", "1")) == "1"
        if url and same_chat and _alive(ctx.get("session_webhook_expires_at"), now):
            client = self._webhook_client()
            routes.append(Route(limits.DINGTALK_WEBHOOK, key=row.address, deliver=lambda chunk: client.session_webhook(
                url, webhook_body(fmt, row.title, body(chunk)))))
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
                                    fmt, row.title, body(chunk)))))
        else:
            fallback = self._work_notice(session, row, delivery, client)

            def deliver(chunk: str) -> None:
                answer = client.batch_send([row.address], *robot_message(fmt, row.title, body(chunk)))
                problem = batch_outcomes(answer, [row.address]).get(row.address)
                if problem is not None and fallback is not None and problem.code == "invalid_staff_id":
                    raise WindowClosedError(str(problem), "robot_unreachable")  # the work notice comes next
                if problem is not None:
                    raise problem

            routes.append(Route(limits.DINGTALK_USER, key=row.address, deliver=deliver))
            if fallback is not None:
                routes.append(fallback)
        return routes

    @staticmethod
    def _work_notice(session: Session, row: OutboxMessage, delivery: Any, client: Any) -> Route | None:
        """A 工作通知 from the app to a staff member the robot cannot reach (the app's ``agent_id`` is set)."""
        agent_id = delivery.creds.dingtalk.agent_id if delivery.creds.dingtalk is not None else ""
        if not agent_id or not _is_staff(session, row):
            return None
        return Route(limits.DINGTALK_WORK_NOTICE, key=row.address, deliver=lambda chunk: client.work_notice(
            agent_id, [row.address], f"【{row.title}】\n{chunk}" if row.title else chunk))

    # -- several private rows in one oToMessages/batchSend (bot/outbound/batching.py) --
    max_batch = MAX_BATCH

    def batch_key(self, session: Session, row: OutboxMessage, now: dt.datetime) -> Hashable | None:
        """Rows that batchSend could carry together: private, whole, one chunk, no live webhook."""
        ctx = row.context or {}
        if row.recipient_kind == "group" or row.sent_chars or row.school_id is None or not row.text:
            return None
        if ctx.get("attachment_url"):
            return None  # sent alone, as markdown with its picture
        if (ctx.get("session_webhook") and _alive(ctx.get("session_webhook_expires_at"), now)
                and is_session_webhook(ctx["session_webhook"], self.api.dingtalk_webhook_prefixes)):
            return None  # its own conversation's webhook comes first
        if len(row.text.encode("utf-8")) > (limits.DINGTALK_USER.limit(row.fmt) or 0):
            return None
        if row.audience == "staff":
            return None  # alone, so that a robot that cannot reach the teacher falls back to a 工作通知
        return (row.school_id, row.fmt, row.title, row.text)

    def send_batch(self, session: Session, rows: list[OutboxMessage],
                   now: dt.datetime) -> tuple[limits.RouteSpec, dict[int, SendError | None]]:
        """Send one text to up to 20 users; return each row's outcome.

        Raises:
            SendError: the whole call failed (every row shares the outcome).
        """
        first = rows[0]
        client = self.dingtalk(session, self.school(session, first), now)
        users = [row.address for row in rows]
        answer = client.batch_send(users, *robot_message(first.fmt, first.title, first.text))
        problems = batch_outcomes(answer, users)
        return limits.DINGTALK_USER, {row.id: problems.get(row.address) for row in rows}

    def _webhook_client(self) -> Any:
        return DingTalkClient("", "", "", storage=None, base_url=self.api.dingtalk_api,
                              timeout=self.api.timeout_seconds)


def batch_outcomes(answer: dict[str, Any], users: list[str]) -> dict[str, SendError]:
    """Read batchSend's answer: invalid staff ids fail for good, flow-controlled ones retry later."""
    invalid = {str(u) for u in answer.get("invalidStaffIdList") or ()}
    throttled = {str(u) for u in answer.get("flowControlledStaffIdList") or ()}
    problems: dict[str, SendError] = {}
    for user in users:
        if user in invalid:
            problems[user] = PermanentSendError(f"钉钉用户 {user} 无效（已离职或不在机器人可见范围内）",
                                                "invalid_staff_id")
        elif user in throttled:
            problems[user] = TransientSendError(f"钉钉对用户 {user} 限流", "flow_controlled", retry_after=60)
    return problems


def _is_staff(session: Session, row: OutboxMessage) -> bool:
    """Whether a private row is for a staff member (a 工作通知 may reach them)."""
    if row.audience == "staff":
        return True
    if row.identity_id is None:
        return False
    return session.scalar(select(Identity.staff_id).where(Identity.id == row.identity_id)) is not None


def _alive(expires_ms: Any, now: dt.datetime) -> bool:
    """Return whether a sessionWebhook expiring at ``expires_ms`` (epoch ms) is still usable."""
    try:
        expires = dt.datetime.fromtimestamp(int(expires_ms) / 1000, dt.UTC)
    except (TypeError, ValueError):
        return False
    return expires - WEBHOOK_MARGIN > now
