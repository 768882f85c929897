"""WeChat Official Account callback: server check, plain and safe mode, dedupe, XXE."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from sqlalchemy import select

from models.inbound import InboundRecord
from models.outbox import OutboxMessage
from tests import payloads as p
from tests.factories import build_school

URL = f"/wechat/{p.SCHOOL}"


@pytest.fixture
def oa_mode() -> str:
    """How the school's OA console is set: 明文 (plain) unless a test asks for safe mode."""
    return "plain"


@pytest.fixture
def settings_overrides(settings_overrides, oa_mode):
    creds = copy.deepcopy(p.CREDENTIALS)
    if oa_mode == "plain":
        del creds[p.SCHOOL]["wechat"]["aes_key"]  # no EncodingAESKey configured
    return {**settings_overrides, "platforms": creds}


safe_mode = pytest.mark.parametrize("oa_mode", ["safe"])


@pytest.fixture
def school(db_session, now):
    ts = build_school(db_session, now)
    db_session.commit()
    return ts


def stored(session) -> list[InboundRecord]:
    return list(session.scalars(select(InboundRecord).where(InboundRecord.platform == "wechat")
                                .order_by(InboundRecord.id)))


def outbox(session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def plain_post(client, xml: str, when: dt.datetime, **args):
    return client.post(URL, query_string={**p.oa_args(when), **args}, data=xml.encode(), content_type="text/xml")


def test_server_check_returns_echostr_as_is(client, school, now):
    resp = client.get(URL, query_string={**p.oa_args(now), "echostr": "7063489137415011389"})
    assert (resp.status_code, resp.data) == (200, b"7063489137415011389")


def test_server_check_with_bad_signature_is_403(client, school, now):
    args = {**p.oa_args(now), "echostr": "1", "signature": "0" * 40}
    assert client.get(URL, query_string=args).status_code == 403


def test_plain_mode_message_is_stored_and_acked_with_success(client, school, db_session, now):
    resp = plain_post(client, p.oa_message(now, "老师好"), now)
    assert (resp.status_code, resp.data) == (200, b"success")
    [record] = stored(db_session)
    assert (record.text, record.sender_external_id) == ("老师好", "oOPENID1")
    [row] = outbox(db_session)
    assert (row.platform, row.address, row.status) == ("wechat", "oOPENID1", "pending")


@safe_mode
def test_safe_mode_is_chosen_by_encrypt_type(client, school, db_session, now):
    resp = client.post(URL, **p.oa_safe_post(p.oa_message(now, "帮助"), now))
    assert (resp.status_code, resp.data) == (200, b"success")
    assert [r.text for r in stored(db_session)] == ["帮助"]


@safe_mode
def test_safe_mode_with_bad_msg_signature_is_403(client, school, db_session, now):
    kw = p.oa_safe_post(p.oa_message(now), now)
    kw["query_string"]["msg_signature"] = "0" * 40
    assert client.post(URL, **kw).status_code == 403
    assert stored(db_session) == []


@safe_mode
def test_encrypted_body_posted_as_plain_mode_is_refused(client, school, db_session, now):
    kw = p.oa_safe_post(p.oa_message(now), now)
    del kw["query_string"]["encrypt_type"]
    assert client.post(URL, **kw).status_code == 403
    assert stored(db_session) == []


@safe_mode
def test_with_an_aes_key_configured_plaintext_is_refused(client, school, db_session, now, caplog):
    """A signed query string reused with a plaintext body of one's choosing is not a downgrade path."""
    resp = plain_post(client, p.oa_message(now, "全部工单", user="oOTHER"), now)
    assert resp.status_code == 403 and "plaintext" in caplog.text
    resp = plain_post(client, p.oa_message(now, "全部工单"), now, encrypt_type="raw")
    assert resp.status_code == 403
    assert stored(db_session) == []


def test_bad_signature_is_403_and_stale_timestamp_too(client, school, db_session, now):
    assert plain_post(client, p.oa_message(now), now, signature="0" * 40).status_code == 403
    assert plain_post(client, p.oa_message(now), now - dt.timedelta(minutes=11)).status_code == 403
    assert stored(db_session) == []


@pytest.mark.parametrize("body", [
    "", "{\"json\": true}", "<xml><MsgType>text",
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<xml><FromUserName>&x;</FromUserName><MsgType>text</MsgType></xml>",
])
def test_malformed_or_xxe_body_is_400(client, school, db_session, now, body):
    assert plain_post(client, body, now).status_code == 400
    assert stored(db_session) == []


def test_duplicate_msgid_is_stored_once(client, school, db_session, now):
    xml = p.oa_message(now, "你好", msg_id=99)
    first, second = plain_post(client, xml, now), plain_post(client, xml, now)
    assert first.data == second.data == b"success"
    assert len(stored(db_session)) == 1 and len(outbox(db_session)) == 1


def test_subscribe_event_is_logged_not_answered_and_deduped(client, school, db_session, now):
    xml = p.oa_message(now, msgtype="event", Event="subscribe", EventKey="")
    plain_post(client, xml, now)
    plain_post(client, xml, now)
    [record] = stored(db_session)
    assert (record.msgtype, record.text) == ("event", "subscribe")
    assert outbox(db_session) == []


def test_voice_with_recognition_is_text(client, school, db_session, now):
    xml = p.oa_message(now, msgtype="voice", MediaId="m", Format="amr", Recognition="绑定 张小明 1234")
    plain_post(client, xml, now)
    assert "绑定成功" in outbox(db_session)[0].text


def test_unknown_school_and_unconfigured_school_are_404(client, school, now):
    xml = p.oa_message(now).encode()
    assert client.post("/wechat/nowhere", query_string=p.oa_args(now), data=xml).status_code == 404
    assert client.post("/wechat/ghost", query_string=p.oa_args(now), data=xml).status_code == 404


def test_body_over_one_megabyte_is_413(client, school, now):
    assert plain_post(client, p.oa_message(now, "长" * 400_000), now).status_code == 413


@pytest.mark.parametrize("content", ["食堂\x00饭菜", "食堂&#0;饭菜", "食堂&#xD800;饭菜"])
def test_nul_or_surrogate_in_xml_is_400_not_500(client, school, db_session, now, content):
    resp = plain_post(client, p.oa_message(now, "x").replace("<![CDATA[x]]>", content).replace(">x<", f">{content}<"),
                      now)
    assert resp.status_code == 400
    assert stored(db_session) == []


def test_xml_nested_too_deep_is_400(client, school, db_session, now):
    deep = "<xml>" + "<a>" * 100_000 + "x" + "</a>" * 100_000 + "</xml>"
    assert plain_post(client, deep, now).status_code == 400
    assert stored(db_session) == []
