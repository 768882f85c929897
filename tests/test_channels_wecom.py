"""WeCom delivery against a fake qyapi server: app messages, tokens, retries, kf windows, robots."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.outbound.channels import build_sender
from models.identity import Identity
from models.outbox import OutboxMessage
from models.tokens import AccessToken
from tests.fakes.fixtures import (  # noqa: F401 - fixtures
    fake_dingtalk,
    fake_oa,
    fake_wecom,
    make_group,
    make_school,
    platform_settings,
    queue,
)


@pytest.fixture
def settings_overrides(settings_overrides, fake_wecom, fake_oa, fake_dingtalk):  # noqa: F811
    return {**settings_overrides, **platform_settings(fake_wecom.url, fake_oa.url, fake_dingtalk.url,
                                                      school_notice=True)}


@pytest.fixture
def school(db_session):
    return make_school(db_session)


def send(ext, session, row_id, now):
    ext.sender.send_ids(session, [row_id], now)
    return session.get(OutboxMessage, row_id, populate_existing=True)


def test_app_message_is_sent_with_cached_token_shared_by_processes(ext, db_session, school, fake_wecom, now):  # noqa: F811
    row = send(ext, db_session, queue(db_session, now, "wecom_app", "zhanglaoshi", "明天家长会", school_id=school.id,
                                      title="通知"), now)
    assert row.status == "sent" and row.channel == "wecom_app"
    call = fake_wecom.sent("message/send")[0]
    assert call.json["touser"] == "zhanglaoshi" and call.json["agentid"] == 1000002
    assert call.json["text"]["content"] == "【通知】\n明天家长会"
    assert call.json["enable_duplicate_check"] == 1
    assert db_session.query(AccessToken).one().value == fake_wecom.token
    # A second process (another sender) reuses the token from the database.
    other = build_sender(ext.settings)
    other.send_ids(db_session, [queue(db_session, now, "wecom_app", "lilaoshi", "收到", school_id=school.id)], now)
    assert fake_wecom.tokens_issued == 1
    assert fake_wecom.sent("message/send")[1].args["access_token"] == fake_wecom.token


def test_expired_token_is_refreshed_and_the_call_retried_once(ext, db_session, school, fake_wecom, now):  # noqa: F811
    send(ext, db_session, queue(db_session, now, "wecom_app", "a", "一", school_id=school.id), now)
    fake_wecom.expire_token()
    row = send(ext, db_session, queue(db_session, now, "wecom_app", "a", "二", school_id=school.id), now)
    assert row.status == "sent" and fake_wecom.tokens_issued == 2
    codes = [c.args.get("access_token") for c in fake_wecom.sent("message/send")]
    assert codes[-2].startswith("tok-1") and codes[-1] == "tok-2"
    # A token refused twice in a row is not retried forever: the row waits for a later try.
    fake_wecom.fail_next(2, errcode=42001, path="message/send")
    row = send(ext, db_session, queue(db_session, now, "wecom_app", "a", "三", school_id=school.id), now)
    assert row.status == "pending" and row.error_code == "42001"


@pytest.mark.parametrize("failure, code", [
    ({"status": 502}, "http_502"),
    ({"delay": 2.0}, "network"),  # slower than the 1.5 s client timeout
    ({"errcode": 45009}, "45009"),
    ({"errcode": -1}, "-1"),
])
def test_transient_failures_are_retried_later(ext, db_session, school, fake_wecom, now, failure, code):  # noqa: F811
    fake_wecom.issue_token()
    row_id = queue(db_session, now, "wecom_app", "a", "稍后重试", school_id=school.id)
    fake_wecom.fail_next(**failure, path="message/send")
    row = send(ext, db_session, row_id, now)
    assert (row.status, row.attempts, row.error_code) == ("pending", 1, code)
    assert row.next_attempt_at > now
    assert ext.sender.drain(db_session, now) == 0  # not due yet
    assert ext.sender.drain(db_session, row.next_attempt_at) == 1
    assert db_session.get(OutboxMessage, row_id, populate_existing=True).status == "sent"


def test_permanent_error_is_recorded_with_the_platform_code(ext, db_session, school, fake_wecom, now):  # noqa: F811
    fake_wecom.fail_next(errcode=60020, path="message/send")
    row = send(ext, db_session, queue(db_session, now, "wecom_app", "a", "x", school_id=school.id), now)
    assert (row.status, row.error_code) == ("failed", "60020")
    assert ext.sender.drain(db_session, now + dt.timedelta(days=1)) == 0


def test_long_text_is_split_on_utf8_boundaries_in_order(ext, db_session, school, fake_wecom, now):  # noqa: F811
    text = "".join(f"第{i}条：请家长于周五前交回回执。\n" for i in range(200))
    row = send(ext, db_session, queue(db_session, now, "wecom_app", "a", text, school_id=school.id), now)
    parts = [c.json["text"]["content"] for c in fake_wecom.sent("message/send")]
    assert row.status == "sent" and len(parts) > 1
    assert all(len(p.encode()) <= 2048 for p in parts) and "".join(parts) == text


def test_kf_reply_inside_window_then_school_notice_fallback(ext, db_session, school, fake_wecom, now):  # noqa: F811
    ident = Identity(platform="wecom_kf", school_id=school.id, external_id="wmParent",
                     last_inbound_at=now - dt.timedelta(hours=1))
    db_session.add(ident)
    db_session.commit()
    ctx = {"open_kfid": "wkKF1", "parent_userid": "parent-7"}
    ids = [queue(db_session, now, "wecom_kf", "wmParent", f"回复{i}", school_id=school.id, context=ctx)
           for i in range(6)]
    ext.sender.send_ids(db_session, ids, now)
    rows = [db_session.get(OutboxMessage, i) for i in ids]
    assert [r.channel for r in rows] == ["wecom_kf"] * 5 + ["wecom_school"]  # 5 within 48 h
    kf = fake_wecom.sent("kf/send_msg")[0].json
    assert kf["open_kfid"] == "wkKF1" and kf["touser"] == "wmParent" and kf["text"]["content"] == "回复0"
    notice = fake_wecom.sent("externalcontact/message/send")[0].json
    assert notice["to_parent_userid"] == ["parent-7"] and notice["text"]["content"] == "回复5"
    # The platform's own 45015 also moves the message to the fallback.
    ident.last_inbound_at = now
    db_session.commit()
    fake_wecom.fail_next(errcode=45015, path="kf/send_msg")
    row = send(ext, db_session, queue(db_session, now, "wecom_kf", "wmParent", "窗口", school_id=school.id,
                                      context=ctx), now + dt.timedelta(minutes=1))
    assert (row.status, row.channel) == ("sent", "wecom_school")


def test_kf_window_closed_without_fallback_fails_with_a_clear_reason(ext, db_session, school, now):
    row = send(ext, db_session, queue(db_session, now, "wecom_kf", "wmStranger", "hi", school_id=school.id,
                                      context={"open_kfid": "wkKF1"}), now)
    assert row.status == "failed" and "48小时" in row.last_error


def test_group_robot_limit_holds_excess_messages_for_later(ext, db_session, school, fake_wecom, now):  # noqa: F811
    make_group(db_session, school, "班级群", robot_key="robotkey")
    ids = [queue(db_session, now, "wecom_webhook", "班级群", f"通知{i}", kind="group", school_id=school.id)
           for i in range(25)]
    assert ext.sender.send_ids(db_session, ids, now) == 20
    waiting = [db_session.get(OutboxMessage, i) for i in ids[20:]]
    assert all(r.status == "pending" and r.attempts == 0 and r.next_attempt_at > now for r in waiting)
    assert ext.sender.drain(db_session, now + dt.timedelta(seconds=61)) == 5
    sent = [c.json["text"]["content"] for c in fake_wecom.sent("webhook/send")]
    assert sent == [f"通知{i}" for i in range(25)] and fake_wecom.sent("webhook/send")[0].args["key"] == "robotkey"


def test_aibot_rows_answering_one_message_share_its_response_url_then_the_group_robot(
        ext, db_session, school, fake_wecom, now):  # noqa: F811
    make_group(db_session, school, "chat1", robot_key="chat1-robot-key")
    ctx = {"response_url": fake_wecom.url + "/aibot/response", "chatid": "chat1"}
    first = queue(db_session, now, "wecom_aibot", "chat1", "第一条", kind="group", school_id=school.id, context=ctx)
    second = queue(db_session, now, "wecom_aibot", "chat1", "第二条", kind="group", school_id=school.id, context=ctx)
    ext.sender.send_ids(db_session, [first, second], now)
    [call] = fake_wecom.sent("/aibot/response")  # the url answers once: both in one answer
    assert call.json["markdown"]["content"] == "第一条\n\n第二条"
    assert {db_session.get(OutboxMessage, i, populate_existing=True).channel for i in (first, second)} == {"wecom_aibot"}
    third = queue(db_session, now, "wecom_aibot", "chat1", "第三条", kind="group", school_id=school.id, context=ctx)
    ext.sender.send_ids(db_session, [third], now)  # the url is used: this group's own robot
    assert db_session.get(OutboxMessage, third).channel == "wecom_webhook"
    assert fake_wecom.sent("webhook/send")[0].args["key"] == "chat1-robot-key"
    assert len(fake_wecom.sent("/aibot/response")) == 1


def test_aibot_private_row_without_url_goes_by_app_to_staff_and_waits_for_parents(
        ext, db_session, school, fake_wecom, now):  # noqa: F811
    from tests.factories import make_staff

    teacher = make_staff(db_session, school, "王芳", "13500000003")
    db_session.flush()
    staff = Identity(platform="wecom_aibot", school_id=school.id, external_id="wangfang", staff_id=teacher.id)
    parent = Identity(platform="wecom_aibot", school_id=school.id, external_id="mom-wx")
    db_session.add_all([staff, parent])
    db_session.flush()
    to_staff = queue(db_session, now, "wecom_aibot", "wangfang", "工单详情", school_id=school.id,
                     identity_id=staff.id)
    to_parent = queue(db_session, now, "wecom_aibot", "mom-wx", "您的反馈详情", school_id=school.id,
                      identity_id=parent.id)
    ext.sender.send_ids(db_session, [to_staff, to_parent], now)
    sent = db_session.get(OutboxMessage, to_staff, populate_existing=True)
    assert (sent.status, sent.channel) == ("sent", "wecom_app"), sent.last_error
    assert fake_wecom.sent("message/send")[0].json["touser"] == "wangfang"
    waiting = db_session.get(OutboxMessage, to_parent, populate_existing=True)
    assert (waiting.status, waiting.error_code, waiting.attempts) == ("pending", "await_contact", 0)
    assert not fake_wecom.sent("webhook/send"), "private details never go to a group"
    later = now + dt.timedelta(days=3)
    assert ext.sender.drain(db_session, later) == 0
    failed = db_session.get(OutboxMessage, to_parent, populate_existing=True)
    assert (failed.status, failed.error_code) == ("failed", "no_private_chat") and "电话" in failed.last_error


def test_sending_options_are_typed_credentials_with_secrets_from_the_environment():
    from config.exceptions import SettingsError
    from config.platforms import build_platforms, env_layer

    raw = {"s1": {"wecom": {"corp_id": "ww1", "agent_id": "1", "school_notice": "true"},
                  "wechat": {"app_id": "wx1", "template_id": "TPL9", "template_fields": "thing1:title"}}}
    env = {"LIANXIN_S1_WECOM_TOKEN": "t", "LIANXIN_S1_WECOM_AES_KEY": "a" * 43,
           "LIANXIN_S1_WECOM_SECRET": "wecom-app-secret-xyz", "LIANXIN_S1_WECHAT_TOKEN": "t",
           "LIANXIN_S1_WECHAT_SECRET": "s"}
    for code, platforms in env_layer(env, raw).items():
        for platform, keys in platforms.items():
            raw[code][platform].update(keys)
    creds = build_platforms(raw)["s1"]
    assert creds.wecom.school_notice is True
    assert creds.wechat.template_id == "TPL9" and "wecom-app-secret-xyz" not in repr(creds)
    raw["s1"]["wecom"]["school_notice"] = "maybe"
    with pytest.raises(SettingsError, match="school_notice"):
        build_platforms(raw)


def test_a_network_error_never_stores_a_secret_or_a_token(ext, db_session, school, now, runner):
    """requests puts the URL (access_token=…, corpsecret=…) in a connection error; none of it is stored."""
    import dataclasses
    import socket

    from sqlalchemy import delete, select

    sent = send(ext, db_session, queue(db_session, now, "wecom_app", "a", "一", school_id=school.id), now)
    assert sent.status == "sent"
    token = db_session.scalar(select(AccessToken.value))
    with socket.socket() as probe:  # a loopback port nobody listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    api = dataclasses.replace(ext.settings.platform_api, wecom_api=f"http://127.0.0.1:{closed}/cgi-bin/")
    ext.sender = build_sender(dataclasses.replace(ext.settings, platform_api=api))
    row = send(ext, db_session, queue(db_session, now, "wecom_app", "b", "二", school_id=school.id), now)
    assert row.error_code == "network" and "access_token=***" in row.last_error
    assert token not in row.last_error
    db_session.execute(delete(AccessToken))  # the next call must fetch a token: gettoken?corpsecret=…
    db_session.commit()
    row = send(ext, db_session, queue(db_session, now, "wecom_app", "c", "三", school_id=school.id), now)
    assert row.error_code == "network" and "corpsecret=***" in row.last_error
    assert "appsecret" not in row.last_error
    listing = runner.invoke(args=["outbox", "list"]).output
    assert "appsecret" not in listing and token not in listing


def test_a_notice_for_two_groups_never_goes_to_the_wrong_group(ext, db_session, school, fake_wecom, now):  # noqa: F811
    """Each group's rows use that group's robot; a group without one reaches its families privately."""
    from models.directory import Guardian, Guardianship, Student
    from models.identity import IdentityBinding

    make_group(db_session, school, "chat-a", robot_key="robot-a", class_name="一年级一班")
    without = make_group(db_session, school, "chat-b", class_name="一年级二班")
    mum = Guardian(school_id=school.id, name="刘芳", phone="13600002222")
    kid = Student(school_id=school.id, school_class=without.school_class, name="陈大宝")
    pair = Guardianship(guardian=mum, student=kid, relation="妈妈")
    parent = Identity(platform="wecom_kf", school_id=school.id, external_id="wm-chen-mum")
    db_session.add_all([mum, kid, pair, parent])
    db_session.flush()
    db_session.add(IdentityBinding(identity=parent, guardianship=pair, bound_at=now, method="phone"))
    db_session.commit()
    a = queue(db_session, now, "wecom_aibot", "chat-a", "周五家长会", kind="group", school_id=school.id)
    b = queue(db_session, now, "wecom_aibot", "chat-b", "周五家长会", kind="group", school_id=school.id,
              ref="notice:7")
    ext.sender.send_ids(db_session, [a, b], now)
    assert [c.args["key"] for c in fake_wecom.sent("webhook/send")] == ["robot-a"]  # never chat-b's messages
    row_b = db_session.get(OutboxMessage, b, populate_existing=True)
    assert (row_b.status, row_b.channel) == ("sent", "families")
    [copy] = db_session.scalars(select(OutboxMessage).where(OutboxMessage.address == "wm-chen-mum")).all()
    assert copy.platform == "wecom_kf" and "周五家长会" in copy.text and copy.ref == "notice:7"
    ext.sender.send_ids(db_session, [b], now)  # sent once: no second copy
    assert db_session.scalars(select(OutboxMessage).where(OutboxMessage.address == "wm-chen-mum")).all() == [copy]


def test_a_school_wide_robot_key_is_refused_with_what_to_do_instead():
    from config.exceptions import SettingsError
    from config.platforms import build_platforms, env_layer

    raw = {"s1": {"wecom": {"corp_id": "ww1", "agent_id": "1"}}}
    env = {"LIANXIN_S1_WECOM_TOKEN": "t", "LIANXIN_S1_WECOM_AES_KEY": "a" * 43, "LIANXIN_S1_WECOM_SECRET": "s",
           "LIANXIN_S1_WECOM_WEBHOOK_KEY": "robot-key"}
    for code, platforms in env_layer(env, raw).items():
        for platform, keys in platforms.items():
            raw[code][platform].update(keys)
    with pytest.raises(SettingsError, match="设置群机器人") as caught:
        build_platforms(raw)
    assert caught.value.key == "platforms.s1.wecom.webhook_key"
