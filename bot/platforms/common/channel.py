"""What every platform channel needs: the school's credentials, API settings, native media uploads.

Each platform's channel builds its own client (``client.py`` of its package).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from bot.exceptions import PermanentSendError
from config.platforms import PlatformCredentials
from config.settings import PlatformApiSettings, Settings
from models.outbox import OutboxMessage
from models.platform_state import school_code

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SchoolDelivery:
    """One school's credentials plus the sending-only options read from them.

    Attributes:
        creds: the school's platform credentials.
    """

    creds: PlatformCredentials

    @property
    def wechat_template_id(self) -> str:
        """The OA template used when the 48 h window is closed (``wechat.template_id``)."""
        return self.creds.wechat.template_id if self.creds.wechat is not None else ""

    @property
    def school_notice(self) -> bool:
        """Whether the WeCom app may send 学校通知 to parents (``wecom.school_notice``)."""
        return self.creds.wecom is not None and self.creds.wecom.school_notice


class PlatformChannel:
    """Base of the real platform channels: finds the row's school and builds clients."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.api: PlatformApiSettings = settings.platform_api
        self.platforms: Mapping[str, PlatformCredentials] = settings.platforms
        if settings.extra.get("delivery"):
            log.warning("settings section 'delivery' is no longer read: move school_notice and webhook_key "
                        "under platforms.<school>.wecom, wechat_template_id to platforms.<school>.wechat.template_id")
        self.base_url = settings.app.base_url
        self.secret_key = settings.app.secret_key
        self.timezone = settings.app.timezone
        self.link_ttl = dt.timedelta(days=settings.notices.link_ttl_days)
        self._codes: dict[int, str] = {}

    def school(self, session: Session, row: OutboxMessage) -> SchoolDelivery:
        """Return the row's school delivery settings; a missing school is a permanent error."""
        code = None
        if row.school_id is not None:  # codes never change under a running process: look each up once
            code = self._codes.get(row.school_id)
            if code is None:
                code = school_code(session, row.school_id)
                if code is not None:
                    self._codes[row.school_id] = code
        if code is None and len(self.platforms) == 1:
            code = next(iter(self.platforms))
        creds = self.platforms.get(code or "")
        if creds is None:
            raise PermanentSendError(f"学校 {code or row.school_id} 没有配置平台凭据", "no_credentials")
        return SchoolDelivery(creds)

    def wecom_media(self, session: Session, client: Any, row: OutboxMessage,
                    now: dt.datetime, files: bool = True) -> tuple[str, dict[str, str]] | None:
        """Return (msgtype, body) sending the row's attachment itself (image/file), or None when it has none.

        ``client``: a WeCom or Official Account client (``upload_media``).
        ``files``: whether the platform has a file message (WeCom yes, the Official Account no).

        The upload's ``media_id`` is reused for 3 days minus a margin (one
        upload per school and file, however many parents receive it).
        """
        from models import media
        from models.tokens import get_token, store_token

        attachment_id = (row.context or {}).get("attachment_id")
        found = media.by_ids(session, [int(attachment_id)]) if attachment_id else []
        if not found:
            return None
        attachment = found[0]
        kind = "image" if attachment.kind == "image" and attachment.mime in ("image/jpeg", "image/png") else "file"
        if kind == "file" and not files:
            return None  # the Official Account sends no files: the row's text (with its link) goes instead
        account = getattr(client, "corp_id", None) or getattr(client, "appid", "")
        key = f"{'wecom' if files else 'wechat'}_media:{account}:{attachment.sha256}:{kind}"
        media_id = get_token(session, key, now)
        if media_id is None:
            data = media.read(session, self.settings, attachment)
            if data is None:
                return None  # purged: the row's text (with its link) still goes out
            media_id = client.upload_media(kind, attachment.name, data, attachment.mime)
            store_token(session, key, media_id, now + dt.timedelta(days=3) - dt.timedelta(hours=1), now)
        return kind, {"media_id": media_id}
