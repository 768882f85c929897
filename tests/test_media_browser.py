"""The simulator page in a real browser: a parent attaches a photo, sees it inline, and it joins the ticket."""

from __future__ import annotations

from pathlib import Path

from tests import media_samples as samples
from tests.test_pages_browser import _mobile, browser, live  # noqa: F401 - fixtures


def test_a_parent_attaches_a_photo_in_the_simulator(live, browser, tmp_path: Path):  # noqa: F811
    from playwright.sync_api import expect

    from models import media
    from models import simulator as sim
    from models.tickets import Ticket

    ext = live["ext"]
    with ext.sessionmaker() as session:
        person = sim.find_person(session, "张小明妈妈")
    photo = tmp_path / "厕所门.jpg"
    photo.write_bytes(samples.photo(gps=True))
    page = _mobile(browser)
    page.goto(live["base"] + "/simulator")
    page.wait_for_selector(f'#person option[value="{person.key}"]', state="attached")
    page.select_option("#person", person.key)
    box = page.locator('form[data-where="private"] input')
    box.fill(person.hint)
    box.press("Enter")
    page.locator("#log-private .bubble", has_text="绑定成功").wait_for()
    box.fill("学校厕所的门坏了，孩子的手被夹伤了")
    box.press("Enter")
    page.locator("#log-private .bubble", has_text="编号").first.wait_for()
    page.locator('.attach[data-where="private"] input[type=file]').set_input_files(str(photo))
    expect(page.locator("#log-private .bubble img")).to_have_count(1)  # the picture, shown inline
    page.locator("#log-private .bubble", has_text="已将图片 1 张附在编号").wait_for()
    with ext.sessionmaker() as session:
        ticket = session.query(Ticket).one()
        [row] = media.of_ticket(session, ticket.id)
        assert row.name == "厕所门.jpg" and row.kind == "image"
    page.close()
