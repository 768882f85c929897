"""Home visits by chat: ``家访 学生姓名 [类型] 记录`` and ``家访名单``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.message import InboundMessage, Reply
from handlers._records import tickets_from_record
from handlers.commands import command
from handlers.context import HEAD_TEACHER, LEADER, TEACHER, Context
from handlers.exceptions import UsageError
from models import visits

STAFF = frozenset({TEACHER, HEAD_TEACHER, LEADER})
LIST_LIMIT = 30


@command("家访", roles=STAFF, args=2, rest=True, private=True, aliases=("走访",))
def visit_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Record a contact with a family; a problem mentioned becomes a ticket."""
    staff = ctx.actor.staff
    assert staff is not None
    name, rest = args[0], " ".join(args[1:]).strip()
    first, _, after = rest.partition(" ")
    kind = visits.parse_kind(first)
    notes = after.strip() if kind else rest
    kind = kind or "home"
    candidates = visits.find_students(ctx.session, staff, name)
    if not candidates:
        raise UsageError(visit_command, f"本校没有名为「{name}」的在校学生。")
    allowed = [s for s in candidates if visits.may_record(ctx.session, staff, s)]
    if not allowed:
        return [Reply(f"「{name}」不是您包靠或任教班级的学生，无法登记。如需代登记，请联系班主任或主任。")]
    if len(allowed) > 1 and allowed[0].responsible_staff_id != staff.id:
        classes = "、".join(s.school_class.name for s in allowed)
        return [Reply(f"有多名学生叫「{name}」（{classes}），请联系班主任登记。")]
    student = allowed[0]
    visit = visits.record_visit(ctx.session, staff, student, kind, notes, now=ctx.now)
    lines = [f"已登记：{student.school_class.name} {student.name}，{visit.kind_name}。"]
    ticket = _ticket_from_visit(visit, ctx) if notes else None
    if ticket is not None:
        lines.append(f"记录中反映的问题已转为工单 {ticket.number}，将按家长诉求跟进办理。")
    due = visits.due_students(ctx.session, now=ctx.now, tz=_tz(ctx), care_days=ctx.settings.scheduler.care_visit_days,
                              staff_id=staff.id)
    lines.append(f"本月您还有 {len(due)} 名学生家庭待联系。" if due else "本月您包靠的学生家庭已全部联系。")
    return [Reply("\n".join(lines), private=True)]


@command("家访名单", roles=STAFF, private=True, aliases=("走访名单",))
def visit_list_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """List the 包靠 students still due a contact, special-care first (leaders: coverage by class)."""
    staff = ctx.actor.staff
    assert staff is not None
    tz, care_days = _tz(ctx), ctx.settings.scheduler.care_visit_days
    lines: list[str] = []
    due = visits.due_students(ctx.session, now=ctx.now, tz=tz, care_days=care_days, staff_id=staff.id)
    if not visits.has_paired_students(ctx.session, staff.id):
        lines.append("您没有包靠的学生家庭。" if LEADER in ctx.actor.roles else
                     "您没有包靠的学生家庭；如需安排，请联系班主任或学校领导。")
    elif due:
        lines.append(f"您本月还需联系 {len(due)} 名学生家庭（★为特殊关爱，每 {care_days} 天至少一次）：")
        lines += [visits.due_line(d, tz) for d in due[:LIST_LIMIT]]
        if len(due) > LIST_LIMIT:
            lines.append(f"……另有 {len(due) - LIST_LIMIT} 名")
        lines.append("登记示例：家访 张小明 电话 孩子作息规律")
    else:
        lines.append("您包靠的学生家庭本月均已联系。")
    if LEADER in ctx.actor.roles:
        lines.append("")
        lines.append("全校本月家访覆盖（按班级，低者在前）：")
        for c in visits.coverage_by_class(ctx.session, staff.school_id, now=ctx.now, tz=tz):
            lines.append(f"· {c.class_name} {c.contacted}/{c.students}（{c.rate:.0%}）")
    return [Reply("\n".join(lines), private=True)]


def _ticket_from_visit(visit: visits.Visit, ctx: Context):  # -> Ticket | None
    """What the family raised becomes tickets on their behalf; the visit keeps the first."""
    tickets = tickets_from_record(ctx, staff=visit.staff, student=visit.student, notes=visit.notes,
                                  action="from_visit", data={"visit_id": visit.id, "kind": visit.kind})
    if tickets:
        visit.ticket_id = tickets[0].id
    return tickets[0] if tickets else None


def _tz(ctx: Context) -> ZoneInfo:
    return ZoneInfo(ctx.settings.scheduler.timezone)
