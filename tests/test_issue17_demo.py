"""Issue 17 on the demo school (`make run` data): book a reception slot, get the reminder, the record opens a
ticket; sign up for an open day and answer its form; a gate-traffic complaint goes to the grid and is closed
after its feedback."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from models.callback_sweep import sweep_callbacks
from models.demo import seed_demo
from models.grid import GridContact, TicketReferral
from models.reception import ReceptionBooking, ReceptionSchedule
from models.tickets import Ticket
from scheduler import jobs
from tests.kit import SimBot

TZ = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def bot(ext, db_session, now):
    seed_demo(db_session, now)
    seed_demo(db_session, now)  # twice: still one reception day and one grid contact per school
    db_session.commit()
    bot = SimBot(ext, db_session)
    for who, text in (("张小明妈妈", "绑定 张小明 1234"), ("赵建国", "绑定 赵建国 0001"), ("钱立新", "绑定 钱立新 0002"),
                      ("王芳", "绑定 王芳 0003")):
        assert any("绑定成功" in x for x in bot.say(who, text)), who
    bot.deliver(now)
    for who in ("张小明妈妈", "赵建国", "钱立新", "王芳"):
        bot.pop(who)
    return bot


def _text(lines: list[str]) -> str:
    return "\n".join(lines)


def test_seed_demo_sets_one_reception_day_and_grid_contact_per_school(bot, db_session):
    schools = db_session.scalar(select(func.count(func.distinct(ReceptionSchedule.school_id))))
    assert schools == 2 and db_session.scalar(select(func.count()).select_from(ReceptionSchedule)) == 2
    assert db_session.scalar(select(func.count()).select_from(GridContact)) == 2


def test_reception_booking_reminder_and_record(ext, bot, db_session):
    booked = _text(bot.say("张小明妈妈", "预约接待 孩子近视想调座位"))
    assert "12月7日（周一）14:00" in booked
    jobs.reception_sweep(ext, at(12, 6, 16, 5))
    bot.deliver(at(12, 6, 16, 5))
    assert "明天的校长接待日" in _text(bot.pop("张小明妈妈"))
    booking = db_session.scalar(select(ReceptionBooking))
    recorded = _text(bot.say("赵建国", f"接待记录 {booking.id} 家长反映食堂饭菜太咸，孩子吃不下", now=at(12, 7, 15)))
    assert "1 件事已转为工单" in recorded
    ticket = db_session.scalar(select(Ticket).order_by(Ticket.id.desc()))
    assert ticket.number in _text(bot.say("张小明妈妈", "我的反馈", now=at(12, 7, 15)))


def test_open_day_sign_up_and_feedback(ext, bot, db_session):
    made = _text(bot.say("赵建国", "设置开放日 12月2日 9:00 一年级一班 20 语文公开课"))
    number = made.split("编号 ")[1].split("）")[0]
    assert "已为张小明家庭报名学校开放日" in _text(bot.say("张小明妈妈", "报名开放日"))
    jobs.reception_sweep(ext, at(12, 2, 11, 30))
    bot.deliver(at(12, 2, 11, 30))
    assert "三个问题" in _text(bot.pop("张小明妈妈"))
    assert "感谢您的反馈" in _text(bot.say("张小明妈妈", f"开放日反馈 {number} 满意 满意 很好"))


def test_gate_traffic_goes_to_the_grid_and_is_closed_after_feedback(ext, bot, db_session, now):
    said = bot.say("张小明妈妈", "校门口交通太乱了，放学时车辆乱停，孩子过马路很危险")
    ticket = db_session.scalar(select(Ticket).order_by(Ticket.id.desc()))
    referral = db_session.scalar(select(TicketReferral).where(TicketReferral.ticket_id == ticket.id))
    assert referral is not None and referral.contact_label == "幸福社区 刘卫东"
    bot.deliver(now)
    assert "转交属地（幸福社区 刘卫东）" in _text(said + bot.pop("张小明妈妈"))
    done = _text(bot.say("钱立新", f"属地反馈 {ticket.number} 交警放学时段执勤，违停已清理", now=now + dt.timedelta(days=2)))
    assert "已登记属地反馈" in done
    later = now + dt.timedelta(days=2, hours=2)
    sweep_callbacks(db_session, ext.settings, later)
    db_session.commit()
    bot.deliver(later)
    assert "回访" in _text(bot.pop("张小明妈妈"))
    bot.say("张小明妈妈", "满意", now=later)
    db_session.refresh(ticket)
    assert ticket.state == "closed"
