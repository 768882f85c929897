"""校长接待日 by chat: setting the days, booking free slots, reminders, the morning list, records → tickets."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import reception
from models.reception import ReceptionBooking
from models.tickets import Ticket
from scheduler import jobs
from tests.scheduler_helpers import bound_school

TZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def world(ext, db_session, now):
    return bound_school(ext, db_session, now)


@pytest.fixture
def open_days(world):
    ts, bot = world
    lines = bot.say("赵校长", "设置接待日 每月第一个周一 14:00-17:00 6")
    assert any("已设置校长接待日" in x and "12月7日" in x for x in lines), lines
    return ts, bot


def _text(lines: list[str]) -> str:
    return "\n".join(lines)


def test_leader_sets_a_monthly_day_and_parents_see_free_slots(open_days):
    ts, bot = open_days
    info = _text(bot.say("张小明妈妈", "接待日"))
    assert "每月第一个周一 14:00-17:00" in info and "12月7日：空闲 6/6" in info
    assert "当前接待日：每月第一个周一" in _text(bot.say("钱主任", "设置接待日"))


def test_wrong_arguments_give_the_chinese_usage_hint(open_days):
    ts, bot = open_days
    assert "用法：设置接待日 规则 时间段" in _text(bot.say("赵校长", "设置接待日 每月第一个"))
    bad = _text(bot.say("赵校长", "设置接待日 每年一次 14:00-17:00"))
    assert "没看懂「每年一次」" in bad and "用法：设置接待日" in bad
    assert "结束时间须晚于开始时间" in _text(bot.say("赵校长", "设置接待日 每周三 17:00-14:00"))
    assert "用法：接待记录 预约编号 记录" in _text(bot.say("赵校长", "接待记录 12"))
    assert "用法：取消预约" in _text(bot.say("张小明妈妈", "取消预约 abc"))
    assert "用法：接待名单" in _text(bot.say("赵校长", "接待名单 随便"))


def test_only_leaders_set_days_and_record_and_only_parents_book(open_days):
    ts, bot = open_days
    for who, text in (("王芳", "设置接待日 每周三 14:00-17:00"), ("张小明妈妈", "设置接待日 每周三 14:00-17:00"),
                      ("王芳", "接待记录 1 家长反映食堂太咸"), ("张小明妈妈", "接待名单"),
                      ("王芳", "预约接待 食堂"), ("王芳", "导出接待"), ("王芳", "我的预约"), ("王芳", "取消预约")):
        assert "没有使用" in _text(bot.say(who, text)), (who, text)
    assert "请先绑定身份" in _text(bot.say("王小虎奶奶", "接待日")), "strangers see no reception day"


def test_parents_book_the_next_free_slot_and_a_given_time(open_days, db_session):
    ts, bot = open_days
    first = _text(bot.say("张小明妈妈", "预约接待 孩子近视想调座位"))
    assert "12月7日（周一）14:00" in first and "孩子近视想调座位" in first and "14:30" in first
    taken = _text(bot.say("陈大宝妈妈", "预约接待 12月7日 14:00 食堂问题"))
    assert "14:00 不可预约" in taken and "14:30" in taken
    second = _text(bot.say("陈大宝妈妈", "预约接待 12-07 15:00 食堂问题"))
    assert "12月7日（周一）15:00" in second
    twice = _text(bot.say("张小明妈妈", "预约接待 12月7日 16:00 又一件事"))
    assert "同一场只能预约一次" in twice
    assert "不是接待日" in _text(bot.say("张小明妈妈", "预约接待 12月8日 事"))
    later = _text(bot.say("陈大宝妈妈", "预约接待 2027-03-01 事"))
    assert "3月1日（周一）14:00" in later, "any session ahead may be booked, not only the next few"
    mine = _text(bot.say("张小明妈妈", "我的预约"))
    assert "12月7日（周一）14:00" in mine and "孩子近视想调座位" in mine
    booking = db_session.scalar(select(ReceptionBooking).order_by(ReceptionBooking.id))
    assert booking.student_id == ts.students["张小明"].id


def test_cancel_frees_the_slot_for_another_parent(open_days):
    ts, bot = open_days
    bot.say("张小明妈妈", "预约接待 孩子近视")
    assert "已取消预约" in _text(bot.say("张小明妈妈", "取消预约"))
    assert "没有校长接待日预约" in _text(bot.say("张小明妈妈", "我的预约"))
    assert "12月7日（周一）14:00" in _text(bot.say("陈大宝妈妈", "预约接待 食堂"))
    assert "没有找到您的预约" in _text(bot.say("张小明妈妈", "取消预约 999"))


def test_full_sessions_move_to_the_next_day(world, db_session):
    ts, bot = world
    bot.say("赵校长", "设置接待日 每周三 14:00-15:00 1")
    assert "11月25日（周三）14:00" in _text(bot.say("张小明妈妈", "预约接待 作业太多"))
    assert "12月2日（周三）14:00" in _text(bot.say("陈大宝妈妈", "预约接待 食堂"))


def test_one_slot_cannot_be_booked_twice(open_days, db_session, now):
    ts, bot = open_days
    from tests.scheduler_helpers import identity_of

    schedule = reception.active_schedule(db_session, ts.school.id)
    slot = reception.free_slots(db_session, schedule, dt.date(2026, 12, 7), TZ, now)[0]
    reception.book(db_session, schedule, identity_of(db_session, bot, "张小明妈妈"), None, slot, "", now, TZ)
    with pytest.raises(reception.ReceptionError, match="刚被别人预约"):
        reception.book(db_session, schedule, identity_of(db_session, bot, "陈大宝妈妈"), None, slot, "", now, TZ)


def test_reminder_the_day_before_waits_for_quiet_hours_and_goes_once(ext, open_days, db_session):
    ts, bot = open_days
    bot.say("张小明妈妈", "预约接待 孩子近视")
    db_session.commit()
    jobs.reception_sweep(ext, at(6, 15, 0))
    bot.deliver(at(6, 15, 0))
    assert bot.pop("张小明妈妈") == [], "not before the reminder time"
    jobs.reception_sweep(ext, at(6, 21, 45))
    bot.deliver(at(6, 21, 45))
    assert bot.pop("张小明妈妈") == [], "held through the parent's quiet hours"
    jobs.reception_sweep(ext, at(6, 22, 30))
    bot.deliver(at(7, 7, 40))
    lines = bot.pop("张小明妈妈")
    assert len(lines) == 1 and "明天的校长接待日" in lines[0] and "14:00" in lines[0]


def test_morning_list_goes_to_the_reception_group(ext, open_days, db_session):
    ts, bot = open_days
    bot.say("张小明妈妈", "预约接待 孩子近视")
    bot.say("陈大宝妈妈", "预约接待 食堂")
    db_session.commit()
    jobs.reception_sweep(ext, at(7, 7, 0))
    bot.deliver(at(7, 7, 0))
    assert bot.pop("赵校长") == []
    jobs.reception_sweep(ext, at(7, 7, 35))
    jobs.reception_sweep(ext, at(7, 7, 50))
    bot.deliver(at(7, 7, 50))
    lines = bot.pop("赵校长")
    assert len(lines) == 1 and "共 2 位家长预约" in lines[0]
    assert "14:00 张小明妈妈 李娟｜孩子近视" in lines[0] and "陈大宝妈妈 刘芳" in lines[0]
    assert bot.pop("王芳") == []


def test_daily_duty_rota_names_the_leader_of_the_day(ext, world, db_session, now):
    ts, bot = world
    lines = _text(bot.say("赵校长", "设置接待日 每天 8:00-9:00 2 赵校长 钱主任"))
    assert "值班领导轮流：赵校长、钱主任" in lines
    schedule = reception.active_schedule(db_session, ts.school.id)
    hosts = {reception.host_for(db_session, schedule, dt.date(2026, 11, d)).name for d in (24, 25)}
    assert hosts == {"赵校长", "钱主任"}
    assert "本校没有名为「无名氏」" in _text(bot.say("赵校长", "设置接待日 每天 8:00-9:00 2 无名氏"))


def test_record_turns_what_the_parent_raised_into_tickets(ext, open_days, db_session):
    ts, bot = open_days
    bot.say("张小明妈妈", "预约接待 孩子近视")
    booking = db_session.scalar(select(ReceptionBooking))
    lines = _text(bot.say("赵校长", f"接待记录 {booking.id} 当面沟通了孩子的情况。家长反映食堂饭菜太咸，孩子吃不下。"
                                   "家长希望学校增加课后托管时间。已当场解释座位轮换办法"))
    assert "已登记接待记录" in lines and "2 件事已转为工单" in lines
    tickets = db_session.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert len(tickets) == 2
    assert all(t.student_id == ts.students["张小明"].id and t.identity_id == booking.identity_id for t in tickets)
    assert "from_reception" in [e.action for e in tickets[0].events]
    assert tickets[0].category == "food" and tickets[0].text.startswith("食堂饭菜太咸")
    bot.deliver()
    told = _text(bot.pop("张小明妈妈"))
    assert f"您在校长接待日反映的问题已登记，编号 {tickets[0].number}" in told and tickets[1].number in told
    mine = _text(bot.say("张小明妈妈", "我的反馈"))
    assert tickets[0].number in mine and tickets[1].number in mine
    db_session.refresh(booking)
    assert booking.state == "held" and booking.ticket_numbers == [t.number for t in tickets]
    quiet = _text(bot.say("赵校长", f"接待记录 {booking.id} 家长很满意，无其他诉求"))
    assert "没有需要办理的家长诉求" in quiet


def test_export_writes_the_reception_register_with_chinese_headers(ext, open_days, db_session, now):
    ts, bot = open_days
    bot.say("张小明妈妈", "预约接待 孩子近视")
    booking = db_session.scalar(select(ReceptionBooking))
    bot.say("赵校长", f"接待记录 {booking.id} 家长反映食堂饭菜太咸")
    db_session.commit()
    from models.exports import write_export

    path = ext.settings.instance_dir / "r.xlsx"
    assert write_export(db_session, "reception", ts.school, path, tz="Asia/Shanghai") == 1
    ws = load_workbook(path).active
    assert ws.title == "来访接待登记表" and ws.cell(1, 1).value == "测试小学来访接待登记表"
    assert [c.value for c in ws[2]][:4] == ["序号", "接待日期", "来访人", "学生及班级"]
    assert ws.cell(3, 3).value == "张小明妈妈 李娟" and "食堂" in ws.cell(3, 6).value
    link = _text(bot.say("赵校长", "导出接待"))
    assert "来访接待登记表已生成" in link and "/x/" in link


def test_digest_and_weekly_count_receptions(ext, open_days, db_session):
    ts, bot = open_days
    bot.say("张小明妈妈", "预约接待 孩子近视")
    bot.say("陈大宝妈妈", "预约接待 食堂")
    for booking in db_session.scalars(select(ReceptionBooking)).all():
        bot.say("赵校长", f"接待记录 {booking.id} 家长反映食堂饭菜太咸", now=at(7, 16))
    db_session.commit()
    from models.digest import build_digest
    from models.digest_render import render_text
    from models.weekly import figures

    d = build_digest(db_session, ext.settings, ts.school, dt.date(2026, 12, 7), at(7, 17, 30))
    assert (d.reception_today.sessions, d.reception_today.parents, d.reception_today.matters) == (1, 2, 2)
    assert "接待：今日 1 场、家长 2 人、反映事项转工单 2 件" in render_text(d)
    week = figures(db_session, ts.school.id, at(7, 0), at(8, 0), TZ)
    assert (week.receptions, week.received, week.matters) == (1, 2, 2)


def test_config_sets_the_day_of_a_school_that_never_had_one(world, db_session, monkeypatch):
    ts, bot = world
    monkeypatch.setattr(reception, "reception_config", lambda: {"schools": {"t1": {
        "rule": "每周三", "time": "14:00-15:00", "slots": 2, "rota": ["钱主任"]}}})
    info = _text(bot.say("张小明妈妈", "接待日"))
    assert "每周三 14:00-15:00，每场 2 人" in info
    assert "已停止接待日预约" in _text(bot.say("赵校长", "设置接待日 关闭"))
    assert "暂未开放" in _text(bot.say("张小明妈妈", "接待日")), "a leader's 关闭 is not undone by config"


def test_daily_list_goes_to_the_leader_on_duty(ext, world, db_session):
    ts, bot = world
    bot.say("赵校长", "设置接待日 每天 8:00-9:00 2 赵校长 钱主任")
    db_session.commit()
    schedule = reception.active_schedule(db_session, ts.school.id)
    host = reception.host_for(db_session, schedule, dt.date(2026, 11, 24)).name
    other = ({"赵校长", "钱主任"} - {host}).pop()
    jobs.reception_sweep(ext, at(24, 7, 40, month=11))
    bot.deliver(at(24, 7, 40, month=11))
    assert "值班领导：" + host in _text(bot.pop(host)) and bot.pop(other) == []
