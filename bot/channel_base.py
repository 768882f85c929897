"""What every platform channel needs: the school's credentials, API settings, client factories."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from bot.clients.dingtalk import DingTalkClient
from bot.clients.tokens import DBTokenStorage
from bot.clients.wechat import OfficialAccountClient
from bot.clients.wecom import WeComClient
from bot.exceptions import PermanentSendError
from config.platforms import PlatformCredentials
from config.settings import PlatformApiSettings, Settings
from models.outbox import OutboxMessage
from models.platform_state import school_code


@dataclasses.dataclass(frozen=True)
class SchoolDelivery:
    """One school's credentials plus the sending-only options.

    Attributes:
        creds: the school's platform credentials.
        wecom_webhook_key: a WeCom group robot's webhook key (secret).
        wechat_template_id: the OA template used when the 48 h window is closed.
        school_notice: whether the WeCom app may send 学校通知 to parents.
    """

    creds: PlatformCredentials
    wecom_webhook_key: str = ""
    wechat_template_id: str = ""
    school_notice: bool = False


def delivery_options(settings: Settings) -> Mapping[str, Mapping[str, Any]]:
    """Return the free-form ``delivery`` section: school code → sending options."""
    section = settings.extra.get("delivery") or {}
    return section if isinstance(section, Mapping) else {}


class PlatformChannel:
    """Base of the real platform channels: finds the row's school and builds clients."""

    def __init__(self, settings: Settings) -> None:
        self.api: PlatformApiSettings = settings.platform_api
        self.platforms: Mapping[str, PlatformCredentials] = settings.platforms
        self.options = delivery_options(settings)
        self.base_url = settings.app.base_url

    def school(self, session: Session, row: OutboxMessage) -> SchoolDelivery:
        """Return the row's school delivery settings; a missing school is a permanent error."""
        code = school_code(session, row.school_id) if row.school_id is not None else None
        if code is None and len(self.platforms) == 1:
            code = next(iter(self.platforms))
        creds = self.platforms.get(code or "")
        if creds is None:
            raise PermanentSendError(f"学校 {code or row.school_id} 没有配置平台凭据", "no_credentials")
        extra = self.options.get(creds.school_code) or {}
        return SchoolDelivery(
            creds,
            wecom_webhook_key=str(extra.get("wecom_webhook_key") or ""),
            wechat_template_id=str(extra.get("wechat_template_id") or ""),
            school_notice=bool(extra.get("school_notice")),
        )

    def wecom(self, session: Session, corp_id: str, secret: str, now: dt.datetime) -> WeComClient:
        """Return a WeCom client whose token lives in the database."""
        storage = DBTokenStorage(session, lambda: now)
        return WeComClient(corp_id, secret, base_url=self.api.wecom_api, session=storage,
                           timeout=self.api.timeout_seconds)

    def wechat(self, session: Session, appid: str, secret: str, now: dt.datetime) -> OfficialAccountClient:
        """Return an Official Account client whose token lives in the database."""
        storage = DBTokenStorage(session, lambda: now)
        return OfficialAccountClient(appid, secret, base_url=self.api.wechat_api, session=storage,
                                     timeout=self.api.timeout_seconds)

    def dingtalk(self, session: Session, delivery: SchoolDelivery, now: dt.datetime) -> DingTalkClient:
        """Return the school's DingTalk client (token in the database)."""
        creds = delivery.creds.dingtalk
        if creds is None:
            raise PermanentSendError("学校没有配置钉钉应用", "no_credentials")
        return DingTalkClient(creds.app_key, creds.app_secret, creds.robot_code,
                              storage=DBTokenStorage(session, lambda: now),
                              base_url=self.api.dingtalk_api, timeout=self.api.timeout_seconds)
