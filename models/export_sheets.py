"""The four ledgers as openpyxl worksheets: Chinese headers, formatted for A4 printing.

问题整改台账 (tickets with history and 销号), 入户访问登记表 (visits),
特殊关爱清单 (special-care students and their contacts) and 满意度测评结果.
Times are written as local times (Excel has no time zones).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.directory import CARE_FLAGS, School, SchoolClass, Student, StudentCare
from models.survey_results import compute_results
from models.surveys import INDICATORS, Survey

LABELS_FILE = Path(__file__).resolve().parent.parent / "config" / "lexicons" / "labels.yaml"
DATE_FORMAT = "yyyy-mm-dd hh:mm"
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


@functools.cache
def _labels() -> dict[str, Any]:
    try:
        return yaml.safe_load(LABELS_FILE.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}


def _kind_name(code: str) -> str:
    return str((_labels().get("kinds") or {}).get(code, code))


def _category_name(code: str) -> str:
    entry = (_labels().get("categories") or {}).get(code)
    return str(entry["name"]) if isinstance(entry, dict) else code


def local(value: dt.datetime | None, tz: str) -> dt.datetime | None:
    """Return a naive local datetime for a cell."""
    return value.astimezone(ZoneInfo(tz)).replace(tzinfo=None, microsecond=0) if value else None


def write_table(ws: Worksheet, title: str, headers: Sequence[str], widths: Sequence[int],
                rows: Sequence[Sequence[Any]]) -> None:
    """Write a titled, bordered table set up for printing: A4 landscape, fit to width, header repeated."""
    ws.cell(1, 1, title).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    for col, (header, width) in enumerate(zip(headers, widths, strict=True), 1):
        cell = ws.cell(2, col, header)
        cell.font, cell.border = Font(bold=True), _BORDER
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    for r, row in enumerate(rows, 3):
        for col, value in enumerate(row, 1):
            cell = ws.cell(r, col, value)
            cell.border = _BORDER
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if isinstance(value, dt.datetime):
                cell.number_format = DATE_FORMAT
            elif isinstance(value, float):  # rates
                cell.number_format = "0.0%"
    ws.freeze_panes = "A3"
    ws.print_title_rows = "2:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"


LEDGER_HEADERS = ("编号", "登记时间", "类型", "类别", "紧急程度", "班级", "学生", "问题描述", "责任人", "状态",
                  "应办结时间", "办结时间", "处理结果", "回访满意度", "是否销号", "销号时间", "办理记录")


def ledger_sheet(ws: Worksheet, session: Session, school: School, start: dt.datetime | None,
                 end: dt.datetime | None, tz: str) -> int:
    """Write the 问题整改台账; return the number of tickets."""
    from models.tickets import SATISFACTION_NAMES, Ticket

    query = select(Ticket).where(Ticket.school_id == school.id).order_by(Ticket.created_at, Ticket.id)
    if start is not None:
        query = query.where(Ticket.created_at >= start)
    if end is not None:
        query = query.where(Ticket.created_at < end)
    urgency = {"urgent": "紧急", "normal": "一般", "low": "低"}
    rows = []
    for t in session.scalars(query):
        history = "\n".join(f"{local(e.at, tz):%m-%d %H:%M} {e.action}"
                            f"{'（' + e.actor_staff.name + '）' if e.actor_staff else ''}"
                            f"{'：' + e.text if e.text else ''}" for e in t.events)
        rows.append((t.number, local(t.created_at, tz), _kind_name(t.kind), _category_name(t.category),
                     urgency.get(t.urgency, t.urgency), t.school_class.name if t.school_class else "",
                     t.student.name if t.student else "", t.text, t.assignee.name if t.assignee else "",
                     t.state_name, local(t.resolve_by, tz), local(t.resolved_at, tz), t.resolution or "",
                     SATISFACTION_NAMES.get(t.satisfaction or "", ""), "已销号" if t.state == "closed" else "未销号",
                     local(t.closed_at, tz), history))
    widths = (11, 16, 7, 10, 8, 12, 8, 36, 8, 10, 16, 16, 28, 10, 8, 16, 48)
    write_table(ws, f"{school.name}问题整改台账", LEDGER_HEADERS, widths, rows)
    return len(rows)


VISIT_HEADERS = ("序号", "访问时间", "班级", "学生", "家长及联系电话", "方式", "访问人", "访问内容及发现问题", "关联问题")


def visits_sheet(ws: Worksheet, session: Session, school: School, start: dt.datetime | None,
                 end: dt.datetime | None, tz: str) -> int:
    """Write the 入户访问登记表; return the number of visits."""
    from models.visits import Visit

    query = select(Visit).where(Visit.school_id == school.id).order_by(Visit.visited_at, Visit.id)
    if start is not None:
        query = query.where(Visit.visited_at >= start)
    if end is not None:
        query = query.where(Visit.visited_at < end)
    rows = []
    for n, v in enumerate(session.scalars(query), 1):
        rows.append((n, local(v.visited_at, tz), v.student.school_class.name, v.student.name,
                     _contacts(v.student), v.kind_name, v.staff.name, v.notes, v.ticket_id or ""))
    write_table(ws, f"{school.name}入户访问登记表", VISIT_HEADERS, (6, 16, 12, 8, 26, 8, 8, 48, 8), rows)
    return len(rows)


def _contacts(student: Student) -> str:
    return "\n".join(f"{gs.relation} {gs.guardian.name} {gs.guardian.phone}" for gs in student.guardianships)


CARE_HEADERS = ("序号", "班级", "学生", "性别", "关爱类型", "包靠教师", "班主任", "监护人及联系电话")


def care_sheet(ws: Worksheet, session: Session, school: School) -> int:
    """Write the 特殊关爱清单: every active special-care student with their contacts."""
    students = session.scalars(
        select(Student).join(SchoolClass, Student.class_id == SchoolClass.id)
        .where(Student.school_id == school.id, Student.active.is_(True),
               Student.id.in_(select(StudentCare.student_id)))
        .order_by(SchoolClass.id, Student.id)).all()
    order = list(CARE_FLAGS)
    rows = []
    for n, s in enumerate(students, 1):
        flags = sorted((c.flag for c in s.care_flags), key=lambda f: order.index(f) if f in order else 99)
        head = s.school_class.head_teacher
        rows.append((n, s.school_class.name, s.name, s.gender or "", "、".join(CARE_FLAGS.get(f, f) for f in flags),
                     s.responsible_staff.name if s.responsible_staff else "", head.name if head else "",
                     _contacts(s)))
    write_table(ws, f"{school.name}特殊关爱清单", CARE_HEADERS, (6, 12, 8, 6, 16, 10, 10, 36), rows)
    return len(rows)


def survey_sheets(ws: Worksheet, session: Session, survey: Survey, tz: str) -> int:
    """Write the 满意度测评结果: school per indicator, then classes ranked; return classes."""
    results = compute_results(session, survey)
    school = results.school
    deadline = local(survey.deadline, tz)
    rows: list[tuple[Any, ...]] = [(name, *_counts(school.indicators[code])) for code, name in INDICATORS]
    rows.append(("综合", *_counts(school.overall)))
    rows.append(("回收率", school.responded, school.families, "", "", _ratio(school.response_rate)))
    title = f"{survey.author.school.name}家长满意度测评结果（第 {survey.id} 次，截止 {deadline:%Y-%m-%d}）"
    write_table(ws, title, ("指标", "满意", "基本满意", "不满意", "不了解", "满意率"), (22, 10, 10, 10, 10, 12), rows)
    ranked = results.ranking
    rank = {class_id: n for n, (class_id, _) in enumerate(ranked, 1)}
    class_rows = []
    for class_id, group in results.classes:
        class_rows.append((rank[class_id], group.name, group.families, group.responded, _ratio(group.response_rate),
                           *(_ratio(group.indicators[c].rate) for c, _ in INDICATORS), _ratio(group.overall.rate)))
    sheet = ws.parent.create_sheet("班级排名")
    headers = ("排名", "班级", "应答户数", "回收户数", "回收率", *(n for _, n in INDICATORS), "综合满意率")
    write_table(sheet, "各班满意率（不了解不计入）", headers, (6, 12, 9, 9, 9, *(11,) * 6, 11),
                sorted(class_rows, key=lambda r: r[0]))
    return len(class_rows)


def _counts(t: Any) -> tuple[Any, ...]:
    return t.satisfied, t.basic, t.unsatisfied, t.unknown, _ratio(t.rate)


def _ratio(value: float | None) -> float | str:
    """Return a rate rounded to 4 places for a percent cell, or "—" when undefined."""
    return "—" if value is None else round(value, 4)
