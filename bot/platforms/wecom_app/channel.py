"""WeCom delivery: app messages to staff, 学校通知 to parents, group robots (微信客服: wecom_kf/channel.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from bot.exceptions import PermanentSendError
from bot.outbound import limits
from bot.outbound.sender import Route
from bot.platforms.common.channel import PlatformChannel, SchoolDelivery
from bot.platforms.common.tokens import DBTokenStorage
from bot.platforms.wecom_app.client import WeComClient
from models import groups
from models.outbox import OutboxMessage

NO_ROBOT = "本群没有登记群机器人（班主任在群里 @连心 发送「设置群机器人 KEY」），群消息无法发出"


def app_message(fmt: str, title: str | None, text: str, url: str) -> tuple[str, dict[str, Any]]:
    """Return (msgtype, body) for ``message/send``."""
    if fmt == "markdown":
        return "markdown", {"content": text}
    if fmt == "textcard":
        return "textcard", {"title": title or "通知", "description": text, "url": url, "btntxt": "详情"}
    return "text", {"content": f"【{title}】\n{text}" if title else text}


def plain(title: str | None, text: str) -> str:
    """Return a text with its title on top."""
    return f"【{title}】\n{text}" if title else text


class WeComBase(PlatformChannel):
    """Clients and routes the WeCom channels share."""

    def wecom(self, session: Session, corp_id: str, secret: str, now: dt.datetime) -> WeComClient:
        """Return a WeCom client whose token lives in the database."""
        storage = DBTokenStorage(session, lambda: now)
        return WeComClient(corp_id, secret, base_url=self.api.wecom_api, session=storage,
                           timeout=self.api.timeout_seconds)

    def app_client(self, session: Session, delivery: SchoolDelivery, now: dt.datetime) -> WeComClient:
        creds = delivery.creds.wecom
        if creds is None:
            raise PermanentSendError("学校没有配置企业微信自建应用", "no_credentials")
        return self.wecom(session, creds.corp_id, creds.secret, now)

    def app_route(self, session: Session, row: OutboxMessage, delivery: SchoolDelivery, userid: str,
                  now: dt.datetime) -> Route:
        client = self.app_client(session, delivery, now)
        agent_id = int(delivery.creds.wecom.agent_id)  # type: ignore[union-attr] - checked above
        native = self.wecom_media(session, client, row, now)
        if native is not None:  # a notice's picture or file, sent as itself
            return Route(limits.WECOM_APP, key=userid, deliver=lambda chunk: client.send_app(agent_id, userid, *native))
        return Route(limits.WECOM_APP, key=userid, deliver=lambda chunk: client.send_app(
            agent_id, userid, *app_message(row.fmt, row.title, chunk, self.base_url)))

    def school_route(self, session: Session, row: OutboxMessage, delivery: SchoolDelivery, parent_userid: str,
                     now: dt.datetime) -> Route:
        client = self.app_client(session, delivery, now)
        agent_id = int(delivery.creds.wecom.agent_id)  # type: ignore[union-attr]
        return Route(limits.WECOM_SCHOOL, key=parent_userid, deliver=lambda chunk: client.send_school_notice(
            agent_id, [parent_userid], plain(row.title, chunk)))

    def webhook_route(self, session: Session, row: OutboxMessage, now: dt.datetime) -> Route | None:
        """Return the route through the addressed group's own robot, or None when it has none."""
        key = groups.robot_key_for(session, row.school_id, row.address)  # this group's own robot, never another's
        if not key:
            return None
        client = self.wecom(session, "", "", now)
        markdown = row.fmt == "markdown"

        def deliver(chunk: str) -> Any:
            body = {"msgtype": "markdown", "markdown": {"content": chunk}} if markdown else {
                "msgtype": "text", "text": {"content": plain(row.title, chunk)}}
            return client.send_webhook(key, body)

        return Route(limits.WECOM_WEBHOOK, key=f"robot:{row.school_id}:{row.address}", deliver=deliver)


class WeComAppChannel(WeComBase):
    """``wecom_app``: the self-built app's ``message/send`` to a staff member."""

    def routes(self, session: Session, row: OutboxMessage, now: dt.datetime) -> list[Route]:
        """One route: message/send to the member."""
        return [self.app_route(session, row, self.school(session, row), row.address, now)]


class WeComSchoolChannel(WeComBase):
    """``wecom_school``: 学校通知 to a parent of the 家校通讯录 (one-way)."""

    def routes(self, session: Session, row: OutboxMessage, now: dt.datetime) -> list[Route]:
        """One route: externalcontact/message/send."""
        return [self.school_route(session, row, self.school(session, row), row.address, now)]


class WeComWebhookChannel(WeComBase):
    """``wecom_webhook``: the school's group robot (20 messages a minute)."""

    def routes(self, session: Session, row: OutboxMessage, now: dt.datetime) -> list[Route]:
        """One route: webhook/send."""
        self.school(session, row)  # a school without credentials fails clearly
        route = self.webhook_route(session, row, now)
        if route is None:
            raise PermanentSendError(NO_ROBOT, "no_group_robot")
        return [route]
