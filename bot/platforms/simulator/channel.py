"""The simulator's outbound channel: a sent message becomes a line in the simulated chat."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from models import simulator as sim
from models.outbox import OutboxMessage

PLATFORM = "simulator"


class SimulatorChannel:
    """Delivers outbox rows by appending them to the simulated chat."""

    def __init__(self, bot_name: str) -> None:
        self.bot_name = bot_name

    def send(self, session: Session, row: OutboxMessage, now: dt.datetime) -> str:
        """Write the message into the recipient's transcript."""
        chat = f"group:{row.address}" if row.recipient_kind == "group" else f"user:{row.address}"
        text = f"【{row.title}】\n{row.text}" if row.title else row.text
        sim.add_line(session, row.school_id or 0, chat, self.bot_name, text, now, from_bot=True)
        return PLATFORM
