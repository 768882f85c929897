"""One-time login links to the web console (后台) and who a console session belongs to.

A staff member sends 「后台」 in private chat and gets a link signed for the
console purpose that names one ``ConsoleLogin`` row. Opening it within
``LINK_MINUTES`` uses the row once (one conditional UPDATE, so two clicks or a
forwarded link racing its owner never both log in) and starts an 8-hour
session. A staff member who left, or moved school, cannot use an old link.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from config.settings import Settings
from models import links
from models.base import Base, utcnow
from models.directory import Staff

LINK_MINUTES = 10
SESSION_HOURS = 8


class ConsoleLoginError(ValueError):
    """A login link that cannot be used; ``reason`` is ``invalid``, ``expired`` or ``used``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConsoleLogin(Base):
    """A one-time console login link handed to one staff member."""

    __tablename__ = "console_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


def create_link(session: Session, staff: Staff, settings: Settings, now: dt.datetime) -> str:
    """Return a new one-time login link for ``staff`` (valid ``LINK_MINUTES``)."""
    expires = now + dt.timedelta(minutes=LINK_MINUTES)
    login = ConsoleLogin(staff_id=staff.id, created_at=now, expires_at=expires)
    session.add(login)
    session.flush()
    token = links.make_token(settings.app.secret_key, "console", {"l": login.id, "st": staff.id}, expires)
    return links.absolute_url(settings.app.base_url, "console/login", token)


def redeem(session: Session, settings: Settings, token: str, now: dt.datetime) -> Staff:
    """Use a login link once; return the staff member it logs in.

    Raises:
        ConsoleLoginError: forged, expired, already used, or the staff member is no longer active.
    """
    try:
        data = links.read_token(settings.app.secret_key, "console", token, now)
    except links.LinkError as exc:
        raise ConsoleLoginError("expired" if exc.expired else "invalid") from exc
    login = session.get(ConsoleLogin, int(data.get("l", 0)))
    if login is None or login.staff_id != data.get("st"):
        raise ConsoleLoginError("invalid")
    if login.expires_at < now:
        raise ConsoleLoginError("expired")
    taken = session.execute(update(ConsoleLogin).where(ConsoleLogin.id == login.id, ConsoleLogin.used_at.is_(None))
                            .values(used_at=now)).rowcount
    if not taken:
        raise ConsoleLoginError("used")
    staff = session.get(Staff, login.staff_id)
    if staff is None or not staff.active:
        raise ConsoleLoginError("invalid")
    return staff


def session_staff(session: Session, staff_id: int | None, school_id: int | None, started: float | None,
                  now: dt.datetime) -> Staff | None:
    """Return the staff member of a console session still valid at ``now`` (8 h, active, same school)."""
    if not staff_id or started is None or now.timestamp() - started > SESSION_HOURS * 3600 or now.timestamp() < started:
        return None
    staff = session.get(Staff, staff_id)
    if staff is None or not staff.active or staff.school_id != school_id:
        return None
    return staff
