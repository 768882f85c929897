"""学校开放日 / 家长课程: announced as a notice, sign-up by chat or link, waiting list, reminders,
the list for head teachers, attendance per family and the three-question feedback whose suggestions become tickets."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from models.open_days import OpenDaySignup
from models.tickets import Ticket
from scheduler import jobs
from tests.scheduler_helpers import bound_school

TZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=TZ)


def _text(lines: list[str]) -> str:
    return "\n".join(lines)


@pytest.fixture
def world(ext, db_session, now):
    return bound_school(ext, db_session, now)


def _number(reply: str) -> int:
    return int(re.search(r"编号 (\d+)", reply).group(1))


@pytest.fixture
def open_day(world, now):
    ts, bot = world
    reply = _text(bot.say("赵校长", "设置开放日 12月2日 9:00 一年级一班 1 第二节语文公开课"))
    assert "已发布学校开放日（编号" in reply and "12月2日（周三）09:00" in reply and "名额 1 个" in reply
    bot.deliver(now)
    bot.n = _number(reply)  # ids: PostgreSQL sequences do not roll back between tests
    return ts, bot


def test_open_day_goes_out_through_the_notice_flow(open_day):
    ts, bot = open_day
    copy = _text(bot.pop("张小明妈妈"))
    assert "【学校开放日】" in copy and "第二节语文公开课" in copy and f"报名开放日 {bot.n}" in copy and "/n/" in copy
    copies = _text(bot.pop("陈大宝妈妈"))
    assert "陈大宝妈妈您好" in copies and "陈二宝" not in copies, "一年级二班 is not invited"


def test_sign_up_by_chat_waiting_list_and_moving_up(open_day, db_session, now):
    ts, bot = open_day
    assert "已为张小明家庭报名学校开放日" in _text(bot.say("张小明妈妈", "报名开放日"))
    assert "候补第 1 位" in _text(bot.say("陈大宝妈妈", f"报名开放日 {bot.n}"))
    assert "已为张小明家庭报名" in _text(bot.say("张小明妈妈", f"报名开放日 {bot.n}")), "signing up twice changes nothing"
    bot.pop("陈大宝妈妈")
    assert "已取消张小明家庭" in _text(bot.say("张小明妈妈", f"取消报名 {bot.n}"))
    bot.deliver(now)
    assert "从候补转为正式报名" in _text(bot.pop("陈大宝妈妈"))
    states = {s.student.name: s.state for s in db_session.scalars(select(OpenDaySignup))}
    assert states == {"张小明": "cancelled", "陈大宝": "confirmed"}


def test_sign_up_by_the_notice_link(open_day, client, db_session):
    ts, bot = open_day
    path = re.search(r"http://[^/]+(/n/\S+)", _text(bot.pop("张小明妈妈"))).group(1)
    html = client.get(path).get_data(as_text=True)
    assert "报名学校开放日" in html
    done = client.post(path, data={"action": "signup"}).get_data(as_text=True)
    assert "学校开放日：已报名" in done and "您已确认阅读" in done
    signup = db_session.scalar(select(OpenDaySignup))
    assert signup.student.name == "张小明" and signup.via == "link"


def test_reminder_the_day_before_goes_once(ext, open_day, db_session):
    ts, bot = open_day
    bot.say("张小明妈妈", "报名开放日")
    db_session.commit()
    jobs.reception_sweep(ext, at(1, 16, 30))
    jobs.reception_sweep(ext, at(1, 17, 30))
    bot.deliver(at(1, 17, 30))
    lines = bot.pop("张小明妈妈")
    assert len(lines) == 1 and "明天的学校开放日" in lines[0] and f"取消报名 {bot.n}" in lines[0]


def test_head_teachers_see_their_class_and_take_attendance(open_day):
    ts, bot = open_day
    bot.say("张小明妈妈", "报名开放日")
    listed = _text(bot.say("王芳", f"开放日名单 {bot.n}"))
    assert "已报名 1/1（本班）" in listed and "一年级一班 张小明家长" in listed
    assert "不涉及您任班主任的班级" in _text(bot.say("孙丽", f"开放日名单 {bot.n}"))
    assert "已签到 1 户：张小明" in _text(bot.say("王芳", f"开放日签到 {bot.n} 张小明"))
    assert "未找到正式报名的：王小虎" in _text(bot.say("王芳", f"开放日签到 {bot.n} 王小虎"))
    assert "只能为本班家庭签到" in _text(bot.say("孙丽", f"开放日签到 {bot.n} 张小明"))
    assert "✓到场" in _text(bot.say("钱主任", "开放日名单"))


def test_attendees_answer_three_questions_and_suggestions_become_tickets(ext, open_day, db_session):
    ts, bot = open_day
    n = _number(_text(bot.say("赵校长", "设置开放日 12月2日 9:00 一年级一班 5 数学课")))  # more seats
    bot.say("张小明妈妈", f"报名开放日 {n}")
    bot.say("陈大宝妈妈", f"报名开放日 {n}")
    bot.say("王芳", f"开放日签到 {n} 张小明")
    db_session.commit()
    jobs.reception_sweep(ext, at(2, 10, 0))
    bot.deliver(at(2, 10, 0))
    assert not any("三个问题" in x for x in bot.pop("张小明妈妈")), "not before the event is over"
    jobs.reception_sweep(ext, at(2, 11, 30))
    bot.deliver(at(2, 11, 30))
    asked = _text(bot.pop("张小明妈妈"))
    assert "请花一分钟回答三个问题" in asked and f"开放日反馈 {n}" in asked
    assert "三个问题" not in _text(bot.pop("陈大宝妈妈")), "attendance taken: only those present are asked"
    assert "用法：开放日反馈" in _text(bot.say("张小明妈妈", f"开放日反馈 {n} 很棒棒 一般"))
    reply = _text(bot.say("张小明妈妈", f"开放日反馈 {n} 满意 一般 教室后排太挤，希望学校把家长座位安排得宽松一些"))
    assert "感谢您的反馈" in reply and "已转为编号" in reply
    ticket = db_session.scalar(select(Ticket).order_by(Ticket.id.desc()))
    assert ticket.text.startswith("【学校开放日意见】") and ticket.student_id == ts.students["张小明"].id
    plain = _text(bot.say("陈大宝妈妈", f"开放日反馈 {n} 满意 满意 很好"))
    assert "没有找到邀请您反馈的开放日" in plain
    assert "反馈：满意/一般" in _text(bot.say("钱主任", f"开放日名单 {n}"))


def test_parent_course_uses_the_same_mechanism(world, now):
    ts, bot = world
    reply = _text(bot.say("钱主任", "设置家长课程 12月10日 19:00 全校 60 如何陪伴孩子写作业"))
    assert "已发布家长课程（编号" in reply and "19:00" in reply
    assert "已为张小明家庭报名家长课程" in _text(bot.say("张小明妈妈", "报名家长课程"))


def test_usage_hints_and_permissions(open_day):
    ts, bot = open_day
    assert "用法：设置开放日 日期" in _text(bot.say("赵校长", "设置开放日 明天 一年级"))
    bad_scope = _text(bot.say("赵校长", "设置开放日 12月2日 火星班 20"))
    assert "用法：设置开放日" in bad_scope
    assert "开放日时间须在今后" in _text(bot.say("赵校长", "设置开放日 2026-11-01 一年级 20"))
    assert "用法：报名开放日" in _text(bot.say("张小明妈妈", "报名开放日 abc"))
    assert "用法：开放日签到" in _text(bot.say("王芳", f"开放日签到 {bot.n}"))
    for who, text in (("王芳", "设置开放日 12月2日 一年级一班 20"), ("张小明妈妈", "设置家长课程 12月2日 全校 20"),
                      ("王芳", "报名开放日"), ("张小明妈妈", f"开放日名单 {bot.n}"), ("李强", f"开放日名单 {bot.n}"),
                      ("张小明妈妈", f"开放日签到 {bot.n} 张小明"), ("王芳", "开放日反馈 1 满意 满意"), ("王芳", "取消报名")):
        assert "没有使用" in _text(bot.say(who, text)), (who, text)


def test_feedback_form_by_link(ext, open_day, client, db_session):
    ts, bot = open_day
    bot.say("张小明妈妈", f"报名开放日 {bot.n}")
    db_session.commit()
    jobs.reception_sweep(ext, at(2, 11, 30))
    bot.deliver(at(2, 11, 30))
    path = re.search(r"http://[^/]+(/o/\S+)", _text(bot.pop("张小明妈妈"))).group(1)
    html = client.get(path).get_data(as_text=True)
    assert "学校开放日反馈" in html and "听课感受" in html and "课堂秩序" in html and "张小明家长" in html
    assert client.post(path, data={"lesson": "满意"}).status_code == 400
    done = client.post(path, data={"lesson": "满意", "order": "一般",
                                   "suggestion": "教室后排太挤，希望学校把家长座位安排得宽松一些"})
    assert done.status_code == 200 and "已提交" in done.get_data(as_text=True)
    signup = db_session.scalar(select(OpenDaySignup))
    db_session.refresh(signup)
    assert (signup.lesson, signup.order_rating) == (3, 2) and signup.ticket_number is not None
    assert "已转为编号" in done.get_data(as_text=True)
    client.post(path, data={"lesson": "一般", "order": "一般", "suggestion": "教室后排太挤，还是很挤"})
    assert db_session.scalar(select(func.count()).select_from(Ticket)) == 1, "one ticket per family"
    assert client.get(path[:-3] + "abc").status_code == 403


def test_export_lists_each_family_with_attendance_and_feedback(ext, open_day, db_session):
    from openpyxl import load_workbook

    from models.exports import write_export

    ts, bot = open_day
    bot.say("张小明妈妈", f"报名开放日 {bot.n}")
    bot.say("陈大宝妈妈", f"报名开放日 {bot.n}")
    bot.say("王芳", f"开放日签到 {bot.n} 张小明")
    db_session.commit()
    path = ext.settings.instance_dir / "open-day.xlsx"
    assert write_export(db_session, "open_day", ts.school, path, tz="Asia/Shanghai", open_day_id=bot.n) == 2
    ws = load_workbook(path).active
    assert ws.title == "开放日签到及反馈表" and "学校开放日签到及反馈表" in ws.cell(1, 1).value
    assert [c.value for c in ws[2]][:7] == ["序号", "班级", "学生", "家长及联系电话", "报名方式", "状态", "到场"]
    rows = {ws.cell(r, 3).value: (ws.cell(r, 6).value, ws.cell(r, 7).value) for r in (3, 4)}
    assert rows == {"张小明": ("已报名", "是"), "陈大宝": ("候补", None)}
    assert "/x/" in _text(bot.say("赵校长", f"导出开放日 {bot.n}"))
    assert "没有使用" in _text(bot.say("王芳", f"导出开放日 {bot.n}"))
    assert "用法：导出开放日" in _text(bot.say("赵校长", "导出开放日 abc"))


def test_leader_calls_an_event_off_and_families_are_told(ext, open_day, db_session, now):
    ts, bot = open_day
    bot.say("张小明妈妈", f"报名开放日 {bot.n}")
    bot.say("陈大宝妈妈", f"报名开放日 {bot.n}")  # waiting
    assert "用法：取消开放日" in _text(bot.say("赵校长", "取消开放日"))
    assert "没有使用" in _text(bot.say("王芳", f"取消开放日 {bot.n}"))
    assert "已通知 2 位" in _text(bot.say("赵校长", f"取消开放日 {bot.n} 流感停课"))
    bot.deliver(now)
    assert "取消了（流感停课）" in _text(bot.pop("张小明妈妈")) and "取消了" in _text(bot.pop("陈大宝妈妈"))
    assert "已经取消" in _text(bot.say("赵校长", f"取消开放日 {bot.n}"))
    db_session.commit()
    jobs.reception_sweep(ext, at(1, 17, 0))
    bot.deliver(at(1, 17, 0))
    assert bot.pop("张小明妈妈") == [], "no reminder for a cancelled event"
    assert "目前没有" in _text(bot.say("张小明妈妈", "报名开放日"))
