"""Shared set-up for the scheduler tests: a bound school and tickets opened through the service."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from models import ticket_service
from models.identity import Identity
from models.tickets import Ticket
from tests.factories import TestSchool, build_school
from tests.kit import SimBot

TZ = "Asia/Shanghai"
BOUND = ("赵校长", "钱主任", "王芳", "孙丽", "李强", "张小明妈妈", "陈大宝妈妈")


def bound_school(ext, session, now: dt.datetime) -> tuple[TestSchool, SimBot]:
    """Build 测试小学, bind its leaders, two teachers and two parents, and clear their chats."""
    ts = build_school(session, now)
    session.commit()
    bot = SimBot(ext, session)
    for who in BOUND:
        bot.bind(who)
    bot.deliver(now)
    for who in BOUND:
        bot.pop(who)
    return ts, bot


def identity_of(session, bot: SimBot, who: str) -> Identity:
    """Return the identity a simulated person chats with."""
    from bot.platforms.simulator.webhook import external_id

    person = bot.person(who)
    return session.scalar(select(Identity).where(Identity.external_id == external_id(person.key)))


def open_ticket(session, ts: TestSchool, bot: SimBot, now: dt.datetime, *, text: str = "食堂饭菜是凉的",
                category: str = "food", urgency: str = "normal", kind: str = "complaint",
                parent: str = "张小明妈妈", student: str = "张小明", assignee: str = "王芳",
                about: str | None = None) -> Ticket:
    """Open a ticket as the classifier pipeline would, owned by ``assignee``."""
    identity = identity_of(session, bot, parent)
    st = ts.students[student]
    ticket = ticket_service.open_ticket(
        session, school=ts.school, kind=kind, category=category, urgency=urgency, text=text, now=now, tz=TZ,
        identity_id=identity.id, student=st, about_staff=ts.staff[about] if about else None,
    )
    if ticket.assignee_id != ts.staff[assignee].id:
        ticket_service.assign(session, ticket, ts.staff[assignee], now)
    session.flush()
    return ticket
