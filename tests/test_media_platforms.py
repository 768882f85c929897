"""Pictures and files on every platform path: downloaded after the webhook's answer, kept clean, joined to the matter.

The fake platforms serve the documented downloads and errors: WeCom/OA
``media/get`` (40007 for expired media), 微信客服 sync_msg items with media_id,
DingTalk ``robot/messageFiles/download`` (a refused downloadCode), and the
AI bot's encrypted short-lived URLs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import uuid

import pytest
from PIL import Image
from sqlalchemy import select

from bot.platforms.media_fetch import encrypt_aibot
from models import media
from models.inbound import InboundRecord
from models.outbox import OutboxMessage
from models.tickets import Ticket
from scheduler.jobs import process_inbox
from tests import media_samples as samples
from tests import payloads as p
from tests.factories import build_school
from tests.fakes.fixtures import fake_dingtalk, fake_oa, fake_wecom  # noqa: F401 - fixtures

APP = f"/wecom/{p.SCHOOL}/app"
AIBOT = f"/wecom/{p.SCHOOL}/aibot"
KF = f"/wecom/{p.SCHOOL}/kf"
OA = f"/wechat/{p.SCHOOL}"
DING = f"/dingtalk/{p.SCHOOL}/callback"
STAFF_PHONES = {"赵校长": "0001", "钱主任": "0002", "王芳": "0003", "孙丽": "0004", "李强": "0005", "周敏": "0006",
                "吴刚": "0007"}


@pytest.fixture
def settings_overrides(settings_overrides, fake_wecom, fake_oa, fake_dingtalk):  # noqa: F811
    return {**settings_overrides, "platforms": p.CREDENTIALS,
            "platform_api": {"wecom_api": f"{fake_wecom.url}/cgi-bin/", "wechat_api": f"{fake_oa.url}/cgi-bin/",
                             "dingtalk_api": fake_dingtalk.url, "dingtalk_oapi": fake_dingtalk.url,
                             "dingtalk_webhook_prefixes": [fake_dingtalk.url + "/session/"],
                             "timeout_seconds": 1.0}}


@pytest.fixture
def school(db_session, now):
    ts = build_school(db_session, now)
    db_session.commit()
    return ts


def outbox(session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def said_to(session, address: str) -> list[str]:
    return [r.text for r in outbox(session) if r.address == address]


def app_post(client, now, **fields) -> None:
    client.post(APP, **p.wecom_post(p.wecom_text(now, **fields), now))


def bind_staff_on_app(client, now) -> None:
    for name, last4 in STAFF_PHONES.items():
        app_post(client, now, content=f"绑定 {name} {last4}", user=f"staff-{name}")


def tickets(session) -> list[Ticket]:
    session.expire_all()
    return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def links_in(text: str) -> list[str]:
    return re.findall(r"http://[^\s：]+/a/[A-Za-z0-9._-]+", text)


def _no_gps(data: bytes) -> bool:
    return samples.GPS_IFD not in Image.open(io.BytesIO(data)).getexif()


# --- WeCom app ---------------------------------------------------------------------------------

def test_wecom_app_photo_joins_the_complaint_and_the_assignee_gets_a_signed_link(client, school, db_session, ext,
                                                                                   now, fake_wecom):  # noqa: F811
    bind_staff_on_app(client, now)
    app_post(client, now, content="绑定 张小明 1234", user="mom")
    app_post(client, now, content="学校厕所的门坏了，孩子手被夹伤了", user="mom")
    [ticket] = tickets(db_session)
    fake_wecom.add_media("MEDIA1", samples.photo(gps=True), "IMG_0001.jpg")
    later = now + dt.timedelta(minutes=2)
    resp = client.post(APP, buffered=False, **p.wecom_post(p.wecom_text(later, msgtype="image", user="mom",
                                                                        MediaId="MEDIA1", PicUrl="http://x/p"), later))
    assert resp.status_code == 200 and fake_wecom.sent("media/get") == [], "never downloaded before the answer"
    resp.close()
    assert len(fake_wecom.sent("media/get")) == 1
    [row] = media.of_ticket(db_session, ticket.id)
    assert (row.kind, row.mime, row.name) == ("image", "image/jpeg", "IMG_0001.jpg")
    kept = media.read(db_session, ext.settings, row)
    assert _no_gps(kept), "the parent's location never reaches the school"
    assert [e.action for e in ticket.events if e.action == "attachment"] == ["attachment"]
    assert any(f"编号 {ticket.number}" in t and "图片" in t for t in said_to(db_session, "mom"))
    owner = f"staff-{ticket.assignee.name}"
    [note] = [t for t in said_to(db_session, owner) if "附图片 1 张" in t]
    [link] = links_in(note)
    page = client.get(link.split("127.0.0.1:8000")[-1])
    assert page.status_code == 200 and "图片" in page.get_data(as_text=True)
    raw = client.get(link.split("127.0.0.1:8000")[-1] + "/file")
    assert raw.status_code == 200 and raw.data == kept and raw.mimetype == "image/jpeg"


def test_a_picture_before_the_text_waits_for_it_and_a_lone_picture_asks_which_matter(client, school, db_session,
                                                                                      ext, now, fake_wecom):  # noqa: F811
    def at(when: dt.datetime) -> dt.datetime:
        ext.clock = lambda: when
        return when

    app_post(client, now, content="绑定 张小明 1234", user="mom")
    fake_wecom.add_media("M-A", samples.photo(gps=False))
    app_post(client, now, msgtype="image", user="mom", MediaId="M-A")
    assert any("用文字简单说明" in t for t in said_to(db_session, "mom")), "no open matter: describe it"
    app_post(client, at(now + dt.timedelta(minutes=3)), content="食堂的饭菜里有头发，太不卫生了", user="mom")
    [ticket] = tickets(db_session)
    assert len(media.of_ticket(db_session, ticket.id)) == 1, "the waiting picture joined the new ticket"
    fake_wecom.add_media("M-B", samples.png())
    app_post(client, at(now + dt.timedelta(hours=2)), msgtype="image", user="mom", MediaId="M-B")
    asked = said_to(db_session, "mom")[-1]
    assert "这张图片是关于哪件事" in asked and ticket.number in asked
    app_post(client, at(now + dt.timedelta(hours=2, minutes=1)), content=ticket.number, user="mom")
    assert len(media.of_ticket(db_session, ticket.id)) == 2
    assert f"编号 {ticket.number}" in said_to(db_session, "mom")[-1]


def test_voice_without_recognition_is_kept_as_audio_and_the_teacher_is_told(client, school, db_session, now,
                                                                             fake_wecom):  # noqa: F811
    bind_staff_on_app(client, now)
    app_post(client, now, content="绑定 张小明 1234", user="mom")
    app_post(client, now, content="孩子在学校被同学欺负了", user="mom")
    [ticket] = tickets(db_session)
    fake_wecom.add_media("VOICE1", b"#!AMR\n" + bytes(200), "voice.amr", "audio/amr")
    app_post(client, now, msgtype="voice", user="mom", MediaId="VOICE1", Format="amr")
    [row] = media.of_ticket(db_session, ticket.id)
    assert (row.kind, row.mime) == ("audio", "audio/amr")
    note = [t for t in said_to(db_session, f"staff-{ticket.assignee.name}") if "语音" in t]
    assert note and "附语音 1 条" in note[0]


# --- Official Account: expired media ---------------------------------------------------------------

def test_oa_expired_media_gets_its_answer(client, school, db_session, now, fake_oa):  # noqa: F811
    def oa(xml: str) -> None:
        client.post(OA, **p.oa_safe_post(xml, now))

    oa(p.oa_message(now, "绑定 张小明 1234"))
    oa(p.oa_message(now, msgtype="image", MediaId="GONE", PicUrl="http://mmbiz/x"))
    assert [c.args["media_id"] for c in fake_oa.sent("media/get")] == ["GONE"]
    assert "已过期" in said_to(db_session, "oOPENID1")[-1]
    record = db_session.scalars(select(InboundRecord).where(InboundRecord.platform == "wechat")
                                .order_by(InboundRecord.id.desc())).first()
    assert record.status == "processed" and record.envelope["media_refused"] == "expired"


# --- 微信客服 ----------------------------------------------------------------------------------------

def test_kf_image_from_sync_msg_is_downloaded_with_its_media_id(client, school, db_session, now, fake_wecom):  # noqa: F811
    def item(msgid: str, **kw) -> dict:
        return {"msgid": msgid, "open_kfid": p.OPEN_KFID, "external_userid": "wmMOM", "send_time": int(now.timestamp()),
                "origin": 3, **kw}

    fake_wecom.kf_messages.append(item("k1", msgtype="text", text={"content": "绑定 张小明 1234"}))
    fake_wecom.kf_messages.append(item("k2", msgtype="text", text={"content": "校车太挤了，孩子站了一路"}))
    fake_wecom.kf_messages.append(item("k3", msgtype="image", image={"media_id": "KFIMG"}))
    fake_wecom.add_media("KFIMG", samples.photo())
    event = p.wecom_xml({"ToUserName": p.CORP_ID, "CreateTime": int(now.timestamp()), "MsgType": "event",
                         "Event": "kf_msg_or_event", "Token": "tok", "OpenKfId": p.OPEN_KFID})
    client.post(KF, **p.wecom_post(event, now))
    [ticket] = tickets(db_session)
    [row] = media.of_ticket(db_session, ticket.id)
    assert row.kind == "image"


# --- DingTalk ----------------------------------------------------------------------------------

def _ding(client, body, now):
    return client.post(DING, **p.dingtalk_request(body, now))


def test_dingtalk_picture_and_richtext_are_downloaded_by_download_code(client, school, db_session, now,
                                                                        fake_dingtalk):  # noqa: F811
    _ding(client, p.dingtalk_body(now, " 绑定 张小明 1234", staff_id="", sender_id="$:mom"), now)
    fake_dingtalk.add_file("CODE-1", samples.photo())
    fake_dingtalk.add_file("CODE-2", samples.png())
    rich = p.dingtalk_body(now, staff_id="", sender_id="$:mom", msgtype="richText", content={"richText": [
        {"text": "操场的栏杆松了，很危险"}, {"type": "picture", "downloadCode": "CODE-1", "pictureDownloadCode": "x"},
        {"type": "picture", "downloadCode": "CODE-2"}]})
    _ding(client, rich, now)
    [ticket] = tickets(db_session)
    assert ticket.text == "操场的栏杆松了，很危险", "the text of the matter is kept"
    assert [r.mime for r in media.of_ticket(db_session, ticket.id)] == ["image/jpeg", "image/png"]
    calls = fake_dingtalk.sent("messageFiles/download")
    assert [c.json["downloadCode"] for c in calls] == ["CODE-1", "CODE-2"]
    assert {c.json["robotCode"] for c in calls} == {p.ROBOT_CODE}


def test_dingtalk_bad_download_code_gets_an_answer(client, school, db_session, now, fake_dingtalk):  # noqa: F811
    _ding(client, p.dingtalk_body(now, " 绑定 张小明 1234", staff_id="", sender_id="$:mom"), now)
    picture = p.dingtalk_body(now, staff_id="", sender_id="$:mom", msgtype="picture",
                              content={"downloadCode": "EXPIRED", "pictureDownloadCode": "EXPIRED"})
    _ding(client, picture, now)
    assert "已过期" in outbox(db_session)[-1].text


def test_group_picture_is_never_echoed_in_the_group(client, school, db_session, now, fake_dingtalk):  # noqa: F811
    from models.identity import ChatGroup

    group = db_session.scalars(select(ChatGroup).where(ChatGroup.class_id == school.classes["一年级一班"].id)).first()
    group.platform, group.conversation_id = "dingtalk", "cidGROUP001=="
    db_session.commit()
    _ding(client, p.dingtalk_body(now, " 绑定 张小明 1234", staff_id="", sender_id="$:mom"), now)
    fake_dingtalk.add_file("G-1", samples.photo())
    before = len(outbox(db_session))
    _ding(client, p.dingtalk_body(now, staff_id="", sender_id="$:mom", group=True, msgtype="picture",
                                  content={"downloadCode": "G-1"}), now)
    new = outbox(db_session)[before:]
    assert new and all(r.recipient_kind == "user" for r in new), "every answer about a picture is private"


# --- WeCom AI bot ------------------------------------------------------------------------------

def test_aibot_image_url_is_downloaded_and_decrypted_with_the_bot_key(client, school, db_session, ext, now,
                                                                       fake_wecom):  # noqa: F811
    client.post(AIBOT, **p.aibot_post(p.aibot_text("绑定 张小明 1234"), now))
    client.post(AIBOT, **p.aibot_post(p.aibot_text("教室的窗户玻璃碎了，请学校尽快换一下"), now))
    [ticket] = tickets(db_session)
    photo = samples.photo()
    url = fake_wecom.add_aibot_file(uuid.uuid4().hex, encrypt_aibot(photo, p.AES_KEY))
    image = {**p.aibot_text(""), "msgtype": "image", "image": {"url": url}}
    image.pop("text")
    client.post(AIBOT, **p.aibot_post(image, now))
    [row] = media.of_ticket(db_session, ticket.id)
    assert row.mime == "image/jpeg" and _no_gps(media.read(db_session, ext.settings, row))


# --- failures: retries, size, wrong type ---------------------------------------------------------

def test_a_platform_outage_is_retried_later_by_the_scheduler(client, school, db_session, ext, now,
                                                              fake_wecom):  # noqa: F811
    app_post(client, now, content="绑定 张小明 1234", user="mom")
    fake_wecom.add_media("FLAKY", samples.photo())
    fake_wecom.fail_next(times=1, status=502, path="media/get")
    app_post(client, now, msgtype="image", user="mom", MediaId="FLAKY")
    record = db_session.scalars(select(InboundRecord).order_by(InboundRecord.id.desc())).first()
    db_session.expire_all()
    assert record.status == "fetch" and record.envelope["fetch_attempts"] == 1
    ext.clock = lambda: now + dt.timedelta(minutes=2)
    process_inbox(ext, now + dt.timedelta(minutes=2))
    db_session.expire_all()
    assert record.status == "processed" and record.envelope["attachments"]


@pytest.mark.parametrize(("data", "answer"), [
    (samples.photo(1600, 1200, noise=True), "太大"),
    (b"MZ\x90\x00 windows program", "格式"),
    (samples.photo()[:3000], "损坏"),
    (samples.zip_bomb(30_000_000), "异常庞大"),
], ids=["too-big", "wrong-type", "broken-image", "zip-bomb"])
def test_refused_files_get_their_answer_and_the_text_is_kept(client, school, db_session, ext, now,
                                                              fake_wecom, data, answer):  # noqa: F811
    ext.settings = dataclasses.replace(ext.settings, media=dataclasses.replace(
        ext.settings.media, max_bytes=1_000_000, max_unzipped_bytes=20_000_000))
    app_post(client, now, content="绑定 张小明 1234", user="mom")
    app_post(client, now, content="孩子在学校被同学欺负了", user="mom")
    fake_wecom.add_media("BAD", data, "x.docx", "application/octet-stream")
    app_post(client, now, msgtype="file", user="mom", MediaId="BAD", FileName="x.docx")
    [ticket] = tickets(db_session)
    assert ticket.text == "孩子在学校被同学欺负了" and media.of_ticket(db_session, ticket.id) == []
    assert answer in said_to(db_session, "mom")[-1]


def test_describing_a_new_matter_answers_which_matter_and_takes_the_picture(client, school, db_session, ext, now,
                                                                            fake_wecom):  # noqa: F811
    def at(when: dt.datetime) -> dt.datetime:
        ext.clock = lambda: when
        return when

    app_post(client, now, content="绑定 张小明 1234", user="mom")
    app_post(client, now, content="食堂的饭菜里有头发，太不卫生了", user="mom")
    fake_wecom.add_media("BUS", samples.photo())
    app_post(client, at(now + dt.timedelta(hours=3)), msgtype="image", user="mom", MediaId="BUS")
    assert "这张图片是关于哪件事" in said_to(db_session, "mom")[-1]
    # Half an hour later (past media.join_minutes) the parent describes something new.
    app_post(client, at(now + dt.timedelta(hours=3, minutes=30)), content="校车严重超载，孩子只能站着", user="mom")
    first, second = tickets(db_session)
    assert media.of_ticket(db_session, first.id) == []
    assert len(media.of_ticket(db_session, second.id)) == 1, "the picture went with the matter the parent described"
