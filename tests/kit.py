"""SimBot: drive the whole bot through the simulator adapter, errbot-testbot style."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.platforms.simulator.webhook import chat_key, post
from models import simulator as sim


class SimBot:
    """Push messages as people; pop what the bot said to them."""

    def __init__(self, ext: Any, session: Any) -> None:
        self.ext, self.session = ext, session
        self._seen: dict[str, int] = {}

    def person(self, who: str) -> sim.SimPerson:
        """Return the simulated person by display name or key."""
        person = sim.find_person(self.session, who, demo_only=False)  # tests play their own schools
        assert person is not None, f"no simulated person {who!r}"
        return person

    def say(self, who: str, text: str, where: str = "private", now: dt.datetime | None = None,
            msg_id: str | None = None) -> list[str]:
        """Send a message and return the bot's new lines in that chat."""
        person = self.person(who)
        self.pop(who, where)
        post(self.ext, self.session, person, where, text, now=now, msg_id=msg_id)
        return self.pop(who, where)

    def bind(self, who: str) -> list[str]:
        """Bind a simulated person with their own roster phone."""
        return self.say(who, self.person(who).hint)

    def pop(self, who: str, where: str = "private") -> list[str]:
        """Return the bot's lines in a chat since the last pop."""
        person = self.person(who)
        key = chat_key(person, where)
        rows = sim.lines(self.session, key, after_id=self._seen.get(key, 0), limit=10_000)
        if rows:
            self._seen[key] = rows[-1].id
        return [r.text for r in rows if r.from_bot]

    def deliver(self, now: dt.datetime | None = None) -> int:
        """Send every due outbox row (as the scheduler's drain job would)."""
        count = self.ext.sender.drain(self.session, now or self.ext.now())
        self.session.commit()
        return count
