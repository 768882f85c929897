"""Official Account delivery against a fake api.weixin: customer service in the window, template after."""

from __future__ import annotations

import datetime as dt

import pytest

from models.identity import Identity
from models.outbox import OutboxMessage
from tests.fakes.fixtures import (  # noqa: F401 - fixtures
    fake_dingtalk,
    fake_oa,
    fake_wecom,
    make_school,
    platform_settings,
    queue,
)


@pytest.fixture
def template_id() -> str:
    return "TPL1"


@pytest.fixture
def settings_overrides(settings_overrides, fake_wecom, fake_oa, fake_dingtalk, template_id):  # noqa: F811
    return {**settings_overrides, **platform_settings(fake_wecom.url, fake_oa.url, fake_dingtalk.url,
                                                      template_id=template_id)}


@pytest.fixture
def parent(db_session, now):
    school = make_school(db_session)
    ident = Identity(platform="wechat", school_id=school.id, external_id="oParent1",
                     last_inbound_at=now - dt.timedelta(hours=2))
    db_session.add(ident)
    db_session.commit()
    return ident


def send(ext, session, parent, text, now):
    row_id = queue(session, now, "wechat", "oParent1", text, school_id=parent.school_id)
    ext.sender.send_ids(session, [row_id], now)
    return session.get(OutboxMessage, row_id, populate_existing=True)


def test_customer_service_message_inside_the_window(ext, db_session, parent, fake_oa, now):  # noqa: F811
    row = send(ext, db_session, parent, "孩子已到校", now)
    assert (row.status, row.channel) == ("sent", "wechat")
    call = fake_oa.sent("message/custom/send")[0]
    assert call.json == {"touser": "oParent1", "msgtype": "text", "text": {"content": "孩子已到校"}}
    assert fake_oa.sent("/cgi-bin/token")[0].args["appid"] == "wxapp"


def test_45015_and_a_closed_window_fall_back_to_the_template(ext, db_session, parent, fake_oa, now):  # noqa: F811
    fake_oa.fail_next(errcode=45015, path="message/custom/send")
    row = send(ext, db_session, parent, "请回复", now)
    assert (row.status, row.channel) == ("sent", "wechat_template")
    later = now + dt.timedelta(hours=47)
    row = send(ext, db_session, parent, "三天后", later + dt.timedelta(hours=2))  # 49 h after the last message
    assert row.channel == "wechat_template" and len(fake_oa.sent("message/custom/send")) == 1
    data = fake_oa.sent("message/template/send")[-1].json
    assert data["template_id"] == "TPL1" and data["data"]["thing2"]["value"] == "三天后"


LONG = "本周五下午三点在学校礼堂召开全体家长会，请各位家长准时参加，并带好笔记本。会后各班主任留下交流。"


def test_a_template_message_fits_the_templates_own_fields_and_links_to_the_whole_text(
        ext, db_session, parent, fake_oa, client, now):  # noqa: F811
    row_id = queue(db_session, now, "wechat", "oParent1", LONG, school_id=parent.school_id, title="家长会通知")
    later = now + dt.timedelta(hours=49)
    ext.sender.send_ids(db_session, [row_id], later)
    row = db_session.get(OutboxMessage, row_id, populate_existing=True)
    assert (row.status, row.channel) == ("sent", "wechat_template"), row.last_error
    [call] = fake_oa.sent("message/template/send")  # one message, not the text cut into pieces
    data = call.json["data"]
    assert set(data) == {"thing1", "thing2", "time3"}
    assert data["thing1"]["value"] == "家长会通知"
    assert len(data["thing2"]["value"]) == 20 and data["thing2"]["value"].endswith("…")
    assert data["time3"]["value"] == "2026年11月23日 10:00"
    page = client.get("/" + call.json["url"].split("/", 3)[3])
    assert page.status_code == 200 and LONG in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("template_id", ["SUB1"])
def test_a_subscribe_message_goes_to_subscribers_and_a_refusal_is_explained(
        ext, db_session, parent, fake_oa, now, settings_overrides):  # noqa: F811
    from bot.outbound.channels import build_sender
    from config.settings import load_settings

    settings = {**settings_overrides}
    settings["platforms"]["fake-school"]["wechat"]["template_kind"] = "subscribe"
    ext.sender = build_sender(load_settings(settings))
    later = now + dt.timedelta(hours=49)
    row_id = queue(db_session, now, "wechat", "oParent1", LONG, school_id=parent.school_id, title="家长会通知")
    ext.sender.send_ids(db_session, [row_id], later)
    row = db_session.get(OutboxMessage, row_id, populate_existing=True)
    assert (row.status, row.channel) == ("sent", "wechat_subscribe"), row.last_error
    call = fake_oa.sent("message/subscribe/bizsend")[0].json
    assert call["page"].split("/")[-2] == "m" and call["data"]["thing1"]["value"] == "家长会通知"
    fake_oa.unsubscribed.add("oParent1")
    row_id = queue(db_session, now, "wechat", "oParent1", "再次通知", school_id=parent.school_id)
    ext.sender.send_ids(db_session, [row_id], later)
    row = db_session.get(OutboxMessage, row_id, populate_existing=True)
    assert row.status == "failed" and row.error_code == "43101" and "没有订阅" in row.last_error


def test_a_template_without_its_field_mapping_is_refused_at_start_up():
    from config.exceptions import SettingsError
    from config.platforms import build_platforms

    with pytest.raises(SettingsError, match="template_fields") as caught:
        build_platforms({"s1": {"wechat": {"app_id": "wx1", "token": "t", "secret": "s", "template_id": "TPL"}}})
    assert caught.value.key == "platforms.s1.wechat.template_fields"
    with pytest.raises(SettingsError, match="first"):
        build_platforms({"s1": {"wechat": {"app_id": "wx1", "token": "t", "secret": "s", "template_id": "TPL",
                                           "template_fields": "first:title,keyword1:summary"}}})


@pytest.mark.parametrize("template_id", [""])
def test_without_a_template_a_closed_window_is_a_visible_failure(ext, db_session, parent, now):
    row = send(ext, db_session, parent, "三天后", now + dt.timedelta(hours=49))
    assert row.status == "failed" and "48小时" in row.last_error and row.error_code.startswith("wechat")
