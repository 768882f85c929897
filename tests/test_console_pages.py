"""Web console pages: ledger filters and paging, actions like the chat commands, export, 总览 figures,
家访, 通知, 测评 (anonymity), 花名册 upload and the 疑似紧急 queue (when the classifier's tier exists)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from models import console_overview, surveys, ticket_service
from models.directory import Student
from models.figures import Period, school_figures
from models.outbox import OutboxMessage
from models.tickets import Ticket, TicketEvent
from tests.console_helpers import TZ, build_world, csrf, login
from tests.scheduler_helpers import identity_of


@pytest.fixture
def world(ext, db_session, now):
    return build_world(ext, db_session, now)


@pytest.fixture
def principal(client, ext, db_session, world, now):
    login(client, ext, db_session, world.ts.staff["赵校长"], now)
    return client


def _numbers(html: str) -> list[str]:
    return re.findall(r'/console/tickets/\d+">(\d{4}-\d{4})<', html)


def download_rows(client, form: dict) -> list[tuple]:
    """Export through the console and return the ledger sheet's data rows."""
    response = client.post("/console/tickets/export", data=form)
    assert response.status_code == 302 and response.headers["Location"].startswith("/x/")
    download = client.post(response.headers["Location"])
    assert download.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(download.data)).worksheets[0]
    return [row for row in sheet.iter_rows(min_row=3, values_only=True) if row[0]]


# --- 台账 ---------------------------------------------------------------------------------------

def test_filters_narrow_the_ledger(principal, world):
    t = world.tickets
    everything = _numbers(principal.get("/console/tickets").text)
    assert sorted(everything) == sorted(x.number for x in t.values())
    assert _numbers(principal.get("/console/tickets?category=homework").text) == [t["class1"].number]
    assert _numbers(principal.get(f"/console/tickets?class_id={world.ts.classes['一年级二班'].id}").text) == \
        [t["class2"].number]
    assert _numbers(principal.get(f"/console/tickets?assignee_id={world.ts.staff['孙丽'].id}").text) == \
        [t["class2"].number]
    assert _numbers(principal.get("/console/tickets?state=resolved").text) == [t["resolved"].number]
    assert t["resolved"].number not in _numbers(principal.get("/console/tickets?state=open").text)
    assert _numbers(principal.get("/console/tickets?q=灯坏").text) == [t["class2"].number]
    assert _numbers(principal.get("/console/tickets?q=" + t["food"].number).text) == [t["food"].number]
    assert _numbers(principal.get("/console/tickets?q=100%25").text) == []  # LIKE wildcards are literal
    assert _numbers(principal.get("/console/tickets?from=2026-11-24").text) == []
    assert len(_numbers(principal.get("/console/tickets?from=2026-11-23&to=2026-11-23").text)) == len(t)
    garbage = principal.get("/console/tickets?state=drop+table&class_id=abc&from=yesterday&page=-3")
    assert garbage.status_code == 200 and len(_numbers(garbage.text)) == len(t)


def test_overdue_filter_and_paging(principal, ext, db_session, world, now):
    for n in range(25):
        ticket_service.open_ticket(db_session, school=world.ts.school, kind="inquiry", category="schedule",
                                   urgency="low", text=f"放假安排{n}", now=now - dt.timedelta(days=20), tz=TZ)
    db_session.commit()
    first = principal.get("/console/tickets?category=schedule")
    assert "共 25 件，第 1/2 页" in first.text and len(_numbers(first.text)) == 20
    second = principal.get("/console/tickets?category=schedule&page=2")
    assert len(_numbers(second.text)) == 5 and not set(_numbers(first.text)) & set(_numbers(second.text))
    assert "category=schedule" in re.search(r'id="prev" href="([^"]+)"', second.text).group(1)
    overdue = _numbers(principal.get("/console/tickets?state=overdue").text)
    assert len(overdue) == 20 and world.tickets["food"].number not in overdue


def test_ticket_page_shows_history_replies_callback_and_closing(principal, db_session, world, now):
    t, zhou = world.tickets["resolved"], world.ts.staff["周敏"]
    ticket_service.reply(db_session, world.tickets["class2"], world.ts.staff["孙丽"], "明天修好", now)
    ticket_service.record_callback_answer(db_session, t, "satisfied", t.identity_id, now)
    db_session.commit()
    page = principal.get(f"/console/tickets/{t.id}").text
    for shown in ("家长反映", "已与校车公司沟通", "满意", "已销号", f"（{zhou.name}）"):
        assert shown in page, shown
    assert "明天修好" in principal.get(f"/console/tickets/{world.tickets['class2'].id}").text


def test_an_action_from_the_page_is_in_the_history_and_reaches_the_parent(principal, db_session, world, now):
    t = world.tickets["resolved"]
    from models.ticket_notify import ask_callback

    # resolved in build_world; the 回访 question went out, so the parent is waiting to answer it

    ask_callback(db_session, t, now, ttl=dt.timedelta(days=3))
    db_session.commit()
    world.bot.deliver(now)
    world.bot.pop("张小明妈妈")
    response = principal.post(f"/console/tickets/{t.id}/act",
                              data={"action": "reject", "text": "家长反映校车仍然晚到", "csrf": csrf(principal)})
    assert response.status_code == 302
    page = principal.get(response.headers["Location"]).text
    assert "已驳回" in page and "家长反映校车仍然晚到" in page and "办理中" in page
    db_session.expire_all()
    event = db_session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                               .order_by(TicketEvent.id.desc())).first()
    assert (event.action, event.actor_staff_id, event.text) == \
        ("resolution_rejected", world.ts.staff["赵校长"].id, "家长反映校车仍然晚到")
    world.bot.deliver(now)
    assert any("已退回继续办理" in line for line in world.bot.pop("张小明妈妈"))


def test_assign_supervise_and_extension_decisions_tell_the_assignee(principal, db_session, world, now):
    food, token = world.tickets["food"], csrf(principal)
    principal.post(f"/console/tickets/{food.id}/act", data={"action": "approve_extension", "csrf": token})
    db_session.expire_all()
    food = db_session.get(Ticket, food.id)
    assert food.extension_days is None and food.events[-1].action == "extension_approved"
    assert food.resolve_by > world.tickets["class1"].resolve_by
    principal.post(f"/console/tickets/{food.id}/act",
                   data={"action": "assign", "staff_id": str(world.ts.staff["李强"].id), "text": "安全相关", "csrf": token})
    principal.post(f"/console/tickets/{food.id}/act", data={"action": "supervise", "text": "今天处理", "csrf": token})
    world.bot.deliver(now)
    told = "\n".join(world.bot.pop("李强"))
    assert "【赵校长指派】" in told and "【督办】赵校长校长督办" in told and "今天处理" in told
    refused = principal.post(f"/console/tickets/{food.id}/act", data={"action": "approve_extension", "csrf": token})
    assert "没有待审批的延期申请" in principal.get(refused.headers["Location"]).text  # the ledger's own refusal


def test_recategorize_keeps_a_classifier_correction(principal, db_session, world):
    from models.tickets import ClassifierCorrection

    t = world.tickets["class1"]
    principal.post(f"/console/tickets/{t.id}/act", data={"action": "recategorize", "category": "teaching",
                                                         "csrf": csrf(principal)})
    correction = db_session.scalar(select(ClassifierCorrection).where(ClassifierCorrection.ticket_id == t.id))
    assert (correction.from_category, correction.to_category) == ("homework", "teaching")
    bad = principal.post(f"/console/tickets/{t.id}/act", data={"action": "recategorize", "category": "x",
                                                               "csrf": csrf(principal)})
    assert bad.status_code == 400


def test_export_is_the_filtered_ledger_and_its_link_works_once(principal, world):
    rows = download_rows(principal, {"category": "homework", "csrf": csrf(principal)})
    assert [r[0] for r in rows] == [world.tickets["class1"].full_number]
    everything = download_rows(principal, {"csrf": csrf(principal)})
    assert len(everything) == len(world.tickets)


# --- 总览 ---------------------------------------------------------------------------------------

def test_overview_counts_and_figures_come_from_the_shared_services(principal, ext, db_session, world, now):
    ticket_service.open_ticket(db_session, school=world.ts.school, kind="inquiry", category="schedule",
                               urgency="low", text="上周的问题", now=now - dt.timedelta(days=20), tz=TZ)
    db_session.commit()
    page = principal.get("/console/").text
    counts = console_overview.counts(db_session, world.ts.staff["赵校长"], now, TZ)
    assert (counts.new_today, counts.open, counts.overdue) == (6, 6, 1)
    assert re.search(r'id="count-new"><b>6</b>', page) and re.search(r'id="count-overdue"><b>1</b>', page)
    figures = school_figures(db_session, world.ts.school.id, Period(now - dt.timedelta(days=30), now))
    shown = re.search(r'id="rate-response">([^<]+)<', page).group(1)
    assert shown == ("—" if figures.response_rate is None else f"{figures.response_rate * 100:.1f}%")
    assert page.count('id="chart-trend"') == 1 and page.count("<polyline") + page.count("<circle") >= 1
    assert 'id="chart-category"' in page and "<rect" in page and "<script" not in page
    assert "一年级一班" in page  # visit coverage


def test_overview_of_a_teacher_shows_only_their_own_counts(client, ext, db_session, world, now):
    login(client, ext, db_session, world.ts.staff["周敏"], now)
    page = client.get("/console/").text
    assert re.search(r'id="count-open"><b>1</b>', page)  # the food ticket; the resolved one is not open
    assert 'id="figures"' not in page and 'id="notice-rates"' not in page and 'id="coverage"' not in page


# --- 家访, 通知, 测评, 花名册 ------------------------------------------------------------------------

def test_visits_page_shows_coverage_due_families_and_the_log(client, ext, db_session, world, now):
    from models import visits

    visits.record_visit(db_session, world.ts.staff["王芳"], world.ts.students["张小明"], "phone", "作息规律", now=now)
    db_session.commit()
    login(client, ext, db_session, world.ts.staff["王芳"], now)
    page = client.get("/console/visits").text
    assert "作息规律" in page and "1/3" in page
    due = page.split('id="visit-due"')[1].split('id="visit-log"')[0]
    assert due.index("陈大宝") < due.index("王小虎") or "★" in due  # special care first
    assert "陈二宝" not in due and "一年级二班" not in page  # a head teacher sees her class only


def test_notice_compose_preview_send_and_ack_figures(principal, db_session, world, now):
    token = csrf(principal)
    bad = principal.post("/console/notices/preview", data={"csrf": token, "scope": "五年级", "text": "x"})
    assert bad.status_code == 400 and "没有找到「五年级」" in bad.text
    preview = principal.post("/console/notices/preview",
                             data={"csrf": token, "scope": "一年级一班", "text": "周五家长会", "important": "1"})
    assert preview.status_code == 200 and "1 个班级" in preview.text and "重要通知预览" in preview.text
    notice_id = int(re.search(r"/console/notices/(\d+)/send", preview.text).group(1))
    sent = principal.post(f"/console/notices/{notice_id}/send", data={"csrf": token})
    assert sent.status_code == 302
    stats = principal.get(sent.headers["Location"]).text
    assert "一年级一班" in stats and "未确认：" in stats and "张小明" in stats
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.ref == f"notice:{notice_id}")) > 0
    again = principal.post(f"/console/notices/{notice_id}/send", data={"csrf": token})
    assert again.status_code == 404  # no longer a draft: nothing sent twice


@pytest.fixture
def survey(ext, db_session, world, now):
    reply = "\n".join(world.bot.say("赵校长", "发起测评 全校 2026-11-30"))
    survey = surveys.get_survey(db_session, int(re.search(r"编号 (\d+)", reply).group(1)))
    for name, values in (("张小明", [1, 1, 2, 3, 4, 1]), ("陈二宝", [3, 3, 3, 3, 3, 3])):
        surveys.save_answers(db_session, survey, world.ts.students[name], dict(zip(surveys.INDICATOR_CODES, values,
                                                                                    strict=True)), via="web", now=now)
    db_session.commit()
    return survey


def test_survey_results_respect_min_breakdown(client, ext, db_session, world, survey, now):
    login(client, ext, db_session, world.ts.staff["钱主任"], now)
    director = client.get("/console/surveys").text
    assert "不足 5 份" in director and 'id="overall-rate"' not in director and "class-row" not in director
    assert "整体办学水平" not in client.get("/console/").text.split('id="survey-latest"')[1]
    login(client, ext, db_session, world.ts.staff["赵校长"], now)
    principal = client.get(f"/console/surveys/{survey.id}").text
    assert 'id="overall-rate">' in principal and principal.count('class="class-row"') == 2
    assert "不足" not in principal
    ext.settings = dataclasses.replace(ext.settings, surveys=dataclasses.replace(ext.settings.surveys,
                                                                                  min_breakdown=1))
    login(client, ext, db_session, world.ts.staff["钱主任"], now)
    assert client.get(f"/console/surveys/{survey.id}").text.count('class="class-row"') == 2


def _roster(school: str, students: list[tuple[str, str]]) -> bytes:
    from models.roster_file import STUDENT_COLUMNS

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "学生"
    ws.append([c[0] for c in STUDENT_COLUMNS])
    for name, phone in students:
        ws.append([school, "", "一年级三班", "一年级", name, "男", "家长", "妈妈", phone, "", "", "", ""])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_roster_upload_lists_every_bad_row_and_imports_nothing(principal, db_session, world):
    before = db_session.scalar(select(func.count()).select_from(Student))
    bad = _roster("测试小学", [("新同学", "123"), ("新同学二", "13800009999")])
    response = principal.post("/console/roster", data={"csrf": csrf(principal), "file": (io.BytesIO(bad), "r.xlsx")},
                              content_type="multipart/form-data")
    assert response.status_code == 400 and response.text.count('class="problem"') == 1 and "第 2 行" in response.text
    other = _roster("另一所学校", [("外校生", "13800008888")])
    response = principal.post("/console/roster", data={"csrf": csrf(principal), "file": (io.BytesIO(other), "r.xlsx")},
                              content_type="multipart/form-data")
    assert response.status_code == 400 and "不是本校" in response.text
    assert db_session.scalar(select(func.count()).select_from(Student)) == before
    good = _roster("测试小学", [("新同学", "13800007777")])
    response = principal.post("/console/roster", data={"csrf": csrf(principal), "file": (io.BytesIO(good), "r.xlsx")},
                              content_type="multipart/form-data")
    assert response.status_code == 200 and "导入完成" in response.text
    assert db_session.scalar(select(Student.id).where(Student.name == "新同学")) is not None


# --- 疑似紧急 (the classifier issue adds Ticket.needs_review and models/review.py) -----------------

def test_review_queue_oldest_first_with_one_click_decisions(principal, db_session, world):
    a, b = world.tickets["class1"], world.tickets["class2"]
    a.needs_review = b.needs_review = True
    db_session.commit()
    page = principal.get("/console/review").text
    assert page.index(a.number) < page.index(b.number)
    principal.post(f"/console/tickets/{a.id}/act", data={"action": "confirm_urgent", "csrf": csrf(principal)})
    principal.post(f"/console/tickets/{b.id}/act", data={"action": "dismiss_review", "csrf": csrf(principal)})
    db_session.expire_all()
    assert not db_session.get(Ticket, a.id).needs_review and not db_session.get(Ticket, b.id).needs_review
    assert "已确认" in principal.get("/console/review").text  # the decisions' flash, shown once, names the tickets
    assert a.number not in principal.get("/console/review").text



def test_parent_identity_helper_is_used(db_session, world):
    assert identity_of(db_session, world.bot, "张小明妈妈") is not None


def test_the_ticket_page_offers_the_actions_its_state_allows(principal, world):
    open_page = principal.get(f"/console/tickets/{world.tickets['food'].id}").text
    assert all(f'id="do-{a}"' in open_page for a in ("assign", "supervise", "approve_extension", "recategorize"))
    assert 'id="do-reject"' not in open_page
    resolved = principal.get(f"/console/tickets/{world.tickets['resolved'].id}").text
    assert 'id="do-reject"' in resolved and 'id="do-assign"' not in resolved and 'id="do-supervise"' not in resolved


def test_visit_log_export_for_leaders_only(client, ext, db_session, world, now):
    from models import visits

    visits.record_visit(db_session, world.ts.staff["王芳"], world.ts.students["张小明"], "home", "家中整洁", now=now)
    db_session.commit()
    login(client, ext, db_session, world.ts.staff["王芳"], now)
    assert client.post("/console/visits/export", data={"csrf": csrf(client)}).status_code == 403
    login(client, ext, db_session, world.ts.staff["钱主任"], now)
    response = client.post("/console/visits/export", data={"csrf": csrf(client), "from": "2026-11-01",
                                                           "to": "2026-11-30"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/x/")
    sheet = openpyxl.load_workbook(io.BytesIO(client.post(response.headers["Location"]).data)).worksheets[0]
    assert any("家中整洁" in str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)


def test_a_notice_with_a_time_is_scheduled_not_sent(principal, db_session, world):
    from models.notices import Notice

    token = csrf(principal)
    past = principal.post("/console/notices/preview", data={"csrf": token, "scope": "全校", "text": "x",
                                                            "when": "2026-11-20T08:00"})
    assert past.status_code == 400 and "已过" in past.text
    preview = principal.post("/console/notices/preview", data={"csrf": token, "scope": "一年级", "text": "周一升旗",
                                                               "when": "2026-11-30T07:30"})
    assert "定时发送：2026-11-30 07:30" in preview.text
    notice_id = int(re.search(r"/console/notices/(\d+)/send", preview.text).group(1))
    principal.post(f"/console/notices/{notice_id}/send", data={"csrf": token})
    db_session.expire_all()
    notice = db_session.get(Notice, notice_id)
    assert notice.status == "scheduled" and notice.scheduled_for.isoformat() == "2026-11-29T23:30:00+00:00"
    assert not db_session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.ref == f"notice:{notice_id}"))


def test_a_head_teacher_sends_to_her_class_and_follows_only_her_classes(client, ext, db_session, world, now):
    login(client, ext, db_session, world.ts.staff["赵校长"], now)
    token = csrf(client)
    preview = client.post("/console/notices/preview", data={"csrf": token, "scope": "全校", "text": "全校放假通知"})
    school_notice = int(re.search(r"/console/notices/(\d+)/send", preview.text).group(1))
    client.post(f"/console/notices/{school_notice}/send", data={"csrf": token})
    login(client, ext, db_session, world.ts.staff["王芳"], now)
    token = csrf(client)
    refused = client.post("/console/notices/preview", data={"csrf": token, "scope": "一年级二班", "text": "x"})
    assert refused.status_code == 403 and "班主任只能给本班发送通知" in refused.text
    preview = client.post("/console/notices/preview", data={"csrf": token, "scope": "一年级一班", "text": "明天带水彩笔"})
    own = int(re.search(r"/console/notices/(\d+)/send", preview.text).group(1))
    assert client.post(f"/console/notices/{own}/send", data={"csrf": token}).status_code == 302
    listed = client.get("/console/notices").text
    assert "全校放假通知" in listed and "明天带水彩笔" in listed
    school_stats = client.get(f"/console/notices/{school_notice}").text
    assert "一年级一班" in school_stats and "一年级二班" not in school_stats and "陈二宝" not in school_stats
    login(client, ext, db_session, world.ts.staff["孙丽"], now)
    assert client.get(f"/console/notices/{own}").status_code == 404  # another class's notice


def test_teachers_see_only_their_classes_survey_aggregates(client, ext, db_session, world, survey, now):
    login(client, ext, db_session, world.ts.staff["王芳"], now)
    page = client.get(f"/console/surveys/{survey.id}").text
    assert page.count('class="card own-class"') == 1 and "一年级二班" not in page.split("汇总")[1]
    assert "不足 5 份" in page and "全校" not in page.split("汇总")[1] and "class-row" not in page
    ext.settings = dataclasses.replace(ext.settings, surveys=dataclasses.replace(ext.settings.surveys,
                                                                                  min_breakdown=1))
    assert "整体办学水平" in client.get(f"/console/surveys/{survey.id}").text
    login(client, ext, db_session, world.ts.staff["李强"], now)  # teaches both classes
    assert client.get("/console/surveys").text.count('class="card own-class"') == 2
    login(client, ext, db_session, world.ts.staff["周敏"], now)  # teaches no class
    assert client.get(f"/console/surveys/{survey.id}").status_code == 404
    assert "暂无涉及您任教班级的测评" in client.get("/console/surveys").text


# --- 附件 (issue 19: the console shows a ticket's pictures) -----------------------------------------

def test_the_ticket_page_lists_its_pictures_and_opens_them(principal, ext, db_session, world, now):
    from models import media
    from models.media_safety import check
    from tests import media_samples

    ticket = world.tickets["about_wang"]
    kept = check(media_samples.photo())
    row = media.save(db_session, ext.settings, kept, school_id=ticket.school_id, now=now, name="手臂.jpg")
    media.attach_to_ticket(db_session, [row], ticket, now)
    db_session.commit()
    page = principal.get(f"/console/tickets/{ticket.id}").text
    assert "附件（1）" in page and "手臂.jpg" in page
    link = re.search(r'href="(http[^"]*/a/[^"]+)"', page).group(1)
    path = "/" + link.split("/", 3)[3]
    assert principal.get(path).status_code == 200
    assert principal.get(path + "/file").data == kept.data


def test_a_notice_composed_on_the_page_carries_its_pdf_and_refuses_a_bad_file(principal, db_session, world, now):
    from models import media
    from tests import media_samples

    token = csrf(principal)
    bad = principal.post("/console/notices/preview", content_type="multipart/form-data", data={
        "csrf": token, "scope": "一年级一班", "text": "请阅读安全告知书",
        "attachment": (io.BytesIO(b"MZ\x90\x00 not a document"), "告知书.exe")})
    assert bad.status_code == 400 and "暂不支持这种文件格式" in bad.text
    assert db_session.scalar(select(func.count()).select_from(media.Attachment)) == 0
    preview = principal.post("/console/notices/preview", content_type="multipart/form-data", data={
        "csrf": token, "scope": "一年级一班", "text": "请阅读安全告知书",
        "attachment": (io.BytesIO(media_samples.pdf()), "安全告知书.pdf")})
    assert preview.status_code == 200 and "附件：" in preview.text and "安全告知书.pdf" in preview.text
    notice_id = int(re.search(r"/console/notices/(\d+)/send", preview.text).group(1))
    assert principal.post(f"/console/notices/{notice_id}/send", data={"csrf": token}).status_code == 302
    [attached] = media.of_notice(db_session, notice_id)
    assert attached.name == "安全告知书.pdf"
    rows = db_session.scalars(select(OutboxMessage).where(OutboxMessage.ref == f"notice:{notice_id}")).all()
    assert any("/a/" in (row.text or "") or (row.context or {}).get("attachment_id") == attached.id for row in rows)
