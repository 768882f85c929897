"""网格 referral (转属地): grid contacts from the roster, referral by chat or rule, feedback, 回访 and 销号."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import grid
from models.callback_sweep import sweep_callbacks
from models.deadline_sweep import sweep_deadlines
from models.grid import GridContact, TicketReferral
from models.outbox import OutboxMessage
from models.tickets import Ticket
from tests.scheduler_helpers import bound_school, open_ticket

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
GATE = "校门口放学时段车辆乱停，孩子过马路很危险"


@pytest.fixture
def world(ext, db_session, now):
    ts, bot = bound_school(ext, db_session, now)
    grid.upsert_contact(db_session, ts.school.id, "刘卫东", area="幸福社区", phone="13912340000")
    db_session.commit()
    return ts, bot


def _text(lines: list[str]) -> str:
    return "\n".join(lines)


@pytest.fixture
def gate_ticket(world, db_session, now):
    ts, bot = world
    ticket = open_ticket(db_session, ts, bot, now, text=GATE, category="transport", assignee="王芳")
    db_session.commit()
    return ticket


def test_leader_refers_a_ticket_and_gets_a_printable_sheet(ext, world, gate_ticket, db_session, now):
    ts, bot = world
    reply = _text(bot.say("钱主任", f"转属地 {gate_ticket.number} 幸福社区 校门口车辆乱停，需交警和社区协调"))
    assert "已转属地：幸福社区 刘卫东" in reply and "/x/" in reply and "13912340000" in reply
    referral = db_session.scalar(select(TicketReferral))
    assert referral.ticket_id == gate_ticket.id and referral.delivery == "sheet"
    bot.deliver(now)
    parent = _text(bot.pop("张小明妈妈"))
    assert f"编号 {gate_ticket.number}" in parent and "转交属地（幸福社区 刘卫东）" in parent
    assert "已转属地" in _text(bot.pop("王芳"))
    detail = _text(bot.say("王芳", f"查看 {gate_ticket.number}"))
    assert "已转属地：" in detail and "待属地反馈" in detail
    assert "已转属地" in _text(bot.say("张小明妈妈", f"进度 {gate_ticket.number}"))
    again = _text(bot.say("钱主任", f"转属地 {gate_ticket.number} 幸福社区 再转一次"))
    assert "已转属地，请等待属地反馈" in again
    from models.exports import write_export

    path = ext.settings.instance_dir / "referral.xlsx"
    write_export(db_session, "referral", ts.school, path, tz="Asia/Shanghai", ticket_id=gate_ticket.id)
    ws = load_workbook(path).active
    assert ws.title == "属地转办单" and [c.value for c in ws[2]] == ["项目", "内容"]
    cells = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(3, ws.max_row + 1)}
    assert cells["接收网格（社区/街道）"] == "幸福社区 刘卫东" and cells["反映事项"] == GATE
    assert "/x/" in _text(bot.say("王芳", f"转办单 {gate_ticket.number}"))


def test_grid_feedback_resolves_and_the_school_closes_after_the_callback(ext, world, gate_ticket, db_session, now):
    ts, bot = world
    bot.say("钱主任", f"转属地 {gate_ticket.number} 刘卫东 校外交通")
    # While the grid works on it, the school is not chased for the deadline …
    late = gate_ticket.resolve_by + H
    counts = sweep_deadlines(db_session, ext.settings, late)
    assert counts["escalated_resolve"] == 0 and counts["reminded_resolve"] == 0
    from models.digest import build_digest
    from models.digest_render import render_text

    d = build_digest(db_session, ext.settings, ts.school, late.date(), late)
    assert d.overdue.total == 0 and d.referred_open == 1
    assert "待属地反馈 1 件（单独统计，不计入逾期）" in render_text(d)
    # … and it never leaves the ledger.
    assert gate_ticket.number in _text(bot.say("钱主任", "全部工单", now=late))
    done = _text(bot.say("王芳", f"属地反馈 {gate_ticket.number} 交警已在放学时段安排执勤，违停车辆已清理", now=late))
    assert "已登记属地反馈" in done
    db_session.refresh(gate_ticket)
    assert gate_ticket.state == "resolved" and "属地（幸福社区 刘卫东）反馈" in gate_ticket.resolution
    sweep_callbacks(db_session, ext.settings, late + 2 * H)
    db_session.commit()
    bot.deliver(late + 2 * H)
    asked = _text(bot.pop("张小明妈妈"))
    assert "回访" in asked and "交警已在放学时段安排执勤" in asked
    bot.say("张小明妈妈", "1", now=late + 3 * H)
    db_session.refresh(gate_ticket)
    assert gate_ticket.state == "closed" and gate_ticket.satisfaction == "satisfied"
    assert grid.open_referrals(db_session, ts.school.id) == 0
    from models.exports import write_export

    path = ext.settings.instance_dir / "ledger.xlsx"
    write_export(db_session, "ledger", ts.school, path, tz="Asia/Shanghai", now=late + 4 * H)
    ws = load_workbook(path).active
    history = ws.cell(3, 17).value
    assert ws.cell(3, 1).value == gate_ticket.full_number and ws.cell(3, 15).value == "已销号"
    assert "已转属地（钱主任）：幸福社区 刘卫东" in history and "属地反馈（王芳）" in history


def test_contact_on_the_platform_receives_the_case_privately(ext, world, gate_ticket, db_session):
    ts, bot = world
    contact = db_session.scalar(select(GridContact))
    contact.platform, contact.external_id = "wecom", "liuweidong"
    db_session.commit()
    reply = _text(bot.say("钱主任", f"转属地 {gate_ticket.number} 幸福社区 校外交通"))
    assert "网格员已在平台上收到" in reply and "/x/" not in reply
    row = db_session.scalar(select(OutboxMessage).where(OutboxMessage.address == "liuweidong"))
    assert row is not None and "【属地转办】" in row.text and GATE in row.text
    assert "13800001234" not in row.text, "the parent's phone is not handed out"


def test_outside_matter_is_referred_by_the_rule(ext, world, db_session, now):
    ts, bot = world
    lines = _text(bot.say("张小明妈妈", "学校门口有很多流动摊贩卖三无食品，孩子放学总去买，请管一管"))
    bot.deliver(now)
    lines += _text(bot.pop("张小明妈妈"))
    ticket = db_session.scalar(select(Ticket).order_by(Ticket.id.desc()))
    referral = grid.referral_of(db_session, ticket.id)
    assert referral is not None and referral.referred_by_id is None and "转交属地" in lines
    assert ticket.assignee is not None, "the school keeps an owner for the 回访 and 销号"


def test_no_rule_no_referral(ext, world, db_session):
    ts, bot = world
    bot.say("张小明妈妈", "食堂的饭菜太咸了，孩子吃不下")
    ticket = db_session.scalar(select(Ticket).order_by(Ticket.id.desc()))
    assert grid.referral_of(db_session, ticket.id) is None


def test_usage_hints_and_permissions(world, gate_ticket, db_session):
    ts, bot = world
    n = gate_ticket.number
    assert "用法：转属地 编号 网格 原因" in _text(bot.say("钱主任", f"转属地 {n}"))
    unknown = _text(bot.say("钱主任", f"转属地 {n} 火星社区 原因"))
    assert "没有找到网格「火星社区」" in unknown and "幸福社区 刘卫东" in unknown
    assert "用法：属地反馈 编号 结果" in _text(bot.say("王芳", f"属地反馈 {n}"))
    assert "用法：转办单 编号" in _text(bot.say("王芳", "转办单"))
    for who, text in (("王芳", f"转属地 {n} 幸福社区 原因"), ("张小明妈妈", f"转属地 {n} 幸福社区 原因"),
                      ("张小明妈妈", f"属地反馈 {n} 好了"), ("王芳", "网格员"), ("张小明妈妈", f"转办单 {n}")):
        assert "没有使用" in _text(bot.say(who, text)), (who, text)
    bot.say("钱主任", f"转属地 {n} 幸福社区 原因")
    refused = _text(bot.say("李强", f"属地反馈 {n} 已处理"))
    assert "没有找到工单" in refused or "不由您办理" in refused
    assert "没有找到工单 9999" in _text(bot.say("钱主任", "属地反馈 9999 好了"))
    other = open_ticket(db_session, ts, bot, bot.ext.now(), text="食堂饭菜太咸", category="food")
    db_session.commit()
    assert "没有转属地" in _text(bot.say("钱主任", f"属地反馈 {other.number} 好了"))


def test_contacts_listed_and_missing_contacts_explained(ext, db_session, now):
    ts, bot = bound_school(ext, db_session, now)
    assert "尚未登记网格员" in _text(bot.say("钱主任", "网格员"))
    ticket = open_ticket(db_session, ts, bot, now, text=GATE, category="transport")
    db_session.commit()
    assert "尚未登记网格员" in _text(bot.say("钱主任", f"转属地 {ticket.number} 幸福社区 原因"))
    grid.upsert_contact(db_session, ts.school.id, "刘卫东", area="幸福社区", phone="13912340000")
    db_session.commit()
    listed = _text(bot.say("钱主任", "网格员"))
    assert "幸福社区 刘卫东｜13912340000｜打印转办单" in listed


def test_roster_staff_sheet_role_grid_makes_contacts_not_staff(db_session, now, tmp_path):
    from models.directory import School, Staff
    from models.roster import RosterError, import_roster
    from tests.test_roster import STAFF, V1, write_xlsx

    rows = [*STAFF, ["实验小学", "刘卫东", "139 1234 0000", "网格员", "幸福社区"]]
    import_roster(db_session, write_xlsx(tmp_path / "a.xlsx", V1, rows), now)
    school = db_session.scalar(select(School).where(School.name == "实验小学"))
    contact = db_session.scalar(select(GridContact).where(GridContact.school_id == school.id))
    assert (contact.name, contact.area, contact.phone, contact.active) == ("刘卫东", "幸福社区", "13912340000", True)
    assert db_session.scalar(select(Staff).where(Staff.name == "刘卫东")) is None
    import_roster(db_session, write_xlsx(tmp_path / "b.xlsx", V1, STAFF), now)
    assert contact.active is False, "left off the staff sheet: no longer a contact"
    bad = [*STAFF, ["实验小学", "刘卫东", "12345", "网格员", "幸福社区"]]
    with pytest.raises(RosterError, match="手机号「12345」"):
        import_roster(db_session, write_xlsx(tmp_path / "c.xlsx", V1, bad), now)


def test_grid_contact_binds_on_the_platform_and_gets_cases_privately(ext, db_session, now):
    ts, bot = bound_school(ext, db_session, now)
    # 王秀英 (王小虎's grandmother in the test roster) is also the community's grid member here.
    grid.upsert_contact(db_session, ts.school.id, "王秀英", area="幸福社区", phone="13700001111")
    ticket = open_ticket(db_session, ts, bot, now, text=GATE, category="transport")
    db_session.commit()
    wrong = _text(bot.say("王小虎奶奶", "绑定网格员 王秀英 0000"))
    assert "手机号后四位不符（还可尝试" in wrong
    assert "用法：绑定网格员" in _text(bot.say("王小虎奶奶", "绑定网格员 王秀英"))
    assert "已登记为测试小学的网格联系人" in _text(bot.say("王小虎奶奶", "绑定网格员 王秀英 1111"))
    reply = _text(bot.say("钱主任", f"转属地 {ticket.number} 王秀英 校外交通"))
    assert "网格员已在平台上收到" in reply
    bot.deliver(now)
    case = _text(bot.pop("王小虎奶奶"))
    assert "【属地转办】" in case and GATE in case and ticket.full_number in case
