"""微信客服 delivery: kf/send_msg inside the 48-hour window, else 学校通知 to the same parent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.exceptions import PermanentSendError
from bot.outbound import limits
from bot.outbound.sender import Route
from bot.platforms.wecom_app.channel import WeComBase, plain
from models import ratelimit
from models.outbox import OutboxMessage, linked_address

# kf/send_msg_on_event: an enter_session event's welcome_code works once, within 20 seconds.
WELCOME_CODE_TTL = dt.timedelta(seconds=20)


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
