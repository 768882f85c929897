"""What the scheduler's sweeps ask of the platforms; ``scheduler/jobs.py`` imports this, never a platform package.

- ``fetch_media(ext, session, now)``: download pictures and files the inbox worker left behind.
- ``pull_kf(ext, school_code)``: pull 微信客服 messages a missed callback left on the platform.
- ``contact_syncs_due(ext, now)`` / ``sync_contacts(ext, school_code)``: read a 家校通讯录 again.
"""

from __future__ import annotations

from bot.platforms.media_fetch import fetch_pending as fetch_media
from bot.platforms.wecom_app.contacts import pending_schools as contact_syncs_due
from bot.platforms.wecom_app.contacts import sync_pending as sync_contacts
from bot.platforms.wecom_kf.webhook import sync_kf as pull_kf

__all__ = ["contact_syncs_due", "fetch_media", "pull_kf", "sync_contacts"]
