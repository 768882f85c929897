"""Web console access: one-time login links, the session cookie, CSRF, and who sees and does what.

The permission matrix runs every page and action for every role (principal,
director, head teacher, teacher; parents get no login) on both databases.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app import create_app
from models import ticket_access
from models.directory import Staff
from models.tickets import Ticket, TicketEvent
from tests.console_helpers import build_world, csrf, login, path_of

PAGES = ("/console/", "/console/tickets", "/console/visits", "/console/notices", "/console/surveys",
         "/console/roster", "/console/review")


@pytest.fixture
def world(ext, db_session, now):
    return build_world(ext, db_session, now)


def _link(world, who: str) -> str:
    replies = world.bot.say(who, "后台")
    assert len(replies) == 1
    return next(word for word in replies[0].split() if "/console/login/" in word)


# --- login ------------------------------------------------------------------------------------

def test_no_session_redirects_every_page_and_action_to_the_howto(client, world):
    t = world.tickets["food"]
    for path in (*PAGES, f"/console/tickets/{t.id}"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/console/howto"), path
    for path in (f"/console/tickets/{t.id}/act", "/console/tickets/export", "/console/notices/preview", "/console/roster"):
        assert client.post(path, data={"action": "supervise"}).status_code == 302, path
    howto = client.get("/console/howto")
    assert howto.status_code == 200 and "发送：<b>后台</b>" in howto.text


def test_login_link_from_chat_works_once_and_sets_a_safe_cookie(client, world, db_session):
    link = _link(world, "赵校长")
    assert link.startswith("http://127.0.0.1:8000/console/login/")
    page = client.get(path_of(link))  # a chat app's link preview: must not use the link up
    assert page.status_code == 200 and "登录" in page.text
    response = client.post(path_of(link))
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "赵校长" in client.get("/console/").text
    other = client.application.test_client()
    again = other.post(path_of(link))
    assert again.status_code == 410 and "只能使用一次" in again.text
    assert other.get("/console/").status_code == 302


def test_login_link_expires_after_ten_minutes_and_forgeries_are_refused(client, ext, world, now):
    link = _link(world, "钱主任")
    ext.clock = lambda: now + dt.timedelta(minutes=10, seconds=1)
    response = client.post(path_of(link))
    assert response.status_code == 410 and "已过期" in response.text
    assert client.get("/console/").status_code == 302
    ext.clock = lambda: now
    forged = client.post(path_of(link)[:-3] + "abc")
    assert forged.status_code == 403 and "无效" in forged.text


def test_session_lasts_eight_hours(client, ext, db_session, world, now):
    login(client, ext, db_session, world.ts.staff["王芳"], now)
    ext.clock = lambda: now + dt.timedelta(hours=7, minutes=59)
    assert client.get("/console/").status_code == 200
    ext.clock = lambda: now + dt.timedelta(hours=8, minutes=1)
    assert client.get("/console/").status_code == 302


def test_staff_who_left_is_logged_out(client, ext, db_session, world, now):
    login(client, ext, db_session, world.ts.staff["周敏"], now)
    world.ts.staff["周敏"].active = False
    db_session.commit()
    assert client.get("/console/tickets").status_code == 302


def test_secure_cookie_when_the_public_url_is_https(tmp_path):
    app = create_app({"app": {"secret_key": "x" * 24, "base_url": "https://lianxin.example.edu.cn",
                              "instance_path": str(tmp_path)}})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_parents_and_strangers_get_no_login_link(world):
    for who in ("张小明妈妈",):
        replies = world.bot.say(who, "后台")
        assert replies and not any("/console/login/" in r for r in replies)
        assert "权限" in replies[0]


def test_console_pages_are_never_cached_and_carry_the_csp(client, ext, db_session, world, now):
    login(client, ext, db_session, world.ts.staff["赵校长"], now)
    response = client.get("/console/")
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]
    login_page = client.get("/console/login/abc")
    assert "'nonce-" in login_page.headers["Content-Security-Policy"]


# --- CSRF ----------------------------------------------------------------------------------------

def test_posts_without_the_csrf_token_are_refused_and_change_nothing(client, ext, db_session, world, now):
    login(client, ext, db_session, world.ts.staff["赵校长"], now)
    t = world.tickets["food"]
    before = db_session.scalar(select(TicketEvent.id).order_by(TicketEvent.id.desc()).limit(1))
    for token in (None, "", "wrong-token"):
        data = {"action": "supervise"} | ({"csrf": token} if token is not None else {})
        response = client.post(f"/console/tickets/{t.id}/act", data=data)
        assert response.status_code == 400 and "请求已失效" in response.text
    assert client.post("/console/tickets/export", data={}).status_code == 400
    db_session.expire_all()
    assert db_session.scalar(select(TicketEvent.id).order_by(TicketEvent.id.desc()).limit(1)) == before
    ok = client.post(f"/console/tickets/{t.id}/act", data={"action": "supervise", "csrf": csrf(client)})
    assert ok.status_code == 302


# --- the permission matrix -------------------------------------------------------------------

# Which tickets each role may open (the rest answer 404, as if they did not exist).
SEES = {
    "赵校长": {"food", "class1", "class2", "about_wang", "about_qian", "resolved"},
    "钱主任": {"food", "class1", "class2", "about_wang", "resolved"},  # never the complaint about himself
    "王芳": {"food", "class1", "resolved"},  # her class, minus the complaint about her
    "周敏": {"food", "resolved"},  # assigned to her
}
PAGE_STATUS = {  # path → {role: status}
    "/console/": dict.fromkeys(SEES, 200),
    "/console/tickets": dict.fromkeys(SEES, 200),
    "/console/visits": {"赵校长": 200, "钱主任": 200, "王芳": 200, "周敏": 403},
    "/console/notices": {"赵校长": 200, "钱主任": 200, "王芳": 200, "周敏": 403},
    "/console/surveys": dict.fromkeys(SEES, 200),  # teachers: their classes' aggregates (or nothing) only
    "/console/roster": {"赵校长": 200, "钱主任": 200, "王芳": 403, "周敏": 403},
}
LEADERS = {"赵校长", "钱主任"}


@pytest.mark.parametrize("who", sorted(SEES))
def test_permission_matrix(client, ext, db_session, world, now, who):
    me = world.ts.staff[who]
    login(client, ext, db_session, me, now)
    token = csrf(client)
    for path, statuses in PAGE_STATUS.items():
        assert client.get(path).status_code == statuses[who], (who, path)
    review = client.get("/console/review").status_code
    assert review == (403 if who not in LEADERS else 200)
    listed = client.get("/console/tickets").text
    for name, ticket in world.tickets.items():
        visible = name in SEES[who]
        assert client.get(f"/console/tickets/{ticket.id}").status_code == (200 if visible else 404), (who, name)
        assert (f"/console/tickets/{ticket.id}\"" in listed) == visible, (who, name)
        if not visible:  # an action on an invisible ticket: as if it did not exist, nothing written
            response = client.post(f"/console/tickets/{ticket.id}/act", data={"action": "supervise", "csrf": token})
            assert response.status_code == 404, (who, name)
    leader = who in LEADERS
    food, resolved = world.tickets["food"], world.tickets["resolved"]
    actions = [  # (ticket, form, allowed)
        (food, {"action": "supervise", "text": "请尽快"}, leader),
        (food, {"action": "assign", "staff_id": str(world.ts.staff["周敏"].id)}, leader),
        (food, {"action": "deny_extension"}, leader),
        (resolved, {"action": "reject", "text": "家长仍有意见"}, leader),
        (food, {"action": "recategorize", "category": "facilities"}, leader or who == "周敏"),  # the assignee too
    ]
    for ticket, form, allowed in actions:
        before = len(db_session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).all())
        response = client.post(f"/console/tickets/{ticket.id}/act", data=form | {"csrf": token})
        assert response.status_code == (302 if allowed else 403), (who, form)
        db_session.expire_all()
        events = db_session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                    .order_by(TicketEvent.id)).all()
        assert len(events) == before + (1 if allowed else 0), (who, form)
        if allowed:
            assert events[-1].actor_staff_id == me.id, (who, form)
    export = client.post("/console/tickets/export", data={"csrf": token})
    assert export.status_code == (302 if leader else 403)
    preview = client.post("/console/notices/preview", data={"csrf": token, "scope": "全校", "text": "明天停水"})
    assert preview.status_code == (200 if leader else 403)  # a head teacher: own class only, as in chat
    own = client.post("/console/notices/preview", data={"csrf": token, "scope": "一年级一班", "text": "明天停水"})
    assert own.status_code == (200 if who != "周敏" else 403)
    assert client.post("/console/roster", data={"csrf": token}).status_code == (400 if leader else 403)


def test_visible_clause_agrees_with_can_view(db_session, world):
    """The SQL twin of ``can_view`` (lists, counts, exports) picks exactly the tickets ``can_view`` allows."""
    tickets = db_session.scalars(select(Ticket)).all()
    for staff in db_session.scalars(select(Staff)).all():
        by_sql = set(db_session.scalars(select(Ticket.id).where(ticket_access.visible_clause(staff))))
        assert by_sql == {t.id for t in tickets if ticket_access.can_view(staff, t)}, staff.name
    world.ts.staff["周敏"].active = False
    db_session.flush()
    assert not db_session.scalars(select(Ticket.id).where(ticket_access.visible_clause(world.ts.staff["周敏"]))).all()


def test_a_complaint_about_a_person_is_never_shown_to_that_person(client, ext, db_session, world, now):
    about_wang, about_qian = world.tickets["about_wang"], world.tickets["about_qian"]
    for who, ticket in (("王芳", about_wang), ("钱主任", about_qian)):
        login(client, ext, db_session, world.ts.staff[who], now)
        for query in ("", "?q=" + ticket.text[:3], "?q=" + ticket.number, "?category=teacher_conduct", "?state=open"):
            page = client.get("/console/tickets" + query).text.split('id="ledger"')[1].split("</table>")[0]  # not the echoed search
            assert ticket.text not in page and ticket.number not in page, (who, query)
        assert client.get(f"/console/tickets/{ticket.id}").status_code == 404
        assert ticket.text[:6] not in client.get("/console/").text
        if who == "钱主任":  # the director's export leaves it out too
            from tests.test_console_pages import download_rows

            numbers = {row[0] for row in download_rows(client, {"csrf": csrf(client)})}
            assert ticket.full_number not in numbers and world.tickets["food"].full_number in numbers


def test_a_login_posted_from_another_site_is_refused_and_keeps_the_link(client, world):
    link = _link(world, "赵校长")
    refused = client.post(path_of(link), headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403 and client.get("/console/").status_code == 302
    assert client.post(path_of(link), headers={"Sec-Fetch-Site": "same-origin"}).status_code == 302
