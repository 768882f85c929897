"""The confirm page and the survey form in a real headless browser (Debian's Chromium via Playwright).

The live server needs its own app on a real database (the ordinary ``app``
fixture binds one rolled-back connection): each run builds a fresh SQLite
file or PostgreSQL schema, seeds it, serves it on 127.0.0.1 and drops it.
Without /usr/bin/chromium these tests skip with the reason shown, unless
``LIANXIN_REQUIRE_BROWSER=1`` (CI), where they fail instead.
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
from models import notices, surveys
from models.notice_acks import NoticeAck
from models.scope import Scope
from models.surveys import SurveyResponse
from tests.conftest import FIXED_NOW, _make_db
from tests.factories import build_school

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _need_browser() -> None:
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError as exc:
            reason = f"playwright not importable: {exc}"
    if reason:
        if os.environ.get("LIANXIN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required (LIANXIN_REQUIRE_BROWSER=1): {reason}")
        pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path,
         browser: Any) -> Iterator[dict[str, Any]]:
    """A real server on 127.0.0.1 over its own seeded database; yields its app, base URL and school."""
    engines = _make_db(request.param, tmp_path_factory)
    engine = next(engines)
    application = create_app({
        "app": {"secret_key": "browser-secret-0123456789", "instance_path": str(tmp_path / "instance"),
                "base_url": "http://127.0.0.1"},
        "database": {"url": engine.url.render_as_string(hide_password=False)},
        "simulator": {"enabled": True},
    })
    ext = lianxin(application)
    ext.engine.dispose()
    ext.engine = engine
    ext.sessionmaker.configure(bind=engine)
    ext.clock = lambda: FIXED_NOW
    with ext.sessionmaker() as session:
        school = build_school(session, FIXED_NOW)
        session.commit()
        ids = {"school": school.school.id, "principal": school.staff["赵校长"].id,
               "classes": [c.id for c in school.classes.values()],
               "students": {name: s.id for name, s in school.students.items()}}
    server = make_server("127.0.0.1", 0, application, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"app": application, "ext": ext, "base": f"http://127.0.0.1:{server.server_port}", "ids": ids}
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        for _ in engines:  # drops the schema / file
            pass


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _mobile(browser: Any) -> Any:
    return browser.new_page(viewport={"width": 375, "height": 667}, locale="zh-CN")


def test_confirm_page_in_browser(live, browser):
    ext, ids = live["ext"], live["ids"]
    with ext.sessionmaker() as session:
        principal = session.get(notices.Staff, ids["principal"])
        notice = notices.draft_notice(session, school_id=ids["school"], author=principal,
                                      scope=Scope("全校", tuple(ids["classes"])), text="周五下午家长会，请准时参加",
                                      important=True, scheduled_for=None, now=FIXED_NOW)
        notices.deliver_notice(session, notice, ext.settings, FIXED_NOW)
        url = notices.confirm_url(ext.settings, notice, ids["students"]["王小虎"], FIXED_NOW)
        notice_id = notice.id
        session.commit()
    page = _mobile(browser)
    page.goto(live["base"] + _path(url))
    assert "周五下午家长会" in page.inner_text("#notice-text")
    assert "王小虎家长" in page.content() and "重要通知" in page.title()
    page.click("#ack")
    page.wait_for_selector("#acked")
    assert "您已确认阅读" in page.inner_text("#acked")
    page.reload()
    assert page.is_visible("#acked") and not page.is_visible("#ack")
    page.goto(live["base"] + _path(url)[:-4] + "xxxx")
    assert "链接无效" in page.content()
    page.close()
    with ext.sessionmaker() as session:
        acks = session.scalars(select(NoticeAck).where(NoticeAck.notice_id == notice_id)).all()
        assert [(a.student_id, a.via) for a in acks] == [(ids["students"]["王小虎"], "link")]


def test_survey_form_in_browser(live, browser):
    ext, ids = live["ext"], live["ids"]
    with ext.sessionmaker() as session:
        principal = session.get(notices.Staff, ids["principal"])
        survey, _ = surveys.launch_survey(session, author=principal, scope=Scope("全校", tuple(ids["classes"])),
                                          deadline=FIXED_NOW.replace(day=30), settings=ext.settings, now=FIXED_NOW)
        url = surveys.survey_url(ext.settings, survey, ids["students"]["张小明"])
        survey_id = survey.id
        session.commit()
    page = _mobile(browser)
    page.goto(live["base"] + _path(url))
    assert "张小明家长" in page.content()
    page.check('input[name="q_overall"][value="1"]')
    page.click("#submit")
    page.wait_for_selector("#missing")
    assert "师德表现" in page.inner_text("#missing")
    assert page.is_checked('input[name="q_overall"][value="1"]'), "what was chosen is kept"
    for n, code in enumerate(surveys.INDICATOR_CODES):
        page.check(f'input[name="q_{code}"][value="{n % 4 + 1}"]')
    page.fill("textarea[name=comment]", "感谢老师们的付出")
    page.click("#submit")
    page.wait_for_selector("#saved")
    page.goto(live["base"] + _path(url))
    assert page.is_checked('input[name="q_workload"][value="4"]')
    assert page.input_value("textarea[name=comment]") == "感谢老师们的付出"
    page.check('input[name="q_workload"][value="3"]')
    page.click("#submit")
    page.wait_for_selector("#saved")
    page.close()
    with ext.sessionmaker() as session:
        rows = session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id)).all()
        assert len(rows) == 1
        assert rows[0].answers == {"overall": 1, "ethics": 2, "teaching": 3, "workload": 3, "conditions": 1,
                                   "safety": 2}
        assert rows[0].comment == "感谢老师们的付出" and rows[0].completed_at is not None


def test_simulator_shows_each_line_once_in_order_when_messages_are_sent_quickly(live, browser):
    """Three messages sent back to back: one bubble per stored line, in the stored order (issue 16 item 14)."""
    from playwright.sync_api import expect

    from bot.platforms.simulator.webhook import chat_key
    from models import simulator as sim

    ext = live["ext"]
    with ext.sessionmaker() as session:
        person = sim.find_person(session, "张小明妈妈")
    page = _mobile(browser)
    page.goto(live["base"] + "/simulator")
    page.wait_for_selector(f'#person option[value="{person.key}"]', state="attached")
    page.select_option("#person", person.key)
    box = page.locator('form[data-where="private"] input')
    for text in ("你好", "帮助", "在吗"):
        box.fill(text)
        box.press("Enter")  # no waiting between sends: the replies and the polls overlap
    with ext.sessionmaker() as session:
        key = chat_key(person, "private")
        page.locator("#log-private .bubble").nth(5).wait_for()  # locators, not wait_for_function: the CSP forbids eval
        stored = [line.text for line in sim.lines(session, key)]
    # expect() retries until the page shows exactly the stored lines (a duplicate bubble would exceed it)
    expect(page.locator("#log-private .bubble")).to_have_count(len(stored))
    shown = page.eval_on_selector_all("#log-private .bubble", "els => els.map(e => e.textContent)")
    assert len(stored) == 6, stored
    assert shown == stored, "each stored line once, in order"
    page.close()
