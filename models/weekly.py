"""周调度: the weekly report of a school, this week against last, as an Excel workbook."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from config.settings import Settings
from models import links, outbox, people
from models.digest_render import pct
from models.directory import School, Staff
from models.exports import ExportFile, export_dir
from models.figures import Figures, Period, count_if, school_figures
from models.grid import referrals_between
from models.labels import satisfaction_name, state_name, urgency_name
from models.reception import figures as reception_figures
from models.routing import staff_with_roles
from models.sheet_safety import save_workbook
from models.ticket_notify import category_name
from models.tickets import OPEN_STATES, Ticket, TicketEvent
from models.visits import VISIT_KIND_NAMES, visits_between

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


@dataclasses.dataclass
class WeekFigures:
    """One week's numbers."""

    new: int = 0
    urgent: int = 0
    resolved: int = 0
    open_overdue: int = 0
    visits: int = 0
    receptions: int = 0  # 校长接待日 sessions held
    received: int = 0  # parents received
    matters: int = 0  # tickets opened from reception records
    referred: int = 0  # tickets handed to the grid (转属地)
    rates: Figures = dataclasses.field(default_factory=Figures)


def week_start(now: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Return Monday 00:00 local of the week containing ``now``, in UTC."""
    local = now.astimezone(tz).date()
    monday = local - dt.timedelta(days=local.weekday())
    return dt.datetime.combine(monday, dt.time(0), tzinfo=tz).astimezone(dt.UTC)


def figures(session: Session, school_id: int, start: dt.datetime, end: dt.datetime,
            tz: ZoneInfo = DEFAULT_TZ) -> WeekFigures:
    """Return a school's figures for tickets created and events between ``start`` and ``end`` (as of ``end``)."""
    f = WeekFigures(rates=school_figures(session, school_id, Period(start, end)))
    f.new, f.urgent = (int(x or 0) for x in session.execute(
        select(func.count(), count_if(Ticket.urgency == "urgent")).where(
            Ticket.school_id == school_id, Ticket.created_at >= start, Ticket.created_at < end)).one())
    f.resolved = session.scalar(select(func.count()).select_from(TicketEvent).join(Ticket).where(
        Ticket.school_id == school_id, Ticket.updated_at >= start, TicketEvent.action == "resolved",
        TicketEvent.at >= start, TicketEvent.at < end)) or 0
    f.open_overdue = session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.school_id == school_id, Ticket.state.in_(OPEN_STATES), Ticket.resolve_by < end)) or 0
    f.visits = len(visits_between(session, school_id, start, end))
    held = reception_figures(session, school_id, start, end, tz)
    f.receptions, f.received, f.matters = held.sessions, held.parents, held.matters
    f.referred = referrals_between(session, school_id, start, end)
    return f


def write_workbook(session: Session, school: School, path: Path, this: WeekFigures, last: WeekFigures,
                   start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> Path:
    """Write the 周调度 workbook (summary, the week's tickets, the visit log) with Chinese headers."""
    wb = Workbook()
    ws = wb.active
    ws.title = "周调度"
    ws.append(["指标", "本周", "上周", "变化"])
    rows = [("新增诉求", this.new, last.new), ("其中紧急", this.urgent, last.urgent),
            ("办结", this.resolved, last.resolved), ("逾期未办结（截至周末）", this.open_overdue, last.open_overdue),
            ("满意", this.rates.satisfied, last.rates.satisfied), ("基本满意", this.rates.basic, last.rates.basic),
            ("不满意", this.rates.unsatisfied, last.rates.unsatisfied),
            ("未回访", this.rates.not_reached, last.rates.not_reached), ("家访次数", this.visits, last.visits),
            ("校长接待（场）", this.receptions, last.receptions), ("接待家长（人）", this.received, last.received),
            ("接待反映事项转工单", this.matters, last.matters), ("转属地工单", this.referred, last.referred)]
    for name, a, b in rows:
        ws.append([name, a, b, a - b])
    for name, attr in (("响应率", "response_rate"), ("按期办结率", "on_time_rate"), ("满意率", "satisfaction_rate")):
        ws.append([name, pct(getattr(this.rates, attr)), pct(getattr(last.rates, attr)), ""])
    assignee = aliased(Staff)
    tickets = wb.create_sheet("本周工单")
    tickets.append(["编号", "类别", "紧急程度", "状态", "承办人", "登记时间", "办结时间", "回访结果", "内容"])
    for t, name in session.execute(select(Ticket, assignee.name).outerjoin(assignee, Ticket.assignee_id == assignee.id)
                                   .where(Ticket.school_id == school.id, Ticket.created_at >= start,
                                          Ticket.created_at < end).order_by(Ticket.id)):
        tickets.append([t.full_number, category_name(t.category), urgency_name(t.urgency),
                        state_name(t.state), name or "未分派", _local(t.created_at, tz),
                        _local(t.resolved_at, tz), satisfaction_name(t.satisfaction) if t.satisfaction else "", t.text])
    log = wb.create_sheet("入户访问登记表")
    log.append(["日期", "班级", "学生", "教师", "方式", "访问记录", "转工单"])
    for v in visits_between(session, school.id, start, end):
        log.append([_local(v.visited_at, tz), v.student.school_class.name, v.student.name, v.staff.name,
                    VISIT_KIND_NAMES.get(v.kind, v.kind), v.notes, "是" if v.ticket_id else ""])
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    return save_workbook(wb, path)


def send_weekly_report(session: Session, settings: Settings, school: School, period: str, now: dt.datetime) -> str:
    """Write this week's workbook and send each director their own expiring download link; return the file path.

    The file lives under the exports folder; each director gets an export
    record and a link signed for them alone (the ``/x/<token>`` download),
    valid for ``scheduler.weekly_link_hours``.
    """
    tz = ZoneInfo(settings.scheduler.timezone)
    start = week_start(now, tz)
    this = figures(session, school.id, start, now, tz)
    last = figures(session, school.id, start - dt.timedelta(days=7), now - dt.timedelta(days=7), tz)
    date = now.astimezone(tz).date().isoformat()
    relative = f"weekly/{school.code}/周调度-{date}.xlsx"
    path = export_dir(settings) / relative
    write_workbook(session, school, path, this, last, start, now, tz)
    hours = settings.scheduler.weekly_link_hours
    summary = (f"{school.name}本周（截至 {date}）：新增诉求 {this.new} 件（上周同期 {last.new}），"
               f"办结 {this.resolved} 件，逾期未办结 {this.open_overdue} 件；"
               f"响应率 {pct(this.rates.response_rate)}，按期办结率 {pct(this.rates.on_time_rate)}，"
               f"满意率 {pct(this.rates.satisfaction_rate)}；家访 {this.visits} 次。\n")
    for leader in staff_with_roles(session, school.id, ["director"]) or staff_with_roles(session, school.id,
                                                                                          ["principal"]):
        for recipient in people.staff_recipients(session, leader)[:1]:
            link = download_link(session, settings, leader, relative, now, dt.timedelta(hours=hours))
            text = (f"{summary}Excel 报表 {path.name}：{link}\n"
                    f"链接 {hours} 小时内有效，仅限您本人使用，请勿转发。")
            outbox.enqueue(session, recipient, text, now=now, audience="staff", title="周调度",
                           ref=f"weekly:{school.code}:{period}", dedupe_key=f"weekly:{school.code}:{period}:{leader.id}")
    return str(path)


def download_link(session: Session, settings: Settings, staff: Staff, relative: str, now: dt.datetime,
                  ttl: dt.timedelta) -> str:
    """Record a download of ``relative`` (under the exports folder) for ``staff``; return its signed link."""
    expires = now + ttl
    record = ExportFile(school_id=staff.school_id, staff_id=staff.id, kind="weekly", filename=relative,
                        created_at=now, expires_at=expires)
    session.add(record)
    session.flush()
    token = links.make_token(settings.app.secret_key, "export", {"e": record.id, "st": staff.id}, expires)
    return links.absolute_url(settings.app.base_url, "x", token)


def _local(when: dt.datetime | None, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when else ""
