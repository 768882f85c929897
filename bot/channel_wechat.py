"""Official Account delivery: customer-service messages in the 48 h window, else a template message."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot import limits
from bot.channel_base import PlatformChannel
from bot.exceptions import PermanentSendError
from bot.sender import Route
from models import ratelimit
from models.outbox import OutboxMessage


def template_data(title: str | None, text: str) -> dict[str, dict[str, str]]:
    """Return the data of the generic notice template (first / keyword1 / remark)."""
    return {"first": {"value": title or "学校消息"}, "keyword1": {"value": text}, "remark": {"value": ""}}


class WeChatChannel(PlatformChannel):
    """``wechat``: customer service (5 within 48 h of the parent's message), then the template."""

    def routes(self, session: Session, row: OutboxMessage, now: dt.datetime) -> list[Route]:
        """message/custom/send inside the window; message/template/send when it is closed."""
        delivery = self.school(session, row)
        creds = delivery.creds.wechat
        if creds is None:
            raise PermanentSendError("学校没有配置公众号", "no_credentials")
        client = self.wechat(session, creds.app_id, creds.secret, now)
        opened = ratelimit.last_inbound(session, row.identity_id, row.platform, row.school_id, row.address)
        title = f"【{row.title}】\n" if row.title else ""
        routes = [Route(limits.WECHAT_CUSTOM, key=row.address, opened_at=opened,
                        deliver=lambda chunk: client.send_custom_text(row.address, title + chunk))]
        template_id = delivery.wechat_template_id
        if template_id:
            routes.append(Route(limits.WECHAT_TEMPLATE, key=row.address, deliver=lambda chunk: client.send_template(
                row.address, template_id, template_data(row.title, chunk))))
        return routes
