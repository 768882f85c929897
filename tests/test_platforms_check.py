"""The setup doctor (flask platforms check) against fake platform servers returning the errors schools hit."""

from __future__ import annotations

import pytest

from models.outbox import OutboxMessage
from tests.fakes.dingtalk_stream import FakeStreamGateway
from tests.fakes.fixtures import (  # noqa: F401 - fixtures
    SCHOOL,
    fake_dingtalk,
    fake_oa,
    fake_wecom,
    make_school,
    platform_settings,
    queue,
)


@pytest.fixture
def settings_overrides(settings_overrides, fake_wecom, fake_oa, fake_dingtalk):  # noqa: F811
    found = {**settings_overrides, **platform_settings(fake_wecom.url, fake_oa.url, fake_dingtalk.url,
                                                       school_notice=True, wecom_aibot=True)}
    found["app"] = {**found["app"], "base_url": "https://lianxin.example.edu.cn"}
    return found


@pytest.fixture
def fake_school(db_session):
    school = make_school(db_session)
    db_session.commit()
    return school


def check(runner, *args: str):
    return runner.invoke(args=["platforms", "check", "--school", SCHOOL, *args])


def test_a_school_set_up_right_gets_only_ticks_and_the_callback_urls(runner, fake_school):
    result = check(runner)
    assert result.exit_code == 0, result.output
    assert "✗" not in result.output and "一切正常" in result.output
    assert f"https://lianxin.example.edu.cn/wecom/{SCHOOL}/app" in result.output
    assert f"https://lianxin.example.edu.cn/dingtalk/{SCHOOL}/callback" in result.output
    assert "可以发学校通知" in result.output


def test_wecom_60020_is_translated_into_the_trusted_ip_setting(runner, fake_school, fake_wecom):  # noqa: F811
    fake_wecom.fail_next(errcode=60020, path="agent/get")
    result = check(runner)
    assert result.exit_code == 1
    assert "60020" in result.output and "企业可信IP" in result.output and "需要管理员处理" in result.output


def test_oa_40164_is_translated_into_the_ip_whitelist(runner, fake_school, fake_oa):  # noqa: F811
    fake_oa.fail_next(errcode=40164, path="/token")
    result = check(runner)
    assert result.exit_code == 1 and "40164" in result.output and "IP白名单" in result.output


def test_an_app_outside_parents_usable_apps_cannot_send_school_notices(runner, fake_school, fake_wecom):  # noqa: F811
    fake_wecom.allow_scope = {}
    result = check(runner)
    assert result.exit_code == 1 and "家长可使用的应用" in result.output and "学校通知发不出去" in result.output


def test_a_missing_kf_account_names_the_accounts_that_exist(runner, fake_school, fake_wecom):  # noqa: F811
    fake_wecom.kf_accounts = ["wkOTHER"]
    result = check(runner)
    assert result.exit_code == 1 and "wkKF1" in result.output and "wkOTHER" in result.output


def test_wrong_dingtalk_credentials_say_where_to_find_them(runner, fake_school, fake_dingtalk):  # noqa: F811
    fake_dingtalk.fail_next(status=400, path="accessToken", body={"code": "invalidClientId", "message": "bad"})
    result = check(runner)
    assert result.exit_code == 1 and "凭证与基础信息" in result.output


def test_a_robot_without_permission_seen_by_the_sender_is_explained(runner, fake_school, db_session, ext, now,
                                                                     fake_dingtalk):  # noqa: F811
    fake_dingtalk.fail_next(status=403, path="batchSend", body={
        "code": "Forbidden.AccessDenied.AccessTokenPermissionDenied", "message": "没有调用该接口的权限"})
    row_id = queue(db_session, now, "dingtalk", "staff-9", "您好", school_id=fake_school.id)
    ext.sender.send_ids(db_session, [row_id], now)
    db_session.commit()
    row = db_session.get(OutboxMessage, row_id)
    assert (row.status, row.error_code) == ("failed", "Forbidden.AccessDenied.AccessTokenPermissionDenied")
    result = check(runner)
    assert result.exit_code == 1 and "qyapi_robot_sendmsg" in result.output and f"#{row_id}" in result.output


def test_a_dingtalk_robot_that_is_not_published_is_explained(runner, fake_school, db_session, now):
    row = OutboxMessage(school_id=fake_school.id, platform="dingtalk", recipient_kind="user", address="x", text="t",
                        status="failed", error_code="resource.not.found", last_error="HTTP 404: 机器人不存在", created_at=now)
    db_session.add(row)
    db_session.commit()
    assert "点击「发布」" in check(runner).output


def test_a_local_base_url_is_refused_for_callbacks(runner, fake_school, app):
    from app import lianxin

    settings = lianxin(app).settings
    object.__setattr__(settings.app, "base_url", "http://127.0.0.1:8000")
    result = check(runner)
    assert result.exit_code == 1 and "LIANXIN_APP_BASE_URL" in result.output


def test_stream_mode_checks_the_gateway_instead_of_a_callback_url(runner, fake_school, fake_dingtalk, app):  # noqa: F811
    from app import lianxin

    creds = lianxin(app).settings.platforms[SCHOOL].dingtalk
    object.__setattr__(creds, "mode", "stream")
    FakeStreamGateway(fake_dingtalk)  # serves connections/open
    result = check(runner)
    assert "Stream 网关接受了连接请求" in result.output and f"/dingtalk/{SCHOOL}/callback" not in result.output
    del fake_dingtalk.routes["/v1.0/gateway/connections/open"]
    assert "消息接收模式设为「Stream 模式」" in check(runner).output


def test_an_unknown_school_is_named(runner, fake_school):
    result = runner.invoke(args=["platforms", "check", "--school", "nowhere"])
    assert result.exit_code != 0 and "nowhere" in result.output
