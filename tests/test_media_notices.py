"""Notices carry the principal's picture or PDF; attachment links keep to the ticket's scope."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from sqlalchemy import select

from models import media, media_access, ticket_service
from models.media_safety import check
from models.notices import Notice, NoticeDelivery
from models.outbox import OutboxMessage
from tests import media_samples as samples
from tests import payloads as p
from tests.factories import build_school
from tests.fakes.fixtures import fake_dingtalk, fake_oa, fake_wecom  # noqa: F401 - fixtures

APP = f"/wecom/{p.SCHOOL}/app"


@pytest.fixture
def settings_overrides(settings_overrides, fake_wecom, fake_dingtalk, fake_oa):  # noqa: F811
    return {**settings_overrides, "platforms": p.CREDENTIALS,
            "platform_api": {"wecom_api": f"{fake_wecom.url}/cgi-bin/", "wechat_api": f"{fake_oa.url}/cgi-bin/",
                             "dingtalk_api": fake_dingtalk.url,
                             "dingtalk_oapi": fake_dingtalk.url, "timeout_seconds": 1.0}}


@pytest.fixture
def school(db_session, now):
    ts = build_school(db_session, now)
    db_session.commit()
    return ts


def app_post(client, now, **fields) -> None:
    client.post(APP, **p.wecom_post(p.wecom_text(now, **fields), now))


def rows(session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_a_principal_sends_a_pdf_then_a_notice_and_families_get_it(client, school, db_session, ext, now,
                                                                    fake_wecom):  # noqa: F811
    app_post(client, now, content="绑定 赵校长 0001", user="principal")
    app_post(client, now, content="绑定 张小明 1234", user="mom")
    fake_wecom.add_media("LETTER", samples.pdf(), "致家长的一封信.pdf", "application/pdf")
    app_post(client, now, msgtype="file", user="principal", MediaId="LETTER", FileName="致家长的一封信.pdf")
    assert "已收到文件 1 个" in rows(db_session)[-1].text
    app_post(client, now, content="通知 一年级一班 下周一春游，请阅读附件中的安全告知书", user="principal")
    preview = rows(db_session)[-1].text
    assert "附件：文件 1 个（致家长的一封信.pdf）" in preview
    app_post(client, now, content="确认发送", user="principal")
    notice = db_session.scalars(select(Notice)).one()
    [pdf] = media.of_notice(db_session, notice.id)
    to_mom = [r for r in rows(db_session) if r.address == "mom" and r.ref == f"notice:{notice.id}"]
    assert [bool((r.context or {}).get("attachment_id")) for r in to_mom] == [False, True]
    ext.sender.drain(db_session, now)  # the scheduler's drain_outbox
    db_session.commit()
    assert [r.status for r in rows(db_session) if r.id in {m.id for m in to_mom}] == ["sent", "sent"]
    # The WeCom app sends the file itself (temporary media upload), once per school and file.
    file_sends = [c for c in fake_wecom.sent("message/send") if c.json.get("msgtype") == "file"]
    assert file_sends and all(c.json["file"]["media_id"].startswith("UP") for c in file_sends)
    assert len(fake_wecom.uploads) == 1
    # Acknowledgement tracking counts the notice's copies, not its attachments.
    deliveries = db_session.scalars(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice.id)).all()
    assert all(d.outbox_id not in {r.id for r in to_mom[1:]} for d in deliveries)
    # Every copy names the file with a link a parent can open.
    [link] = re.findall(r"https?://\S+/a/\S+", to_mom[1].text)
    assert client.get(path_of(link)).status_code == 200
    opened = client.get(path_of(link) + "/file")
    assert opened.status_code == 200 and opened.data == samples.pdf()


def test_links_follow_the_ticket_scope_and_expire(client, school, db_session, ext, now):
    ticket = ticket_service.open_ticket(
        db_session, school=school.school, kind="complaint", category="teacher_conduct", urgency="normal",
        text="李强老师体罚孩子", now=now, tz="Asia/Shanghai", student=school.students["张小明"],
        about_staff=school.staff["李强"])
    row = media.save(db_session, ext.settings, check(samples.photo()), school_id=school.school.id, now=now)
    media.attach_to_ticket(db_session, [row], ticket, now)
    db_session.commit()

    def status(staff: str, when: dt.datetime = now) -> int:
        url = media_access.staff_link(ext.settings, row, school.staff[staff], now)
        ext.clock = lambda: when
        return client.get(path_of(url) + "/file").status_code

    assert status("赵校长") == 200
    assert status("李强") == 403, "the accused teacher never sees the evidence"
    assert status("孙丽") == 403, "another class's teacher does not either"
    assert status("赵校长", now + dt.timedelta(minutes=ext.settings.media.link_ttl_minutes + 1)) == 410
    forged = media_access.staff_link(dataclasses.replace(ext.settings, app=dataclasses.replace(
        ext.settings.app, secret_key="another-key-0123456789")), row, school.staff["赵校长"], now)
    assert client.get(path_of(forged)).status_code == 403


def test_on_dingtalk_a_notice_picture_goes_as_markdown_with_the_picture(client, school, db_session, ext, now,
                                                                         fake_dingtalk):  # noqa: F811
    def ding(body) -> None:
        client.post(f"/dingtalk/{p.SCHOOL}/callback", **p.dingtalk_request(body, now))

    ding(p.dingtalk_body(now, " 绑定 赵校长 0001", staff_id="principal"))
    ding(p.dingtalk_body(now, " 绑定 张小明 1234", staff_id="", sender_id="$:mom"))
    fake_dingtalk.add_file("PIC", samples.photo())
    ding(p.dingtalk_body(now, staff_id="principal", msgtype="picture", content={"downloadCode": "PIC"}))
    ding(p.dingtalk_body(now, " 通知 一年级一班 明天运动会，请看场地图", staff_id="principal"))
    ding(p.dingtalk_body(now, " 确认发送", staff_id="principal"))
    ext.sender.drain(db_session, now)
    db_session.commit()
    sends = [c.json for c in fake_dingtalk.sent("oToMessages/batchSend") if "$:mom" in c.json.get("userIds", [])]
    markdown = [s for s in sends if s["msgKey"] == "sampleMarkdown"]
    assert markdown and "![附件](" in markdown[0]["msgParam"] and "/a/" in markdown[0]["msgParam"]


def test_on_the_official_account_a_notice_picture_is_a_customer_service_image(
        client, school, db_session, ext, now, fake_wecom, fake_oa):  # noqa: F811
    def oa(xml: str, user: str) -> None:
        client.post(f"/wechat/{p.SCHOOL}", **p.oa_safe_post(p.oa_message(now, xml, user=user), now))

    app_post(client, now, content="绑定 赵校长 0001", user="principal")
    oa("绑定 张小明 1234", "oMOM")
    fake_wecom.add_media("MAP", samples.photo())
    app_post(client, now, msgtype="image", user="principal", MediaId="MAP")
    app_post(client, now, content="通知 一年级一班 明天运动会，请看场地图", user="principal")
    app_post(client, now, content="确认发送", user="principal")
    ext.sender.drain(db_session, now)
    db_session.commit()
    images = [c.json for c in fake_oa.sent("message/custom/send") if c.json.get("msgtype") == "image"]
    assert {c["touser"] for c in images} >= {"oMOM"} and all(c["image"]["media_id"] for c in images)
    assert [k for k, _ in fake_oa.uploads] == ["image"], "uploaded once, reused for every family"


class TestOutsideTheWindow:
    """An Official Account with a template configured (the fallback once the 48 hours are over)."""

    @pytest.fixture
    def settings_overrides(self, settings_overrides):
        creds = {**p.CREDENTIALS[p.SCHOOL], "wechat": {**p.CREDENTIALS[p.SCHOOL]["wechat"], "template_id": "TPL1",
                                                       "template_fields": "thing1:title,thing2:summary,time3:time"}}
        return {**settings_overrides, "platforms": {**p.CREDENTIALS, p.SCHOOL: creds}}

    def test_an_oa_family_gets_the_template_with_a_page_showing_the_picture(
            self, client, school, db_session, ext, now, fake_wecom, fake_oa):  # noqa: F811
        client.post(f"/wechat/{p.SCHOOL}", **p.oa_safe_post(p.oa_message(now, "绑定 张小明 1234", user="oMOM"), now))
        app_post(client, now, content="绑定 赵校长 0001", user="principal")
        fake_wecom.add_media("MAP", samples.photo())
        app_post(client, now, msgtype="image", user="principal", MediaId="MAP")
        app_post(client, now, content="通知 一年级一班 明天运动会，请看场地图", user="principal")
        app_post(client, now, content="确认发送", user="principal")
        later = now + dt.timedelta(days=3)  # the family's last message is 72 hours old: no customer-service message
        ext.sender.drain(db_session, later)
        db_session.commit()
        assert not [c for c in fake_oa.sent("message/custom/send") if c.json.get("msgtype") == "image"]
        urls = [c.json.get("url", "") for c in fake_oa.sent("message/template/send") if c.json.get("touser") == "oMOM"]
        pages = [client.get(path_of(u)) for u in urls if u]
        assert any(page.status_code == 200 and "<img" in page.get_data(as_text=True) for page in pages), urls
