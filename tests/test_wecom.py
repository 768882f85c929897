"""WeCom callbacks: the self-built app (XML), the AI bot (JSON) and 微信客服 (event + sync_msg)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from wechatpy.enterprise.crypto import WeChatCrypto as CorpCrypto

from bot.platforms.wecom_kf.webhook import sync_kf
from models.inbound import InboundRecord
from models.outbox import OutboxMessage
from models.platform_state import KfCursor
from tests import payloads as p
from tests.factories import build_school
from tests.fakes.fixtures import fake_wecom  # noqa: F401 - fixture

APP = f"/wecom/{p.SCHOOL}/app"
AIBOT = f"/wecom/{p.SCHOOL}/aibot"
KF = f"/wecom/{p.SCHOOL}/kf"


@pytest.fixture
def settings_overrides(settings_overrides, fake_wecom):  # noqa: F811
    return {**settings_overrides, "platforms": p.CREDENTIALS,
            "platform_api": {"wecom_api": f"{fake_wecom.url}/cgi-bin/", "timeout_seconds": 0.5}}


@pytest.fixture
def school(db_session, now):
    ts = build_school(db_session, now)
    db_session.commit()
    return ts


def stored(session, platform: str) -> list[InboundRecord]:
    return list(session.scalars(select(InboundRecord).where(InboundRecord.platform == platform)
                                .order_by(InboundRecord.id)))


def outbox(session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# --- self-built app ----------------------------------------------------------------------------

def test_url_check_returns_the_exact_plaintext_echostr(client, school, now):
    resp = client.get(APP, query_string=p.echostr_args("1616140317555161061", now))
    assert resp.status_code == 200 and resp.data == b"1616140317555161061"


def test_url_check_with_bad_signature_is_403(client, school, now):
    args = {**p.echostr_args("123", now), "msg_signature": "0" * 40}
    assert client.get(APP, query_string=args).status_code == 403


def test_app_text_is_stored_and_answered_later_with_an_empty_ack(client, school, db_session, now):
    resp = client.post(APP, buffered=False, **p.wecom_post(p.wecom_text(now, "老师好"), now))
    assert resp.status_code == 200
    [record] = stored(db_session, "wecom_app")
    assert (record.text, record.sender_external_id, record.is_group) == ("老师好", "zhangsan", False)
    assert record.status == "new" and outbox(db_session) == [], "handled only after the answer"
    assert resp.data == b""  # reading the body does not close the response
    resp.close()  # the server wrote the answer: the message is handled and the reply sent
    db_session.expire_all()
    assert record.status == "processed"
    [row] = outbox(db_session)
    assert (row.platform, row.address, row.context) == ("wecom_app", "zhangsan", {"agent_id": "1000002"})
    assert row.status == "sent"


def test_bad_msg_signature_is_403_and_stores_nothing(client, school, db_session, now):
    kw = p.wecom_post(p.wecom_text(now), now)
    kw["query_string"]["msg_signature"] = "f" * 40
    assert client.post(APP, **kw).status_code == 403
    assert stored(db_session, "wecom_app") == []


def test_wrong_corp_id_is_403_not_500(client, school, db_session, now):
    resp = client.post(APP, **p.wecom_post(p.wecom_text(now), now, receive_id="ww-someone-else"))
    assert resp.status_code == 403
    assert stored(db_session, "wecom_app") == []


def test_wrong_aes_key_is_rejected_without_a_500(client, school, now):
    resp = client.post(APP, **p.wecom_post(p.wecom_text(now), now, aes_key=p.OTHER_AES_KEY))
    assert resp.status_code in (400, 403)


@pytest.mark.parametrize("minutes", [-11, 11])
def test_stale_timestamp_is_403(client, school, now, minutes):
    kw = p.wecom_post(p.wecom_text(now), now + dt.timedelta(minutes=minutes))
    assert client.post(APP, **kw).status_code == 403


@pytest.mark.parametrize("body", [
    b"", b"not xml at all", b"<xml><Encrypt>abc", b"<other/>", b"<xml><ToUserName>x</ToUserName></xml>",
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Encrypt>&xxe;</Encrypt></xml>',
    b'<!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml><Encrypt>&b;</Encrypt></xml>',
])
def test_empty_malformed_or_dtd_body_is_400(client, school, db_session, now, body):
    kw = p.wecom_post(p.wecom_text(now), now)
    kw["data"] = body
    assert client.post(APP, **kw).status_code == 400
    assert stored(db_session, "wecom_app") == []


def test_decrypted_payload_with_a_dtd_is_400(client, school, now):
    evil = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]><xml><MsgType>text</MsgType><Content>&e;</Content></xml>'
    assert client.post(APP, **p.wecom_post(evil, now)).status_code == 400


def test_body_over_one_megabyte_is_413(client, school, now):
    kw = p.wecom_post(p.wecom_text(now), now)
    kw["data"] = b"<xml>" + b"x" * 1_100_000 + b"</xml>"
    assert client.post(APP, **kw).status_code == 413


def test_unknown_school_is_404(client, school, now):
    assert client.post("/wecom/nowhere/app", **p.wecom_post(p.wecom_text(now), now)).status_code == 404


def test_duplicate_msgid_is_stored_once_with_the_same_answer(client, school, db_session, now):
    plain = p.wecom_text(now, "食堂饭菜太咸", msg_id=424242)
    first = client.post(APP, **p.wecom_post(plain, now))
    second = client.post(APP, **p.wecom_post(plain, now + dt.timedelta(seconds=5)))  # WeCom's retry
    assert (first.status_code, first.data) == (second.status_code, second.data)
    assert len(stored(db_session, "wecom_app")) == 1 and len(outbox(db_session)) == 1


def test_events_are_deduplicated_on_sender_and_create_time_and_not_answered(client, school, db_session, now):
    event = p.wecom_xml({"ToUserName": p.CORP_ID, "FromUserName": "zhangsan", "CreateTime": int(now.timestamp()),
                         "MsgType": "event", "Event": "enter_agent", "EventKey": "", "AgentID": 1000002})
    for _ in range(2):
        assert client.post(APP, **p.wecom_post(event, now)).status_code == 200
    [record] = stored(db_session, "wecom_app")
    assert record.msgtype == "event" and record.platform_msg_id.startswith("event:zhangsan:")
    assert outbox(db_session) == []


def test_voice_recognition_counts_as_text_and_files_are_downloaded_after_the_answer(client, school, db_session, now,
                                                                                   fake_wecom):  # noqa: F811
    voice = p.wecom_text(now, msgtype="voice", MediaId="m1", Format="amr", Recognition="帮助")
    file_msg = p.wecom_text(now, msgtype="file", MediaId="m2", FileName="请假条.docx")
    client.post(APP, **p.wecom_post(voice, now))
    client.post(APP, **p.wecom_post(file_msg, now))
    records = stored(db_session, "wecom_app")
    assert [(r.msgtype, r.text) for r in records] == [("text", "帮助"), ("file", "")]
    # Keeping it: tests/test_media_platforms.py.
    assert [c.args["media_id"] for c in fake_wecom.sent("media/get")] == ["m2"]


# --- AI bot ------------------------------------------------------------------------------------

def test_aibot_url_check_uses_an_empty_receive_id(client, school, now):
    resp = client.get(AIBOT, query_string=p.echostr_args("hello-aibot", now, receive_id=""))
    assert resp.data == b"hello-aibot"


def test_aibot_group_mention_is_stripped_and_reply_carries_the_response_url(client, school, db_session, now):
    message = p.aibot_text("@连心 绑定班级 一年级一班", group=True)  # a stranger: refused in the group
    assert client.post(AIBOT, **p.aibot_post(message, now)).status_code == 200
    [record] = stored(db_session, "wecom_aibot")
    assert (record.text, record.is_group, record.conversation_id) == ("绑定班级 一年级一班", True, "wrkGROUP01")
    [row] = outbox(db_session)
    assert row.platform == "wecom_aibot" and row.context["response_url"] == message["response_url"]
    assert row.context["chatid"] == "wrkGROUP01" and row.context["chattype"] == "group"


def test_aibot_private_message_and_redelivery(client, school, db_session, now):
    message = p.aibot_text("老师您好", msg_id="aibot-msg-1")
    client.post(AIBOT, **p.aibot_post(message, now))
    client.post(AIBOT, **p.aibot_post(message, now))
    [record] = stored(db_session, "wecom_aibot")
    assert (record.is_group, record.conversation_id, record.sender_external_id) == (False, "lisi", "lisi")


@pytest.mark.parametrize("body", [b"{broken", b'{"encrypt": ""}', b"[]"])
def test_aibot_malformed_envelope_is_400(client, school, now, body):
    kw = p.aibot_post(p.aibot_text("x"), now)
    kw["data"] = body
    assert client.post(AIBOT, **kw).status_code == 400


def test_aibot_bad_signature_is_403(client, school, db_session, now):
    kw = p.aibot_post(p.aibot_text("x"), now)
    kw["query_string"]["msg_signature"] = "0" * 40
    assert client.post(AIBOT, **kw).status_code == 403
    assert stored(db_session, "wecom_aibot") == []


def test_aibot_payload_encrypted_for_a_corp_is_403(client, school, now):
    enc, args = p.encrypt('{"msgid": "1"}', p.CORP_ID, now)
    assert client.post(AIBOT, query_string=args, json={"encrypt": enc}).status_code == 403


# --- 微信客服 ----------------------------------------------------------------------------------

def kf_event(now: dt.datetime, token: str = "ENCsynctoken") -> str:
    return p.wecom_xml({"ToUserName": p.CORP_ID, "CreateTime": int(now.timestamp()), "MsgType": "event",
                        "Event": "kf_msg_or_event", "Token": token, "OpenKfId": p.OPEN_KFID})


def kf_item(msgid: str, content: str, now: dt.datetime, user: str = "wmPARENT1", origin: int = 3) -> dict:
    return {"msgid": msgid, "open_kfid": p.OPEN_KFID, "external_userid": user, "send_time": int(now.timestamp()),
            "origin": origin, "msgtype": "text", "text": {"content": content}}


def test_kf_event_is_stored_and_acked_before_the_sync_runs(client, school, db_session, now, fake_wecom):  # noqa: F811
    fake_wecom.kf_messages.append(kf_item("kfmsg1", "帮助", now))
    resp = client.post(KF, buffered=False, **p.wecom_post(kf_event(now), now))
    assert (resp.status_code, resp.data) == (200, b"")
    [cursor] = db_session.scalars(select(KfCursor)).all()
    assert cursor.sync_token == "ENCsynctoken" and cursor.pending
    assert fake_wecom.sent("kf/sync_msg") == [], "the platform call waits until the answer is written"
    resp.close()
    [call] = fake_wecom.sent("kf/sync_msg")
    assert call.json["token"] == "ENCsynctoken" and call.json["open_kfid"] == p.OPEN_KFID
    [record] = stored(db_session, "wecom_kf")
    assert (record.text, record.sender_external_id) == ("帮助", "wmPARENT1")
    db_session.expire_all()
    [row] = outbox(db_session)
    assert (row.platform, row.address, row.context["open_kfid"]) == ("wecom_kf", "wmPARENT1", p.OPEN_KFID)
    assert row.status == "sent" and fake_wecom.sent("kf/send_msg")


def test_kf_sync_resumes_from_the_cursor_and_dedupes_on_msgid(client, school, db_session, ext, now, fake_wecom):  # noqa: F811
    fake_wecom.kf_messages.append(kf_item("kfmsg1", "老师好", now))
    client.post(KF, **p.wecom_post(kf_event(now), now), buffered=True)
    fake_wecom.kf_messages.append(kf_item("kfmsg2", "食堂的菜太咸了", now))
    fake_wecom.kf_messages.append(kf_item("servicer", "我是老师", now, origin=5))  # our own side: ignored
    assert sync_kf(ext, p.SCHOOL) == 1
    assert sync_kf(ext, p.SCHOOL) == 0
    db_session.expire_all()
    assert [r.platform_msg_id for r in stored(db_session, "wecom_kf")] == ["kfmsg1", "kfmsg2"]
    assert db_session.scalars(select(KfCursor)).one().cursor == "3"


def test_kf_event_may_arrive_on_the_app_callback(client, school, db_session, now, fake_wecom):  # noqa: F811
    fake_wecom.kf_messages.append(kf_item("kfmsg9", "你好", now))
    client.post(APP, **p.wecom_post(kf_event(now), now), buffered=True)
    assert [r.text for r in stored(db_session, "wecom_kf")] == ["你好"]
    assert stored(db_session, "wecom_app") == []


def test_kf_sync_failure_keeps_the_event_for_the_scheduler(client, school, db_session, ext, now, fake_wecom):  # noqa: F811
    fake_wecom.kf_messages.append(kf_item("kfmsg1", "你好", now))
    fake_wecom.fail_next(times=1, status=502, path="kf/sync_msg")
    resp = client.post(KF, **p.wecom_post(kf_event(now), now), buffered=True)
    assert resp.status_code == 200
    assert stored(db_session, "wecom_kf") == []
    assert sync_kf(ext, p.SCHOOL) == 1  # the scheduler's pass picks it up


def test_aibot_private_reply_to_a_group_sender_waits_for_their_private_chat(client, school, db_session, now,
                                                                            fake_wecom):  # noqa: F811
    """A parent @-mentions the AI bot in a group: the group hears only the number (and how to get the
    details); the details wait until the parent writes to the bot privately, then share that answer."""
    calls = iter(range(100))

    def say(text: str, group: bool = False) -> str:
        message = p.aibot_text(text, group=group, user="mom-wx")
        message["response_url"] = url = f"{fake_wecom.url}/aibot/response?n={next(calls)}"
        client.post(AIBOT, **p.aibot_post(message, now)).close()  # the sends run once the answer is written
        return url.rsplit("=", 1)[1]

    def answers(n: str) -> list[str]:
        return [c.json["markdown"]["content"] for c in fake_wecom.sent("/aibot/response") if c.args.get("n") == n]

    say("绑定 张小明 1234")
    n = say("@连心 孩子在学校被同学打了，头上起了包", group=True)
    [group_answer] = answers(n)
    assert "编号" in group_answer and "私聊我" in group_answer and "转交" not in group_answer
    db_session.expire_all()
    [waiting] = db_session.scalars(select(OutboxMessage).where(
        OutboxMessage.platform == "wecom_aibot", OutboxMessage.recipient_kind == "user",
        OutboxMessage.status == "pending")).all()
    assert waiting.error_code == "await_contact" and "转交" in waiting.text
    n = say("帮助")
    [private_answer] = answers(n)  # one call: the response_url answers once
    assert private_answer.startswith("已收到您的反馈，编号") and "帮助" not in private_answer[:10]
    assert len(private_answer) > len(waiting.text)  # the reply to 「帮助」 follows in the same answer
    db_session.expire_all()
    assert db_session.get(OutboxMessage, waiting.id).status == "sent"


def test_aibot_welcomes_a_person_entering_its_chat_in_the_answer_itself(client, school, db_session, now):
    """The AI bot's welcome is the callback's encrypted answer (there is no other way to send it)."""
    event = {"msgid": "enter-1", "aibotid": "aib-test", "chattype": "single", "from": {"userid": "lisi"},
             "create_time": int(now.timestamp()), "msgtype": "event", "event": {"eventtype": "enter_chat"}}
    resp = client.post(AIBOT, **p.aibot_post(event, now))
    assert resp.status_code == 200
    answer = resp.get_json()
    assert set(answer) == {"encrypt", "msgsignature", "timestamp", "nonce"}
    assert answer["msgsignature"] == p.sha1_signature(p.TOKEN, str(answer["timestamp"]), answer["nonce"],
                                                      answer["encrypt"])
    plain = CorpCrypto(p.TOKEN, p.AES_KEY, "").decrypt_message(
        {"Encrypt": answer["encrypt"]}, answer["msgsignature"], str(answer["timestamp"]), answer["nonce"])
    welcome = json.loads(plain)
    assert welcome["msgtype"] == "text" and "绑定 学生姓名 家长手机号后四位" in welcome["text"]["content"]
    assert "测试小学" in welcome["text"]["content"]
    assert [r.platform_msg_id for r in stored(db_session, "wecom_aibot")] == ["enter-1"]
    assert outbox(db_session) == []  # nothing else is sent


def kf_enter(msgid: str, now: dt.datetime, user: str = "wmNEW1", code: str = "WELCOME-CODE-1") -> dict:
    return {"msgid": msgid, "open_kfid": p.OPEN_KFID, "send_time": int(now.timestamp()), "origin": 4,
            "msgtype": "event", "event": {"event_type": "enter_session", "open_kfid": p.OPEN_KFID,
                                          "external_userid": user, "scene": "", "welcome_code": code}}


def test_kf_welcomes_a_new_parent_with_the_welcome_code_once_a_day(client, school, db_session, now, fake_wecom):  # noqa: F811
    fake_wecom.kf_messages.append(kf_enter("enter-kf-1", now))
    client.post(KF, **p.wecom_post(kf_event(now), now), buffered=True)
    [call] = fake_wecom.sent("kf/send_msg_on_event")
    assert call.json["code"] == "WELCOME-CODE-1" and "绑定 学生姓名" in call.json["text"]["content"]
    assert fake_wecom.sent("kf/send_msg") == []  # no window is open yet: only the welcome code works
    fake_wecom.kf_messages.append(kf_enter("enter-kf-2", now, code="WELCOME-CODE-2"))
    client.post(KF, **p.wecom_post(kf_event(now), now), buffered=True)
    assert len(fake_wecom.sent("kf/send_msg_on_event")) == 1  # once a day is enough
