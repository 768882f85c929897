"""The web console in headless Chromium: login by link → 总览 → 台账 filter → a ticket → 督办, under the CSP.

A teacher cannot open another teacher's ticket. A screenshot of each page is
saved under ``LIANXIN_SCREENSHOTS`` (default ``/tmp/lianxin-console-screenshots``)
as the run's artifact. Skips like ``test_pages_browser`` without Chromium.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app import create_app, lianxin
from models import console_login, ticket_service
from models.directory import Staff
from models.tickets import TicketEvent
from tests.conftest import FIXED_NOW, _make_db
from tests.factories import build_school
from tests.test_pages_browser import _mobile, _path, browser  # noqa: F401 - the shared Chromium fixture

SHOTS = Path(os.environ.get("LIANXIN_SCREENSHOTS", "/tmp/lianxin-console-screenshots"))
TZ = "Asia/Shanghai"


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path,
         browser: Any) -> Iterator[dict[str, Any]]:  # noqa: F811
    """A real server over a seeded school with tickets; yields its extension, base URL and ids."""
    engines = _make_db(request.param, tmp_path_factory)
    engine = next(engines)
    application = create_app({
        "app": {"secret_key": "console-browser-0123456789", "instance_path": str(tmp_path / "instance"),
                "base_url": "http://127.0.0.1"},
        "database": {"url": engine.url.render_as_string(hide_password=False)},
    })
    ext = lianxin(application)
    ext.engine.dispose()
    ext.engine = engine
    ext.sessionmaker.configure(bind=engine)
    ext.clock = lambda: FIXED_NOW
    with ext.sessionmaker() as session:
        ts = build_school(session, FIXED_NOW)
        opened = {}
        for text, category, student in (("食堂饭菜是凉的", "food", "张小明"), ("作业太多了", "homework", "陈大宝"),
                                        ("二班教室灯坏了", "facilities", "陈二宝")):
            opened[category] = ticket_service.open_ticket(
                session, school=ts.school, kind="complaint", category=category, urgency="normal", text=text,
                now=FIXED_NOW, tz=TZ, student=ts.students[student])
        session.commit()
        ids = {"staff": {name: s.id for name, s in ts.staff.items()},
               "tickets": {k: (t.id, t.number, t.assignee.name) for k, t in opened.items()}}
    server = make_server("127.0.0.1", 0, application, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"ext": ext, "base": f"http://127.0.0.1:{server.server_port}", "ids": ids, "db": request.param}
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        for _ in engines:
            pass


def _login_url(live: dict[str, Any], name: str) -> str:
    ext = live["ext"]
    with ext.sessionmaker() as session:
        url = console_login.create_link(session, session.get(Staff, live["ids"]["staff"][name]), ext.settings,
                                        FIXED_NOW)
        session.commit()
    return live["base"] + _path(url)


def _shot(page: Any, live: dict[str, Any], name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{live['db']}-{name}.png"), full_page=True)


def test_principal_logs_in_filters_the_ledger_and_supervises(live, browser):  # noqa: F811
    errors: list[str] = []
    page = _mobile(browser)
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(_login_url(live, "赵校长"))  # the nonce script submits the login form
    page.wait_for_selector("#counts")
    assert "赵校长" in page.inner_text("header") and page.url.endswith("/console/")
    assert page.inner_text("#count-new").startswith("3")
    _shot(page, live, "overview")
    page.click("nav >> text=台账")
    page.wait_for_selector("#ledger")
    assert page.locator(".ticket-row").count() == 3
    page.select_option("select[name=category]", "homework")
    page.click("#apply")
    page.wait_for_selector("#total")
    assert page.locator(".ticket-row").count() == 1 and "共 1 件" in page.inner_text("#total")
    _shot(page, live, "ledger")
    ticket_id, number, _ = live["ids"]["tickets"]["homework"]
    page.click(f"text={number}")
    page.wait_for_selector("#history")
    _shot(page, live, "ticket")
    page.fill("#form-supervise input[name=text]", "请今天回复家长")
    page.click("#do-supervise")
    page.wait_for_selector("#flash")
    assert "已督办" in page.inner_text("#flash")
    assert "督办" in page.inner_text("#history") and "请今天回复家长" in page.inner_text("#history")
    for path, name in (("/console/visits", "visits"), ("/console/notices", "notices"), ("/console/surveys", "surveys"),
                       ("/console/roster", "roster")):
        page.goto(live["base"] + path)
        page.wait_for_selector("main")
        _shot(page, live, name)
    page.click("#logout")
    page.wait_for_selector("#howto")
    page.close()
    assert errors == [], errors
    with live["ext"].sessionmaker() as session:
        event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                .order_by(TicketEvent.id.desc())).first()
        assert (event.action, event.actor_staff_id, event.text) == \
            ("supervised", live["ids"]["staff"]["赵校长"], "请今天回复家长")


def test_a_teacher_cannot_open_another_teachers_ticket(live, browser):  # noqa: F811
    ids = live["ids"]["tickets"]
    mine = next(v for v in ids.values() if v[2] == "周敏")
    theirs = next(v for v in ids.values() if v[2] != "周敏")
    page = _mobile(browser)
    page.goto(_login_url(live, "周敏"))
    page.wait_for_selector("#counts")
    page.goto(f"{live['base']}/console/tickets/{mine[0]}")
    assert mine[1] in page.inner_text("#ticket")
    response = page.goto(f"{live['base']}/console/tickets/{theirs[0]}")
    assert response.status == 404 and "没有找到" in page.content()
    page.goto(f"{live['base']}/console/tickets")
    assert theirs[1] not in page.inner_text("#ledger")
    page.close()


def test_a_rejection_from_the_page_reaches_the_parent(live, browser):  # noqa: F811
    """驳回 after the 回访 question went out: history with the actor, and the parent is told in private."""
    import datetime as dt

    from models.outbox import OutboxMessage
    from models.ticket_notify import ask_callback
    from models.tickets import Ticket
    from tests.kit import SimBot
    from tests.scheduler_helpers import identity_of

    ext = live["ext"]
    with ext.sessionmaker() as session:
        bot = SimBot(ext, session)
        bot.bind("张小明妈妈")
        parent = identity_of(session, bot, "张小明妈妈")
        ticket = session.get(Ticket, live["ids"]["tickets"]["food"][0])
        ticket.identity_id = parent.id
        ticket_service.resolve(session, ticket, ticket.assignee, "已更换保温餐车", FIXED_NOW)
        ask_callback(session, ticket, FIXED_NOW, ttl=dt.timedelta(days=3))
        session.commit()
        ticket_id, number = ticket.id, ticket.number
    page = _mobile(browser)
    page.goto(_login_url(live, "钱主任"))
    page.wait_for_selector("#counts")
    page.goto(f"{live['base']}/console/tickets?state=resolved")
    page.click(f"text={number}")
    page.fill("#form-reject input[name=text]", "饭菜仍然偏凉")
    page.click("#do-reject")
    page.wait_for_selector("#flash")
    assert "已驳回" in page.inner_text("#flash") and "饭菜仍然偏凉" in page.inner_text("#history")
    assert "办理中" in page.inner_text("#state")
    page.close()
    with ext.sessionmaker() as session:
        event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                .order_by(TicketEvent.id.desc())).first()
        assert (event.action, event.actor_staff_id) == ("resolution_rejected", live["ids"]["staff"]["钱主任"])
        told = session.scalars(select(OutboxMessage).where(OutboxMessage.ref == f"ticket:{ticket_id}")).all()
        assert any("已退回继续办理" in row.text and row.audience == "parent" for row in told)
