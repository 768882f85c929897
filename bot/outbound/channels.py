"""Which channel delivers each platform's outbox rows."""

from __future__ import annotations

import datetime as dt

from bot.outbound.sender import Channel, Hold, Sender
from bot.platforms.dingtalk.channel import DingTalkChannel
from bot.platforms.simulator.channel import PLATFORM as SIMULATOR
from bot.platforms.simulator.channel import SimulatorChannel
from bot.platforms.wechat.channel import WeChatChannel
from bot.platforms.wecom_aibot.channel import WeComAiBotChannel
from bot.platforms.wecom_app.channel import WeComAppChannel, WeComSchoolChannel, WeComWebhookChannel
from bot.platforms.wecom_kf.channel import WeComKfChannel
from config.settings import Settings


def build_channels(settings: Settings) -> dict[str, Channel]:
    """Return the channel for every platform this deployment speaks (names as the adapters use them)."""
    channels: dict[str, Channel] = {SIMULATOR: SimulatorChannel(settings.simulator.bot_name)}
    channels.update({
        "dingtalk": DingTalkChannel(settings),
        "wecom_app": WeComAppChannel(settings),
        "wecom_aibot": WeComAiBotChannel(settings),
        "wecom_kf": WeComKfChannel(settings),
        "wecom_school": WeComSchoolChannel(settings),
        "wecom_webhook": WeComWebhookChannel(settings),
        "wechat": WeChatChannel(settings),
    })
    return channels


def build_sender(settings: Settings, hold: Hold | None = None) -> Sender:
    """Return the sender with every channel.

    Args:
        settings: the application settings.
        hold: the quiet-hours hook, ``hold(row, now) -> datetime | None``.
    """
    if hold is None:  # the scheduler's quiet-hours policy (models/quiet_hours.py)
        from models.quiet_hours import quiet_hold

        hold = quiet_hold(settings)
    return Sender(build_channels(settings), hold=hold, max_attempts=settings.outbox.max_attempts,
                  stuck_after=dt.timedelta(minutes=settings.outbox.stuck_minutes))
