"""Pictures in the simulator page, ``flask chat`` ``/file``, and ``flask tickets show/attachment``."""

from __future__ import annotations

import hashlib
import io
import json
import re

import pytest
from PIL import Image

from tests import media_samples as samples
from tests.kit import SimBot


@pytest.fixture
def settings_overrides(settings_overrides):
    return {**settings_overrides, "simulator": {"enabled": True}}


def _people(client) -> dict[str, str]:
    return {p["label"].split("（")[0]: p["key"] for p in client.get("/simulator/api/people").get_json()}


def test_a_parent_sends_a_complaint_and_a_photo_and_the_head_teacher_opens_it(client, school, db_session, ext):
    bot = SimBot(ext, db_session)
    bot.bind("张小明妈妈")
    bot.bind("王芳")
    bot.say("张小明妈妈", "老师布置的作业太多了，孩子每天写到晚上十一点")
    keys = _people(client)
    photo = samples.photo(gps=True)
    sent = client.post("/simulator/api/send_file", data={"person": keys["张小明妈妈"], "where": "private",
                                                         "file": (io.BytesIO(photo), "摔伤.jpg")},
                       content_type="multipart/form-data")
    assert sent.status_code == 200
    mine = client.get(f"/simulator/api/chat?person={keys['张小明妈妈']}&where=private").get_json()
    shown = [line for line in mine if line.get("attachment")]
    assert shown and shown[-1]["text"] == "图片：摔伤.jpg"
    assert client.get(shown[-1]["attachment"]).mimetype == "image/jpeg", "the page shows the picture inline"
    teacher = client.get(f"/simulator/api/chat?person={keys['王芳']}&where=private").get_json()
    [note] = [line["text"] for line in teacher if "附图片 1 张" in line["text"]]
    [link] = re.findall(r"https?://\S+/a/[^\s：]+", note)
    path = re.sub(r"^https?://[^/]+", "", link)
    assert "<img" in client.get(path).get_data(as_text=True)
    image = client.get(path + "/file")
    assert image.status_code == 200 and samples.GPS_IFD not in Image.open(io.BytesIO(image.data)).getexif()


def test_chat_file_command_sends_a_picture_and_tickets_show_lists_it(runner, school, db_session, ext, tmp_path):
    bot = SimBot(ext, db_session)
    bot.bind("张小明妈妈")
    picture = tmp_path / "门坏了.jpg"
    picture.write_bytes(samples.photo())
    script = f"厕所的门坏了，孩子被夹到手\n/file {picture}\n/file {tmp_path / 'missing.png'}\n"
    result = runner.invoke(args=["chat", "--as", "张小明妈妈"], input=script)
    assert result.exit_code == 0, result.output
    assert "已将图片 1 张附在编号" in result.output and "找不到文件" in result.output
    number = re.search(r"编号 (\d{4}-\d{4})", result.output).group(1)
    shown = runner.invoke(args=["tickets", "show", number, "--school", school.school.code, "--json"])
    data = json.loads(shown.output)
    [attachment] = data["attachments"]
    assert (attachment["name"], attachment["type"], attachment["index"]) == ("门坏了.jpg", "image/jpeg", 1)
    assert data["attachment_count"] == 1 and any(h["action"] == "attachment" for h in data["history"])
    out = tmp_path / "out.jpg"
    written = runner.invoke(args=["tickets", "attachment", number, "1", "--school", school.school.code, "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert hashlib.sha256(out.read_bytes()).hexdigest() == attachment["sha256"]
    missing = runner.invoke(args=["tickets", "attachment", number, "2", "--school", school.school.code, "-o", str(out)])
    assert missing.exit_code != 0 and "没有第 2 个" in missing.output


def test_a_refused_file_in_the_simulator_gets_its_answer(client, school, db_session, ext):
    bot = SimBot(ext, db_session)
    bot.bind("张小明妈妈")
    keys = _people(client)
    client.post("/simulator/api/send_file", data={"person": keys["张小明妈妈"], "where": "private",
                                                  "file": (io.BytesIO(b"MZ\x90\x00 program"), "a.exe")},
                content_type="multipart/form-data")
    lines = client.get(f"/simulator/api/chat?person={keys['张小明妈妈']}&where=private").get_json()
    assert "暂不支持这种文件格式" in lines[-1]["text"]


def test_a_principal_sends_a_notice_with_a_pdf_in_the_simulator_and_a_parent_opens_it(client, school, db_session,
                                                                                         ext):
    bot = SimBot(ext, db_session)
    bot.bind("赵校长")
    bot.bind("张小明妈妈")
    keys = _people(client)
    client.post("/simulator/api/send_file", data={"person": keys["赵校长"], "where": "private",
                                                  "file": (io.BytesIO(samples.pdf()), "安全告知书.pdf")},
                content_type="multipart/form-data")
    assert "已收到文件 1 个" in bot.pop("赵校长")[-1]
    preview = bot.say("赵校长", "通知 一年级一班 请家长阅读附件中的安全告知书")
    assert "附件：文件 1 个（安全告知书.pdf）" in preview[-1]
    bot.say("赵校长", "确认发送")
    bot.deliver()
    lines = bot.pop("张小明妈妈")
    [attachment] = [line for line in lines if "通知附件1" in line]
    [link] = re.findall(r"https?://\S+/a/\S+", attachment)
    opened = client.get(re.sub(r"^https?://[^/]+", "", link) + "/file")
    assert opened.status_code == 200 and opened.data == samples.pdf()
    assert opened.headers["Content-Disposition"].startswith("attachment;"), "a PDF is downloaded, not shown inline"


def test_staff_who_bind_later_open_a_tickets_pictures_from_查看(client, school, db_session, ext):
    """The picture reached the ticket before its assignee used the bot: 查看 gives them their own links."""
    bot = SimBot(ext, db_session)
    bot.bind("张小明妈妈")
    bot.say("张小明妈妈", "老师布置的作业太多了，孩子每天写到晚上十一点")
    keys = _people(client)
    client.post("/simulator/api/send_file", data={"person": keys["张小明妈妈"], "where": "private",
                                                  "file": (io.BytesIO(samples.photo()), "作业本.jpg")},
                content_type="multipart/form-data")
    bot.bind("王芳")
    number = re.search(r"\d{4}-\d{4}", "\n".join(bot.say("张小明妈妈", "我的反馈"))).group(0)
    [detail] = [r for r in bot.say("王芳", f"查看 {number}") if "附件（1" in r]
    [link] = re.findall(r"https?://\S+/a/[^\s：]+", detail)
    assert client.get(re.sub(r"^https?://[^/]+", "", link) + "/file").mimetype == "image/jpeg"
    assert not any("/a/" in r for r in bot.say("张小明妈妈", f"进度 {number}")), "parents get no staff link"
