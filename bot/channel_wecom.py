"""WeCom delivery: app messages to staff, 微信客服 to parents (fallback 学校通知), group robots."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from bot.clients.wecom import WeComClient
from bot.exceptions import PermanentSendError
from bot.outbound import limits
from bot.outbound.sender import Route
from bot.platforms.common.channel import PlatformChannel, SchoolDelivery
from models import groups, ratelimit
from models.outbox import OutboxMessage, linked_address

# kf/send_msg_on_event: an enter_session event's welcome_code works once, within 20 seconds.
WELCOME_CODE_TTL = dt.timedelta(seconds=20)
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


class WeComKfChannel(WeComBase):
    """``wecom_kf``: 微信客服 replies (5 within 48 h), else 学校通知 to the same parent."""

    def routes(self, session: Session, row: OutboxMessage, now: dt.datetime) -> list[Route]:
        """kf/send_msg inside the window; 学校通知 when it is closed and configured."""
        delivery = self.school(session, row)
        kf = delivery.creds.wecom_kf
        code = (row.context or {}).get("welcome_code")
        if code and kf is not None:  # the answer to enter_session: only its welcome code can carry it
            if now - row.created_at > WELCOME_CODE_TTL:
                raise PermanentSendError("欢迎语未能在 20 秒内发出（欢迎码已失效），家长发消息后会照常收到回复",
                                         "welcome_expired")
            client = self.wecom(session, kf.corp_id, kf.secret, now)
            return [Route(limits.WECOM_KF_WELCOME, key=str(code), deliver=lambda chunk: client.send_kf_welcome(
                str(code), plain(row.title, chunk)))]
        routes: list[Route] = []
        open_kfid = (row.context or {}).get("open_kfid") or (kf.open_kfids[0] if kf and kf.open_kfids else "")
        if kf is not None and open_kfid:
            client = self.wecom(session, kf.corp_id, kf.secret, now)
            opened = ratelimit.last_inbound(session, row.identity_id, row.platform, row.school_id, row.address)
            native = self.wecom_media(session, client, row, now)
            if native is not None:  # a notice's picture or file, sent as itself inside the window
                routes.append(Route(limits.WECOM_KF, key=row.address, opened_at=opened,
                                    deliver=lambda chunk: client.send_kf(open_kfid, row.address, *native)))
            else:
                routes.append(Route(limits.WECOM_KF, key=row.address, opened_at=opened,
                                    deliver=lambda chunk: client.send_kf(
                                        open_kfid, row.address, "text", {"content": plain(row.title, chunk)})))
        parent = (row.context or {}).get("parent_userid") or linked_address(session, row.identity_id, "wecom_school")
        if delivery.school_notice and parent and delivery.creds.wecom is not None:
            routes.append(self.school_route(session, row, delivery, parent, now))
        if not routes:
            raise PermanentSendError("学校没有配置微信客服", "no_credentials")
        return routes
