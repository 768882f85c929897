"""DingTalk delivery against a fake api.dingtalk.com: sessionWebhook, group send, batchSend, errors."""

from __future__ import annotations

import datetime as dt
import json

import pytest

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
def settings_overrides(settings_overrides, fake_wecom, fake_oa, fake_dingtalk):  # noqa: F811
    return {**settings_overrides, **platform_settings(fake_wecom.url, fake_oa.url, fake_dingtalk.url)}


@pytest.fixture
def school(db_session):
    return make_school(db_session)


def ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


def send(ext, session, row_id, now):
    ext.sender.send_ids(session, [row_id], now)
    return session.get(OutboxMessage, row_id, populate_existing=True)


def test_group_reply_uses_live_session_webhook_then_group_send(ext, db_session, school, fake_dingtalk, now):  # noqa: F811
    ctx = {"session_webhook": fake_dingtalk.webhook_url("cid1"), "conversation_type": "2",
           "session_webhook_expires_at": ms(now + dt.timedelta(minutes=90))}
    row = send(ext, db_session, queue(db_session, now, "dingtalk", "cid1", "已收到", kind="group",
                                      school_id=school.id, context=ctx), now)
    assert row.channel == "dingtalk_webhook"
    assert fake_dingtalk.sent("/session/cid1")[0].json == {"msgtype": "text", "text": {"content": "已收到"}}
    assert not fake_dingtalk.sent("accessToken")  # no token needed for the webhook
    later = now + dt.timedelta(hours=2)  # the webhook has expired
    row = send(ext, db_session, queue(db_session, later, "dingtalk", "cid1", "稍后回复", kind="group",
                                      school_id=school.id, context=ctx), later)
    assert row.channel == "dingtalk_group"
    call = fake_dingtalk.sent("groupMessages/send")[0]
    assert call.json["openConversationId"] == "cid1" and call.json["robotCode"] == "dingkey"
    assert json.loads(call.json["msgParam"]) == {"content": "稍后回复"} and call.json["msgKey"] == "sampleText"
    assert call.headers["X-Acs-Dingtalk-Access-Token"] == fake_dingtalk.token


def test_private_message_goes_by_batch_send_and_refreshes_a_rejected_token(ext, db_session, school, fake_dingtalk,  # noqa: F811
                                                                          now):
    row = send(ext, db_session, queue(db_session, now, "dingtalk", "staff01", "**请查收**", school_id=school.id,
                                      fmt="markdown", title="通知"), now)
    call = fake_dingtalk.sent("batchSend")[0].json
    assert row.channel == "dingtalk_user" and call["userIds"] == ["staff01"] and call["msgKey"] == "sampleMarkdown"
    assert json.loads(call["msgParam"]) == {"title": "通知", "text": "**请查收**"}
    fake_dingtalk.expire_token()
    row = send(ext, db_session, queue(db_session, now, "dingtalk", "staff01", "二", school_id=school.id), now)
    assert row.status == "sent" and fake_dingtalk.tokens_issued == 2


def test_rate_limited_and_server_errors_retry_but_bad_requests_fail(ext, db_session, school, fake_dingtalk, now):  # noqa: F811
    fake_dingtalk.fail_next(status=429, body={"code": "Throttling", "message": "请求太频繁"}, path="batchSend")
    row = send(ext, db_session, queue(db_session, now, "dingtalk", "u1", "x", school_id=school.id), now)
    assert (row.status, row.error_code) == ("pending", "Throttling") and row.next_attempt_at >= now + dt.timedelta(
        seconds=60)
    fake_dingtalk.fail_next(status=503, path="batchSend")
    assert ext.sender.drain(db_session, row.next_attempt_at) == 0
    assert ext.sender.drain(db_session, now + dt.timedelta(hours=1)) == 1
    fake_dingtalk.fail_next(status=400, body={"code": "invalidParameter.robotCode", "message": "robot 不存在"})
    row = send(ext, db_session, queue(db_session, now, "dingtalk", "u2", "y", school_id=school.id), now)
    assert (row.status, row.error_code) == ("failed", "invalidParameter.robotCode")


def test_group_message_over_15000_bytes_is_split(ext, db_session, school, fake_dingtalk, now):  # noqa: F811
    text = "家长您好，" * 2000  # 30,000 bytes
    row = send(ext, db_session, queue(db_session, now, "dingtalk", "cid9", text, kind="group", school_id=school.id),
               now)
    parts = [json.loads(c.json["msgParam"])["content"] for c in fake_dingtalk.sent("groupMessages/send")]
    assert row.status == "sent" and len(parts) == 3 and "".join(parts) == text


def test_reply_uses_session_webhook_then_batch_send_chunked_in_20s(ext, db_session, school, fake_dingtalk, now):  # noqa: F811
    """Spec: the sessionWebhook while alive; once expired, batchSend with up to 20 users a call."""
    webhook = {"session_webhook": fake_dingtalk.webhook_url("dm"), "conversation_type": "1",
               "session_webhook_expires_at": ms(now + dt.timedelta(minutes=90))}
    live = [queue(db_session, now, "dingtalk", f"u{i}", "明天放假一天", school_id=school.id, context=webhook)
            for i in range(3)]
    assert ext.sender.send_ids(db_session, live, now) == 3
    assert len(fake_dingtalk.sent("/session/dm")) == 3 and not fake_dingtalk.sent("batchSend")
    later = now + dt.timedelta(hours=2)  # every webhook has expired: 45 copies of one reminder
    ids = [queue(db_session, later, "dingtalk", f"u{i}", "明天放假一天", school_id=school.id, context=webhook)
           for i in range(45)]
    other = queue(db_session, later, "dingtalk", "u0", "另一条", school_id=school.id)  # a different text
    assert ext.sender.drain(db_session, later) == 46
    calls = [c.json for c in fake_dingtalk.sent("batchSend")]
    assert sorted(len(c["userIds"]) for c in calls) == [1, 5, 20, 20]
    batched = [u for c in calls if json.loads(c["msgParam"])["content"] == "明天放假一天" for u in c["userIds"]]
    assert sorted(batched) == sorted(f"u{i}" for i in range(45))
    rows = [db_session.get(OutboxMessage, i, populate_existing=True) for i in [*ids, other]]
    assert {(r.status, r.channel) for r in rows} == {("sent", "dingtalk_user")}
    assert all(r.sent_chars == len(r.text) for r in rows)


def test_batch_answer_marks_invalid_users_failed_and_retries_flow_controlled(
        ext, db_session, school, fake_dingtalk, now):  # noqa: F811
    fake_dingtalk.invalid_staff, fake_dingtalk.flow_controlled = {"left01"}, {"busy01"}
    ids = [queue(db_session, now, "dingtalk", u, "周五开家长会", school_id=school.id)
           for u in ("t01", "left01", "busy01")]
    assert ext.sender.send_ids(db_session, ids, now) == 1
    assert len(fake_dingtalk.sent("batchSend")) == 1  # one call for the three
    ok, left, busy = (db_session.get(OutboxMessage, i, populate_existing=True) for i in ids)
    assert ok.status == "sent"
    assert (left.status, left.error_code) == ("failed", "invalid_staff_id") and "left01" in left.last_error
    assert (busy.status, busy.error_code) == ("pending", "flow_controlled") and busy.next_attempt_at > now
    fake_dingtalk.flow_controlled = set()
    assert ext.sender.drain(db_session, now + dt.timedelta(minutes=5)) == 1
    assert db_session.get(OutboxMessage, busy.id, populate_existing=True).status == "sent"
    assert fake_dingtalk.sent("batchSend")[-1].json["userIds"] == ["busy01"]


def test_single_private_row_reads_the_batch_answer_too(ext, db_session, school, fake_dingtalk, now):  # noqa: F811
    fake_dingtalk.invalid_staff = {"gone"}
    row = send(ext, db_session, queue(db_session, now, "dingtalk", "gone", "你好", school_id=school.id), now)
    assert (row.status, row.error_code) == ("failed", "invalid_staff_id")


def test_a_failed_batch_call_retries_every_row(ext, db_session, school, fake_dingtalk, now):  # noqa: F811
    fake_dingtalk.fail_next(status=503, path="batchSend")
    ids = [queue(db_session, now, "dingtalk", u, "提醒", school_id=school.id) for u in ("a1", "a2")]
    assert ext.sender.send_ids(db_session, ids, now) == 0
    rows = [db_session.get(OutboxMessage, i, populate_existing=True) for i in ids]
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 1)]


def test_a_teacher_the_robot_cannot_reach_gets_a_work_notice(ext, db_session, school, fake_dingtalk, now):  # noqa: F811
    """The robot reaches only people in its visible range; the app's 工作通知 reaches every staff member."""
    from models.identity import Identity
    from tests.factories import make_staff

    teacher = make_staff(db_session, school, "王芳", "13500000003", "head_teacher")
    db_session.flush()
    identity = Identity(platform="dingtalk", school_id=school.id, external_id="wangfang", staff_id=teacher.id)
    db_session.add(identity)
    db_session.commit()
    fake_dingtalk.invalid_staff.add("wangfang")
    row = send(ext, db_session, queue(db_session, now, "dingtalk", "wangfang", "新工单 2026-0001：食堂饭菜太咸",
                                      school_id=school.id, identity_id=identity.id, audience="staff"), now)
    assert (row.status, row.channel) == ("sent", "dingtalk_work_notice"), row.last_error
    [call] = fake_dingtalk.sent("/topapi/message/corpconversation/asyncsend_v2")
    assert call.json["agent_id"] == 2001 and call.json["userid_list"] == "wangfang"
    assert call.json["msg"] == {"msgtype": "text", "text": {"content": "新工单 2026-0001：食堂饭菜太咸"}}
    fake_dingtalk.invalid_staff.add("mom-gone")
    parent = send(ext, db_session, queue(db_session, now, "dingtalk", "mom-gone", "您好", school_id=school.id), now)
    assert (parent.status, parent.error_code) == ("failed", "invalid_staff_id")
    assert len(fake_dingtalk.sent("asyncsend_v2")) == 1, "work notices are for staff only"
