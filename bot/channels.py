"""Which channel delivers each platform's outbox rows."""

from __future__ import annotations

from bot.sender import Channel, Sender
from bot.simulator import PLATFORM as SIMULATOR
from bot.simulator import SimulatorChannel
from config.settings import Settings


def build_channels(settings: Settings) -> dict[str, Channel]:
    """Return the channel for every platform this deployment speaks."""
    channels: dict[str, Channel] = {SIMULATOR: SimulatorChannel(settings.simulator.bot_name)}
    return channels


def build_sender(settings: Settings) -> Sender:
    """Return the sender with every channel."""
    from models.quiet_hours import quiet_hold

    return Sender(build_channels(settings), hold=quiet_hold(settings))
