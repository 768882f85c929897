"""Official Account delivery: customer-service messages in the 48 h window, else a template or subscribe message."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.exceptions import PermanentSendError
from bot.outbound import limits
from bot.outbound.sender import Route
from bot.platforms.common.channel import PlatformChannel
from bot.platforms.common.tokens import DBTokenStorage
from bot.platforms.wechat.client import OfficialAccountClient
from models import ratelimit
from models.directory import School
from models.outbox import OutboxMessage, message_url

# Template and subscribe fields show at most 20 characters (``thing``) since May 2023.
FIELD_CHARS = 20


def clip(text: str, limit: int = FIELD_CHARS) -> str:
    """Return the first line of ``text`` within ``limit`` characters, with … when cut."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def template_data(fields: tuple[tuple[str, str], ...], *, title: str | None, text: str, school: str,
                  when: dt.datetime) -> dict[str, dict[str, str]]:
    """Fill the template's own keys from the message (``wechat.template_fields``)."""
    values = {
        "title": clip(title or "学校消息"),
        "summary": clip(text),
        "time": f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}",
        "school": clip(school),
    }
    return {key: {"value": values[source]} for key, source in fields}


class WeChatChannel(PlatformChannel):
    """``wechat``: customer service (5 within 48 h of the parent's message), then a template or subscribe message."""

    def wechat(self, session: Session, appid: str, secret: str, now: dt.datetime) -> OfficialAccountClient:
        """Return an Official Account client whose token lives in the database."""
        storage = DBTokenStorage(session, lambda: now)
        return OfficialAccountClient(appid, secret, base_url=self.api.wechat_api, session=storage,
                                     timeout=self.api.timeout_seconds)

    def routes(self, session: Session, row: OutboxMessage, now: dt.datetime) -> list[Route]:
        """message/custom/send inside the window; a template or subscribe message with a link when it is closed."""
        delivery = self.school(session, row)
        creds = delivery.creds.wechat
        if creds is None:
            raise PermanentSendError("学校没有配置公众号", "no_credentials")
        client = self.wechat(session, creds.app_id, creds.secret, now)
        opened = ratelimit.last_inbound(session, row.identity_id, row.platform, row.school_id, row.address)
        title = f"【{row.title}】\n" if row.title else ""
        native = self.wecom_media(session, client, row, now, files=False)
        if native is not None:  # a notice's picture, sent as itself inside the window
            routes = [Route(limits.WECHAT_CUSTOM, key=row.address, opened_at=opened,
                            deliver=lambda chunk: client.send_custom(row.address, *native))]
        else:
            routes = [Route(limits.WECHAT_CUSTOM, key=row.address, opened_at=opened,
                            deliver=lambda chunk: client.send_custom_text(row.address, title + chunk))]
        if creds.template_id:
            school = session.get(School, row.school_id) if row.school_id is not None else None
            data = template_data(creds.fields, title=row.title, text=row.text, school=school.name if school else "",
                                 when=(row.created_at or now).astimezone(ZoneInfo(self.timezone)))
            # Outside the window: the template opens the page of the message, or the attachment's own page.
            url = (row.context or {}).get("attachment_url") or message_url(self.secret_key, self.base_url, row.id,
                                                                           now + self.link_ttl)
            if creds.template_kind == "subscribe":
                def deliver(chunk: str) -> object:
                    return client.send_subscribe(row.address, creds.template_id, data, url)

                routes.append(Route(limits.WECHAT_SUBSCRIBE, key=row.address, deliver=deliver))
            else:
                routes.append(Route(limits.WECHAT_TEMPLATE, key=row.address, deliver=lambda chunk: client.send_template(
                    row.address, creds.template_id, data, url)))
        return routes
