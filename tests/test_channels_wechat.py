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
    assert data["template_id"] == "TPL1" and data["data"]["keyword1"]["value"] == "三天后"


@pytest.mark.parametrize("template_id", [""])
def test_without_a_template_a_closed_window_is_a_visible_failure(ext, db_session, parent, now):
    row = send(ext, db_session, parent, "三天后", now + dt.timedelta(hours=49))
    assert row.status == "failed" and "48小时" in row.last_error and row.error_code.startswith("wechat")
