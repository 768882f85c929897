"""Every label a user sees comes from one table of Chinese names (issue 16, item 6)."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest

from models import labels, ticket_notify, ticket_service
from models.digest import build_digest
from models.digest_render import render_text
from models.exports import write_export
from models.tickets import TicketState
from models.weekly import figures, write_workbook
from tests.scheduler_helpers import bound_school, open_ticket

ROOT = Path(__file__).resolve().parent.parent
TZ = "Asia/Shanghai"
H = dt.timedelta(hours=1)


def _events_in_code() -> set[str]:
    """Every ticket event action the code writes."""
    actions: set[str] = set()
    for path in [*(ROOT / "models").glob("*.py"), *(ROOT / "handlers").glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        actions |= set(re.findall(r"add_event\([^,]+,[^,]+,\s*\"([a-z_]+)\"", text))
        actions |= set(re.findall(r"ticket_service\.note\([^,]+,[^,]+,\s*\"([a-z_]+)\"", text))
        actions |= set(re.findall(r"action: str = \"([a-z_]+)\"", text))
        actions |= set(re.findall(r"Step\(\"([a-z_]+)\"", text))
        actions |= set(re.findall(r"(?<![a-z_])action=\"([a-z_]+)\"", text))
        actions |= set(re.findall(r"REMINDED = \"([a-z_]+)\"", text))
    return actions


def test_every_event_and_state_has_a_chinese_name():
    actions = _events_in_code()
    assert {"created", "assigned", "callback_asked", "reminded_respond", "from_visit", "transferred"} <= actions
    unnamed = sorted(a for a in actions if not re.search(r"[\u4e00-\u9fff]", labels.event_name(a)))
    assert unnamed == []
    assert all(re.search(r"[\u4e00-\u9fff]", labels.state_name(s)) for s in TicketState)


def test_taxonomy_names_are_the_taxonomy_files():
    assert labels.urgency_name("low") == "较低" and labels.urgency_name("normal") == "一般"
    assert labels.category_name("food") == "食堂餐饮" and labels.kind_name("complaint") == "投诉"


@pytest.fixture
def low_ticket(ext, db_session, now):
    ts, bot = bound_school(ext, db_session, now)
    ticket = open_ticket(db_session, ts, bot, now, text="建议操场多装几个饮水机", category="facilities",
                         urgency="low", kind="suggestion")
    ticket_service.accept(db_session, ticket, ts.staff["王芳"], now + H)
    ticket_service.resolve(db_session, ticket, ts.staff["王芳"], "已加装两台", now + 2 * H)
    ticket_notify.ask_callback(db_session, ticket, now + 3 * H, ttl=dt.timedelta(days=3), enqueue=False)
    db_session.commit()
    return ts, ticket


def test_the_ledger_history_is_in_chinese(db_session, low_ticket, tmp_path, now):
    ts, ticket = low_ticket
    path = tmp_path / "ledger.xlsx"
    write_export(db_session, "ledger", ts.school, path, tz=TZ, now=now + 4 * H)
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[2]]
    row = dict(zip(header, [c.value for c in ws[3]], strict=True))
    history = row["办理记录"]
    for code in ("created", "assigned", "accepted", "resolved", "callback_asked"):
        assert code not in history
    for name in ("家长反映", "分派", "接单", "办结", "发出回访"):
        assert name in history
    assert row["紧急程度"] == "较低" and row["类型"] == "建议" and row["状态"] == "已办结待回访"


def test_urgency_reads_the_same_in_ledger_weekly_and_digest(ext, db_session, low_ticket, tmp_path, now):
    ts, ticket = low_ticket
    ledger = tmp_path / "ledger.xlsx"
    write_export(db_session, "ledger", ts.school, ledger, tz=TZ, now=now + 4 * H)
    ledger_urgency = dict(zip([c.value for c in openpyxl.load_workbook(ledger).active[2]],
                              [c.value for c in openpyxl.load_workbook(ledger).active[3]], strict=True))["紧急程度"]
    weekly = tmp_path / "weekly.xlsx"
    start, end = now - dt.timedelta(days=1), now + 4 * H
    week = figures(db_session, ts.school.id, start, end)
    from zoneinfo import ZoneInfo

    write_workbook(db_session, ts.school, weekly, week, week, start, end, ZoneInfo(TZ))
    sheet = openpyxl.load_workbook(io.BytesIO(weekly.read_bytes()))["本周工单"]
    weekly_urgency = dict(zip([c.value for c in sheet[1]], [c.value for c in sheet[2]], strict=True))["紧急程度"]
    digest = render_text(build_digest(db_session, ext.settings, ts.school, dt.date(2026, 11, 23), now=end))
    assert ledger_urgency == weekly_urgency == "较低"
    assert "较低 1" in digest


def test_tickets_list_shows_category_names(runner, low_ticket):
    result = runner.invoke(args=["tickets", "list", "--school", "t1"])
    assert result.exit_code == 0, result.output
    assert "办学条件" in result.output and "facilities" not in result.output
    csv_out = runner.invoke(args=["tickets", "list", "--school", "t1", "--csv"]).output
    assert "家长 家长反映" in csv_out and "家长 created" not in csv_out and "系统 assigned" not in csv_out
