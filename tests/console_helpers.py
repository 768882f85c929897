"""Shared set-up for the web console tests: a bound school, tickets of every kind, and a logged-in client."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from models import console_login, ticket_service
from models.tickets import Ticket
from tests.scheduler_helpers import bound_school, open_ticket

TZ = "Asia/Shanghai"


@dataclasses.dataclass
class ConsoleWorld:
    """The school, the bot and the tickets the console tests look at."""

    ts: Any
    bot: Any
    tickets: dict[str, Ticket]


def build_world(ext: Any, session: Any, now: dt.datetime) -> ConsoleWorld:
    """Open tickets covering the scope rules: class 1, class 2, a complaint about 王芳, a resolved one."""
    ts, bot = bound_school(ext, session, now)
    tickets = {
        "food": open_ticket(session, ts, bot, now, text="食堂饭菜是凉的", assignee="周敏"),
        "class1": open_ticket(session, ts, bot, now, text="作业太多了", category="homework", assignee="李强"),
        "class2": open_ticket(session, ts, bot, now, text="二班教室灯坏了", category="facilities",
                              parent="陈大宝妈妈", student="陈二宝", assignee="孙丽"),
        "about_wang": open_ticket(session, ts, bot, now, text="王老师上课态度粗暴", category="teacher_conduct",
                                  about="王芳", assignee="钱主任"),
        "about_qian": open_ticket(session, ts, bot, now, text="钱主任处理不公", category="teacher_conduct",
                                  about="钱主任", assignee="赵校长"),
        "resolved": open_ticket(session, ts, bot, now, text="校车晚到二十分钟", category="transport",
                                assignee="周敏"),
    }
    ticket_service.resolve(session, tickets["resolved"], ts.staff["周敏"], "已与校车公司沟通", now)
    ticket_service.request_extension(session, tickets["food"], ts.staff["周敏"], 3, "需要采购", now)
    session.commit()
    return ConsoleWorld(ts, bot, tickets)


def login(client: Any, ext: Any, session: Any, staff: Any, now: dt.datetime) -> None:
    """Log ``staff`` in through a one-time link, as the browser does after 后台."""
    url = console_login.create_link(session, staff, ext.settings, now)
    session.commit()
    response = client.post(path_of(url))
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/"), response.status_code


def path_of(url: str) -> str:
    """Return the path of an absolute URL."""
    return "/" + url.split("/", 3)[3]


def csrf(client: Any) -> str:
    """Return the CSRF token of the client's console session."""
    with client.session_transaction() as sess:
        return sess["console_csrf"]
