"""The four ledgers as openpyxl worksheets: Chinese headers, formatted for A4 printing.

问题整改台账 (tickets with history and 销号), 入户访问登记表 (visits),
特殊关爱清单 (special-care students and their contacts) and 满意度测评结果.
Times are written as local times (Excel has no time zones).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import labels
from models.class_order import class_key
from models.directory import CARE_FLAGS, School, SchoolClass, Student, StudentCare
from models.survey_results import compute_results, hidden_note, too_few
from models.surveys import INDICATORS, Survey

if TYPE_CHECKING:  # openpyxl is imported when a sheet is written: a web worker that never exports spares ~8 MB
    from openpyxl.worksheet.worksheet import Worksheet

DATE_FORMAT = "yyyy-mm-dd hh:mm"


def local(value: dt.datetime | None, tz: str) -> dt.datetime | None:
    """Return a naive local datetime for a cell."""
    return value.astimezone(ZoneInfo(tz)).replace(tzinfo=None, microsecond=0) if value else None


def write_table(ws: Worksheet, title: str, headers: Sequence[str], widths: Sequence[int],
                rows: Sequence[Sequence[Any]]) -> None:
    """Write a titled, bordered table set up for printing: A4 landscape, fit to width, header repeated."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.cell(1, 1, title).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    for col, (header, width) in enumerate(zip(headers, widths, strict=True), 1):
        cell = ws.cell(2, col, header)
        cell.font, cell.border = Font(bold=True), border
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    for r, row in enumerate(rows, 3):
        for col, value in enumerate(row, 1):
            cell = ws.cell(r, col, value)
            cell.border = border
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
                  "应办结时间", "办结时间", "处理结果", "回访满意度", "是否销号", "销号时间", "办理记录", "附件数")


def ledger_sheet(ws: Worksheet, session: Session, school: School, start: dt.datetime | None,
                 end: dt.datetime | None, tz: str, where: Sequence[Any] = ()) -> int:
    """Write the 问题整改台账; return the number of tickets (``where``: more conditions, the console's filters)."""
    from models.tickets import Ticket

    query = select(Ticket).where(Ticket.school_id == school.id, *where).order_by(Ticket.created_at, Ticket.id)
    if start is not None:
        query = query.where(Ticket.created_at >= start)
    if end is not None:
        query = query.where(Ticket.created_at < end)
    from models.media import counts_by_ticket

    tickets = list(session.scalars(query))
    attachments = counts_by_ticket(session, [t.id for t in tickets])
    rows = []
    for t in tickets:
        history = "\n".join(f"{local(e.at, tz):%m-%d %H:%M} {labels.event_name(e.action)}"
                            f"{'（' + e.actor_staff.name + '）' if e.actor_staff else ''}"
                            f"{'：' + e.text if e.text else ''}" for e in t.events)
        rows.append((t.full_number, local(t.created_at, tz), labels.kind_name(t.kind), labels.category_name(t.category),
                     labels.urgency_name(t.urgency), t.school_class.name if t.school_class else "",
                     t.student.name if t.student else "", t.text, t.assignee.name if t.assignee else "",
                     t.state_name, local(t.resolve_by, tz), local(t.resolved_at, tz), t.resolution or "",
                     labels.satisfaction_name(t.satisfaction) if t.satisfaction else "",
                     "已销号" if t.state == "closed" else "未销号",
                     local(t.closed_at, tz), history, attachments.get(t.id, 0)))
    widths = (11, 16, 7, 10, 8, 12, 8, 36, 8, 10, 16, 16, 28, 10, 8, 16, 48, 7)
    write_table(ws, f"{school.name}问题整改台账", LEDGER_HEADERS, widths, rows)
    return len(rows)


FIGURES_HEADERS = ("指标", "数值", "计算口径", "分子", "分母")


def figures_sheet(ws: Worksheet, session: Session, school: School, start: dt.datetime | None,
                  end: dt.datetime | None, now: dt.datetime, tz: str) -> None:
    """Write the range's 响应率, 按期办结率 and 满意率 (``models.figures``) under the ledger."""
    from models.figures import Period, school_figures
    from models.tickets import Ticket

    if start is None:
        first = session.scalar(select(Ticket.created_at).where(Ticket.school_id == school.id)
                               .order_by(Ticket.created_at).limit(1))
        start = first or now
    f = school_figures(session, school.id, Period(start, min(end, now) if end is not None else now))
    rows = [
        ("响应率", f.response_rate, "按时响应（接单或回复家长）的工单 / 响应时限已到或已响应的工单",
         f.responded_in_time, f.respond_due),
        ("按期办结率", f.on_time_rate, "按时办结的工单 / 办结时限已到或已办结的工单", f.resolved_in_time, f.resolve_due),
        ("满意率", f.satisfaction_rate, "（满意+基本满意）/（满意+基本满意+不满意），未回访不计入",
         f.satisfied + f.basic, f.satisfied + f.basic + f.unsatisfied),
        ("未回访（件）", f.not_reached, "回访期内家长未答复、按未回访销号的工单数", None, None),
    ]
    until = local(min(end, now) if end is not None else now, tz)
    title = f"{school.name}问题整改台账统计指标（{local(start, tz):%Y-%m-%d} 至 {until:%Y-%m-%d %H:%M}）"
    write_table(ws, title, FIGURES_HEADERS, (12, 10, 56, 8, 8),
                [(name, "—" if value is None else value, how, num, den) for name, value, how, num, den in rows])


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


RECEPTION_HEADERS = ("序号", "接待日期", "来访人", "学生及班级", "预约事由", "反映事项及接待记录", "答复及处理意见",
                     "接待领导", "转工单", "办理及回访情况")


def reception_sheet(ws: Worksheet, session: Session, school: School, start: dt.datetime | None,
                    end: dt.datetime | None, tz: str) -> int:
    """Write the 来访接待登记表 (校长接待日); return the number of receptions."""
    from models.reception import held_between
    from models.tickets import Ticket

    rows = []
    for n, b in enumerate(held_between(session, school.id, start, end), 1):
        tickets = [session.scalar(select(Ticket).where(Ticket.school_id == school.id, Ticket.number == number))
                   for number in b.ticket_numbers or []]
        follow = "\n".join(f"{t.number} {labels.state_name(t.state)}" + (f"（{t.resolution}）" if t.resolution else "")
                           for t in tickets if t is not None)
        child = f"{b.student.school_class.name} {b.student.name}" if b.student else ""
        answers = "；".join(t.resolution for t in tickets if t is not None and t.resolution) or "当场答复"
        rows.append((n, local(b.slot_at, tz), b.visitor, child, b.reason, b.record or "", answers,
                     b.recorded_by.name if b.recorded_by else "", "、".join(b.ticket_numbers or []), follow))
    write_table(ws, f"{school.name}来访接待登记表", RECEPTION_HEADERS, (6, 16, 16, 16, 20, 44, 28, 10, 14, 28), rows)
    return len(rows)


OPEN_DAY_HEADERS = ("序号", "班级", "学生", "家长及联系电话", "报名方式", "状态", "到场", "听课感受", "课堂秩序",
                    "意见建议", "转工单")


def open_day_sheet(ws: Worksheet, session: Session, event: Any, tz: str) -> int:
    """Write an open day's (or 家长课程's) sign-ups, attendance per family and feedback; return the families."""
    from models.open_days import RATING_NAMES, SIGNUP_NAMES, roster

    rows = []
    for n, s in enumerate(roster(session, event), 1):
        rows.append((n, s.student.school_class.name, s.student.name, _contacts(s.student),
                     "链接" if s.via == "link" else "聊天", SIGNUP_NAMES.get(s.state, s.state),
                     "是" if s.attended else "", RATING_NAMES.get(s.lesson, ""), RATING_NAMES.get(s.order_rating, ""),
                     s.suggestion or "", s.ticket_number or ""))
    when = local(event.starts_at, tz)
    title = f"{event.kind_name}签到及反馈表（{when:%Y-%m-%d %H:%M}，{event.scope_label}）"
    write_table(ws, title, OPEN_DAY_HEADERS, (6, 12, 8, 26, 8, 8, 6, 8, 8, 36, 12), rows)
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
    students = sorted(students, key=lambda s: class_key(s.school_class.name, s.school_class.grade))  # stable: ids kept
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


def survey_sheets(ws: Worksheet, session: Session, survey: Survey, tz: str, min_responses: int = 0) -> int:
    """Write the 满意度测评结果: school per indicator, then classes ranked; return classes.

    A group (the school, a class) with fewer than ``min_responses`` responses
    shows no counts or rates, only why (``surveys.min_breakdown``; the
    principal's export passes 0).
    """
    results = compute_results(session, survey)
    school = results.school
    deadline = local(survey.deadline, tz)
    note = hidden_note(min_responses)
    school_hidden = too_few(school, min_responses)
    rows: list[tuple[Any, ...]] = [
        (name, *((note,) * 5 if school_hidden else _counts(school.indicators[code]))) for code, name in INDICATORS]
    rows.append(("综合", *((note,) * 5 if school_hidden else _counts(school.overall))))
    rows.append(("回收率", school.responded, school.families, "", "", _ratio(school.response_rate)))
    title = f"{survey.author.school.name}家长满意度测评结果（第 {survey.id} 次，截止 {deadline:%Y-%m-%d}）"
    write_table(ws, title, ("指标", "满意", "基本满意", "不满意", "不了解", "满意率"), (22, 10, 10, 10, 10, 12), rows)
    ranked = results.ranking
    rank = {class_id: n for n, (class_id, _) in enumerate(ranked, 1)}
    class_rows = []
    for class_id, group in results.classes:
        if too_few(group, min_responses):
            class_rows.append(("—", group.name, group.families, group.responded, _ratio(group.response_rate),
                               *(note,) * (len(INDICATORS) + 1)))
            continue
        class_rows.append((rank[class_id], group.name, group.families, group.responded, _ratio(group.response_rate),
                           *(_ratio(group.indicators[c].rate) for c, _ in INDICATORS), _ratio(group.overall.rate)))
    sheet = ws.parent.create_sheet("班级排名")
    headers = ("排名", "班级", "应答户数", "回收户数", "回收率", *(n for _, n in INDICATORS), "综合满意率")
    write_table(sheet, "各班满意率（不了解不计入）", headers, (6, 12, 9, 9, 9, *(11,) * 6, 11),
                sorted(class_rows, key=lambda r: (isinstance(r[0], str), r[0] if isinstance(r[0], int) else 0)))
    return len(class_rows)


def _counts(t: Any) -> tuple[Any, ...]:
    return t.satisfied, t.basic, t.unsatisfied, t.unknown, _ratio(t.rate)


def _ratio(value: float | None) -> float | str:
    """Return a rate rounded to 4 places for a percent cell, or "—" when undefined."""
    return "—" if value is None else round(value, 4)
