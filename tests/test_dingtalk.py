"""DingTalk robot HTTP callback: signatures, freshness, parsing, dedupe, replies after the ack."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from sqlalchemy import select

from models.inbound import InboundRecord
from models.outbox import OutboxMessage
from tests import payloads as p
from tests.factories import build_school
from tests.fakes.fixtures import fake_dingtalk  # noqa: F401 - fixture

URL = f"/dingtalk/{p.SCHOOL}/callback"


@pytest.fixture
def settings_overrides(settings_overrides, fake_dingtalk):  # noqa: F811
    return {**settings_overrides, "platforms": p.CREDENTIALS,
            "platform_api": {"dingtalk_api": fake_dingtalk.url, "dingtalk_oapi": fake_dingtalk.url,
                             "dingtalk_webhook_prefixes": ["https://oapi.dingtalk.com/", fake_dingtalk.url + "/session/"],
                             "timeout_seconds": 0.5}}


@pytest.fixture
def school(db_session, now):
    ts = build_school(db_session, now)
    db_session.commit()
    return ts


def stored(session, platform: str = "dingtalk") -> list[InboundRecord]:
    return list(session.scalars(select(InboundRecord).where(InboundRecord.platform == platform).order_by(InboundRecord.id)))


def outbox(session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def post(client, body, when, **kw):
    return client.post(URL, **p.dingtalk_request(body, when, **kw))


def test_signed_private_message_is_stored_and_answered_with_reply_handles(client, school, db_session, now):
    body = p.dingtalk_body(now, " 老师好")
    resp = post(client, body, now)
    assert resp.status_code == 200
    [record] = stored(db_session)
    assert record.text == "老师好" and not record.is_group and record.sender_external_id == "staff-001"
    [row] = outbox(db_session)
    assert "绑定" in row.text  # a stranger is asked to bind
    assert (row.platform, row.recipient_kind, row.address) == ("dingtalk", "user", "staff-001")
    assert row.context["session_webhook"] == body["sessionWebhook"]
    assert row.context["session_webhook_expires_at"] == body["sessionWebhookExpiredTime"]
    assert row.context["robot_code"] == p.ROBOT_CODE and row.context["sender_staff_id"] == "staff-001"
    assert row.status == "pending", "no platform call may happen before the platform's ack"


@pytest.mark.parametrize("sign", ["", "bm90LXRoZS1zaWdu", None])
def test_bad_empty_or_missing_sign_is_403_and_stores_nothing(client, school, db_session, now, sign):
    kw = p.dingtalk_request(p.dingtalk_body(now), now, sign=sign or "")
    if sign is None:
        del kw["headers"]["sign"]
    elif sign:
        kw["headers"]["sign"] = sign
    assert client.post(URL, **kw).status_code == 403
    assert stored(db_session) == []


def test_sign_made_with_another_secret_is_403(client, school, db_session, now):
    assert post(client, p.dingtalk_body(now), now, secret="not-the-secret").status_code == 403
    assert stored(db_session) == []


@pytest.mark.parametrize(("minutes", "status"), [(-61, 403), (61, 403), (-59, 200), (59, 200)])
def test_timestamp_must_be_within_an_hour(client, school, db_session, now, minutes, status):
    when = now + dt.timedelta(minutes=minutes)
    assert post(client, p.dingtalk_body(now), when).status_code == status
    assert len(stored(db_session)) == (1 if status == 200 else 0)


def test_missing_or_garbage_timestamp_is_403(client, school, now):
    kw = p.dingtalk_request(p.dingtalk_body(now), now)
    kw["headers"]["timestamp"] = "yesterday"
    assert client.post(URL, **kw).status_code == 403
    del kw["headers"]["timestamp"]
    assert client.post(URL, **kw).status_code == 403


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
def test_malformed_json_is_400(client, school, db_session, now, raw):
    assert post(client, raw, now).status_code == 400
    assert stored(db_session) == []


def test_body_over_one_megabyte_is_413(client, school, db_session, now):
    body = p.dingtalk_body(now, "长" * 400_000)
    assert post(client, body, now).status_code == 413
    assert stored(db_session) == []


def test_unknown_school_is_404(client, school, now):
    kw = p.dingtalk_request(p.dingtalk_body(now), now)
    assert client.post("/dingtalk/nowhere/callback", **kw).status_code == 404
    assert client.post("/dingtalk/ghost/callback", **kw).status_code == 404  # no dingtalk there


def test_redelivery_stores_once_and_gets_the_same_answer(client, school, db_session, now):
    body = p.dingtalk_body(now, " 孩子发烧请假", msg_id="msgDUP1")
    first = post(client, body, now)
    second = post(client, body, now + dt.timedelta(seconds=60))
    assert (first.status_code, first.data) == (second.status_code, second.data) == (200, b"{}\n")
    assert len(stored(db_session)) == 1
    assert len(outbox(db_session)) == 1


def test_group_message_has_leading_space_stripped_and_mentions_the_bot(client, school, db_session, now):
    body = p.dingtalk_body(now, " 帮助", group=True)
    assert post(client, body, now).status_code == 200
    [record] = stored(db_session)
    assert record.is_group and record.conversation_id == "cidGROUP001==" and record.text == "帮助"
    assert record.raw is not None and "sessionWebhook" not in record.raw  # the bearer URL is not logged


def test_empty_sender_staff_id_falls_back_to_sender_id(client, school, db_session, now):
    assert post(client, p.dingtalk_body(now, staff_id=""), now).status_code == 200
    [row] = outbox(db_session)
    assert row.address == "$:LWCP_v1:$abc" and row.context["sender_staff_id"] == ""


def test_voice_recognition_is_text(client, school, db_session, now):
    # Pictures are downloaded and kept: tests/test_media_platforms.py.
    audio = p.dingtalk_body(now, msgtype="audio", content={"recognition": "绑定 张小明 1234", "duration": 3})
    assert post(client, audio, now).status_code == 200
    texts = [r.text for r in outbox(db_session)]
    assert "绑定成功" in texts[0]


def test_parent_binds_and_their_message_is_replied_to_in_the_same_chat(client, school, db_session, now):
    """End to end: a DingTalk parent binds, writes, and the reply waits in the outbox for the channel."""
    post(client, p.dingtalk_body(now, " 绑定 张小明 1234", staff_id="mom-01", nick="李娟"), now)
    post(client, p.dingtalk_body(now, " 帮助", staff_id="mom-01", nick="李娟"), now)
    rows = outbox(db_session)
    assert "绑定成功" in rows[0].text and "张小明" in rows[0].text
    assert "张小明妈妈" in rows[1].text
    assert all((r.platform, r.address) == ("dingtalk", "mom-01") and r.context["session_webhook"] for r in rows)
    assert [r.text for r in stored(db_session)] == ["绑定 张小明 1234", "帮助"]


def test_reply_is_sent_through_the_session_webhook_after_the_response(client, school, db_session, now,
                                                                       fake_dingtalk):  # noqa: F811
    body = p.dingtalk_body(now, " 你好", sessionWebhook=fake_dingtalk.webhook_url("cidDM-staff-001"))
    resp = client.post(URL, buffered=False, **p.dingtalk_request(body, now))
    assert resp.status_code == 200
    # Before the answer the message is only stored: not handled, nothing queued, nothing sent.
    assert [r.status for r in stored(db_session)] == ["new"] and outbox(db_session) == []
    assert fake_dingtalk.sent("/session/cidDM-staff-001") == [], "nothing is sent before the ack"
    resp.close()  # the server finished writing the answer
    db_session.expire_all()
    assert [r.status for r in stored(db_session)] == ["processed"]
    [call] = fake_dingtalk.sent("/session/cidDM-staff-001")
    assert "绑定" in json.dumps(call.json, ensure_ascii=False)
    db_session.expire_all()
    assert outbox(db_session)[0].status == "sent"


def test_in_production_the_inbox_thread_handles_and_the_send_queue_sends(app, client, school, db_session, now,
                                                                        fake_dingtalk):  # noqa: F811
    """With app.inbox: thread the request only stores and wakes the inbox thread; replies go to the send queue."""
    import dataclasses

    from bot.outbound.send_queue import SendQueue
    from bot.platforms.common.webhook import inbox_thread, send_ids

    ext = app.extensions["lianxin"]
    offered: list[int] = []
    sends = SendQueue(offered.extend)  # the real queue; its thread records instead of sending, because
    app.extensions["lianxin.send_queue"] = sends  # the tests' sessions share one connection
    ext.settings = dataclasses.replace(ext.settings, app=dataclasses.replace(ext.settings.app, inbox="thread"))
    body = p.dingtalk_body(now, " 你好", sessionWebhook=fake_dingtalk.webhook_url("cidDM-q"))
    assert post(client, body, now).status_code == 200
    with app.app_context():
        assert inbox_thread(ext).wait_idle()  # the inbox thread handled the message…
    sends.join()  # …and handed its reply to the send queue (waiting for threads, not a clock)
    [row] = outbox(db_session)
    assert offered == [row.id] and stored(db_session)[0].status == "processed"
    assert send_ids(ext, offered) == 1 and len(fake_dingtalk.sent("/session/cidDM-q")) == 1


def test_a_full_send_queue_leaves_rows_to_the_scheduler():
    from bot.outbound.send_queue import SendQueue

    sent: list[list[int]] = []
    started, gate = threading.Event(), threading.Event()

    def send(ids: list[int]) -> None:
        started.set()
        gate.wait(5)
        sent.append(ids)

    q = SendQueue(send, maxsize=1)
    assert q.offer([1])
    assert started.wait(5)  # the thread took [1] and waits at the gate
    assert q.offer([2, 3]) and not q.offer([4])  # full: row 4 waits for drain_outbox
    gate.set()
    q.join()
    assert sorted(i for ids in sent for i in ids) == [1, 2, 3]


@pytest.mark.parametrize("url", [
    "http://oapi.dingtalk.com/robot/sendBySession?session=abc",  # not https
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://evil.example/robot/sendBySession",
    "https://oapi.dingtalk.com.evil.example/robot/sendBySession",
    "https://oapi.dingtalk.com@evil.example/robot/sendBySession",
    "https://oapi.dingtalk.com:8443/robot/sendBySession",
])
def test_a_session_webhook_off_the_dingtalk_hosts_is_never_fetched(client, school, db_session, now, url,
                                                                    fake_dingtalk, caplog):  # noqa: F811
    body = p.dingtalk_body(now, " 你好", sessionWebhook=url)
    assert post(client, body, now).status_code == 200
    [row] = outbox(db_session)
    assert "session_webhook" not in row.context  # replaced by the robot API
    assert "sessionWebhook" in caplog.text and "refused" in caplog.text
    assert row.status == "sent" and len(fake_dingtalk.sent("/v1.0/robot/oToMessages/batchSend")) == 1


def test_a_stored_row_with_a_foreign_webhook_goes_through_the_robot_api(ext, school, db_session, now,
                                                                         fake_dingtalk):  # noqa: F811
    from tests.fakes.fixtures import queue

    foreign = fake_dingtalk.url + "/elsewhere"
    fake_dingtalk.routes["/elsewhere"] = lambda call: fake_dingtalk.reply({"errcode": 0})
    row_id = queue(db_session, now, "dingtalk", "staff-001", school_id=school.school.id,
                   context={"session_webhook": foreign, "session_webhook_expires_at": p.ms(now) + 3_600_000,
                            "conversation_type": "1", "robot_code": p.ROBOT_CODE})
    assert ext.sender.send_ids(db_session, [row_id], now) == 1
    assert fake_dingtalk.sent("/elsewhere") == []
    assert len(fake_dingtalk.sent("/v1.0/robot/oToMessages/batchSend")) == 1


def test_a_captured_sign_cannot_carry_another_body(client, school, db_session, now):
    first = p.dingtalk_body(now, " 你好", msg_id="msgREAL")
    kw = p.dingtalk_request(first, now)
    assert client.post(URL, **kw).status_code == 200
    forged = p.dingtalk_body(now, " 全部工单", msg_id="msgFORGED", staff_id="principal-01")
    headers = kw["headers"]  # the same timestamp and sign, another body
    replay = client.post(URL, data=json.dumps(forged, ensure_ascii=False).encode(), headers=headers,
                         content_type="application/json")
    assert replay.status_code == 403
    assert [r.platform_msg_id for r in stored(db_session)] == ["msgREAL"]
    again = client.post(URL, **p.dingtalk_request(first, now))  # DingTalk's own redelivery: same msgId
    assert again.status_code == 200 and len(stored(db_session)) == 1


def test_the_remembered_signs_are_forgotten_after_their_hour(ext, client, school, db_session, now):
    from models import inbound
    from scheduler import jobs

    assert post(client, p.dingtalk_body(now, " 你好"), now).status_code == 200
    assert inbound.remembered_signatures(db_session) == 1
    jobs.process_inbox(ext, now + dt.timedelta(minutes=30))
    assert inbound.remembered_signatures(db_session) == 1
    jobs.process_inbox(ext, now + dt.timedelta(minutes=125))
    assert inbound.remembered_signatures(db_session) == 0


@pytest.mark.parametrize("outside", [{"senderCorpId": "ding-other-corp"}, {"senderStaffId": ""}])
def test_a_sender_outside_the_schools_directory_never_acts_as_staff(client, school, db_session, now, outside):
    principal = p.dingtalk_body(now, " 绑定 赵校长 0001", staff_id="zhao-01", **outside)
    assert post(client, principal, now).status_code == 200
    assert "不匹配" in outbox(db_session)[-1].text  # the staff binding is not offered outside the org


def test_a_bound_principal_writing_from_another_corp_gets_no_leader_commands(client, school, db_session, now):
    assert post(client, p.dingtalk_body(now, " 绑定 赵校长 0001", staff_id="zhao-01"), now).status_code == 200
    assert "绑定成功" in outbox(db_session)[-1].text
    post(client, p.dingtalk_body(now, " 全部工单", staff_id="zhao-01"), now)
    assert outbox(db_session)[-1].text == "本校目前没有工单。"
    forged = p.dingtalk_body(now, " 全部工单", staff_id="zhao-01", senderCorpId="ding-other-corp")
    post(client, forged, now)
    assert outbox(db_session)[-1].text.startswith("请先绑定身份")  # a stranger, not the principal


def test_nul_and_lone_surrogates_in_text_are_cleaned_not_a_500(client, school, db_session, now):
    body = p.dingtalk_body(now, " 食堂\u0000饭菜\ud800太咸", nick="李\u0000娟\udfff")
    assert post(client, json.dumps(body).encode(), now).status_code == 200  # \u escapes, as JSON allows
    [record] = stored(db_session)
    assert record.text == "食堂饭菜\ufffd太咸" and record.sender_name == "李娟\ufffd"
    assert record.status == "processed" and outbox(db_session)


@pytest.mark.parametrize("field", ["msgId", "senderStaffId", "conversationId"])
@pytest.mark.parametrize("bad", ["msg\u0000x", "msg\ud800x"])
def test_ids_that_cannot_be_stored_are_400(client, school, db_session, now, field, bad):
    body = p.dingtalk_body(now, " 你好", **{field: bad})
    assert post(client, json.dumps(body).encode(), now).status_code == 400
    assert stored(db_session) == []


def test_json_nested_too_deep_is_400(client, school, db_session, now):
    deep = b'{"a": ' * 100_000 + b"1" + b"}" * 100_000
    assert post(client, deep, now).status_code == 400
    assert stored(db_session) == []
