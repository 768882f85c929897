"""满意度测评 in chat: 发起测评, answering one question at a time (resumable), 测评结果."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.message import InboundMessage, Reply
from config.settings import Settings
from handlers import filters
from handlers.commands import command
from handlers.context import HEAD_TEACHER, LEADER, PARENT, TEACHER, Context
from handlers.exceptions import Forbidden, HandlerError, UsageError
from handlers.notices import _WHEN
from handlers.registry import Registry
from models import conversation, review, scope, survey_results, surveys, ticket_notify, ticket_service
from models.directory import Student
from models.tickets import Ticket

if TYPE_CHECKING:
    from sqlalchemy.orm import Session  # the type only: handlers run no SQL

log = logging.getLogger(__name__)
KIND = "survey"
COMMENT_STEP = len(surveys.INDICATORS)
NO_COMMENT = frozenset({"无", "没有", "跳过", "不用了", "无意见", "没有意见"})


@command("发起测评", roles=frozenset({LEADER}), args=2, private=True)
def launch_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Start a survey for a scope with a deadline (end of that day, local time)."""
    staff = ctx.actor.staff
    assert staff is not None
    match = _WHEN.match(args[1])
    tz = ZoneInfo(ctx.settings.app.timezone)
    try:
        day = dt.date(*(int(g) for g in match.groups())) if match else None
    except ValueError:
        day = None
    if day is None:
        raise UsageError(launch_command, "截止日期格式应为 2026-12-05。")
    deadline = dt.datetime.combine(day, dt.time(23, 59, 59), tz).astimezone(dt.UTC)
    if deadline <= ctx.now:
        raise UsageError(launch_command, "截止日期已过。")
    try:
        parsed = scope.resolve_scope(ctx.session, staff.school_id, args[0])
    except scope.ScopeError as exc:
        raise HandlerError(str(exc)) from exc
    survey, queued = surveys.launch_survey(ctx.session, author=staff, scope=parsed, deadline=deadline,
                                           settings=ctx.settings, now=ctx.now)
    return [Reply(f"已发起满意度测评（编号 {survey.id}），范围：{survey.scope_label}，截止 {day:%Y-%m-%d}。"
                  f"已向 {queued} 位已绑定家长发送填写链接。发送「测评结果 {survey.id}」查看结果。",
                  private=msg.is_group)]


def _question(survey: surveys.Survey, student_name: str, step: int, response: surveys.SurveyResponse | None,
              ) -> str:
    if step >= COMMENT_STEP:
        current = f"（当前：{response.comment}）" if response is not None and response.comment else ""
        return f"最后，您对学校有什么意见或建议？直接回复即可{current}；没有请回复「无」。"
    code, name = surveys.INDICATORS[step]
    current = ""
    if response is not None and code in response.answers:
        current = f"（当前：{surveys.OPTIONS[response.answers[code]]}）"
    return (f"满意度测评 第 {step + 1}/{COMMENT_STEP} 题（{student_name}家庭）\n您对学校「{name}」是否满意？{current}\n"
            "1 满意　2 基本满意　3 不满意　4 不了解\n请回复数字。")


def _ask(ctx: Context, survey: surveys.Survey, student: object, step: int, single: bool = False) -> list[Reply]:
    """Ask one question; ``single`` means a change of one answer (finish right after it)."""
    response = surveys.get_response(ctx.session, survey.id, student.id)
    # Re-create rather than update, so this question is the newest even within the same second.
    conversation.answered(ctx.session, ctx.actor.identity.id, KIND)
    conversation.ask(ctx.session, ctx.actor.identity.id, KIND,
                     {"survey_id": survey.id, "student_id": student.id, "step": step, "single": single},
                     now=ctx.now, ttl=survey.deadline - ctx.now)
    return [Reply(_question(survey, student.name, step, response), private=True)]


@command("测评", roles=frozenset({PARENT}), args=(0, 1), private=True)
def answer_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Start, resume or change the family's answers in chat (``测评 3`` jumps to question 3)."""
    jump = None
    if args:
        if not args[0].isdigit() or not 1 <= int(args[0]) <= COMMENT_STEP + 1:
            raise UsageError(answer_command, f"题号为 1–{COMMENT_STEP + 1}。")
        jump = int(args[0]) - 1
    choices = [(s, gs.student) for gs in ctx.actor.guardianships
               for s in surveys.open_surveys_for(ctx.session, gs.student, ctx.now)]
    if not choices:
        return [Reply("目前没有进行中的满意度测评，谢谢关注。", private=True)]
    # An unfinished family first; once all are done, 测评 changes the first one's answers.
    for survey, student in choices:
        response = surveys.get_response(ctx.session, survey.id, student.id)
        if response is None or not response.complete:
            answered = response.answers if response is not None else {}
            first = next(i for i, code in enumerate(surveys.INDICATOR_CODES) if code not in answered)
            return _ask(ctx, survey, student, first if jump is None else jump)
    survey, student = choices[0]
    return _ask(ctx, survey, student, 0 if jump is None else jump, single=jump is not None)


def _pending(ctx: Context) -> conversation.PendingQuestion | None:
    """Return the survey question if it is the person's latest open question (a 满意 belongs to that one)."""
    if PARENT not in ctx.actor.roles:
        return None
    question = conversation.latest_pending(ctx.session, ctx.actor.identity.id, ctx.now)
    return question if question is not None and question.kind == KIND else None


def _is_answer(msg: InboundMessage, ctx: Context) -> bool:
    if not (filters.TEXT & filters.PRIVATE)(msg, ctx):
        return False
    question = _pending(ctx)
    if question is None:
        return False
    return question.payload.get("step", 0) >= COMMENT_STEP or surveys.parse_option(msg.text) is not None


def _answer(msg: InboundMessage, ctx: Context) -> list[Reply]:
    question = _pending(ctx)
    assert question is not None
    payload = dict(question.payload)
    survey = surveys.get_survey(ctx.session, int(payload["survey_id"]))
    student = next((gs.student for gs in ctx.actor.guardianships if gs.student.id == payload["student_id"]), None)
    if survey is None or student is None:
        conversation.answered(ctx.session, ctx.actor.identity.id, KIND)
        return [Reply("这次测评已不可作答。", private=True)]
    step = int(payload["step"])
    try:
        if step < COMMENT_STEP:
            surveys.save_answers(ctx.session, survey, student,
                                 {surveys.INDICATOR_CODES[step]: surveys.parse_option(msg.text)}, via="chat",
                                 now=ctx.now)
        else:
            comment = "" if msg.text.strip().strip("。.") in NO_COMMENT else msg.text.strip()
            response = surveys.save_answers(ctx.session, survey, student, {}, comment=comment, via="chat",
                                            now=ctx.now)
            file_comment(ctx.session, ctx.settings, response, student, ctx.now, ctx.actor.identity.id)
    except surveys.SurveyError as exc:
        conversation.answered(ctx.session, ctx.actor.identity.id, KIND)
        return [Reply(str(exc), private=True)]
    response = surveys.get_response(ctx.session, survey.id, student.id)
    assert response is not None
    missing = [i for i, code in enumerate(surveys.INDICATOR_CODES) if code not in response.answers]
    single = bool(payload.get("single"))
    if step < COMMENT_STEP and not (single and not missing):
        nxt = step + 1 if step + 1 < COMMENT_STEP else (missing[0] if missing else COMMENT_STEP)
        return _ask(ctx, survey, student, nxt, single=single)
    conversation.answered(ctx.session, ctx.actor.identity.id, KIND)
    return [Reply(_summary(survey, student.name, response), private=True)]


def _summary(survey: surveys.Survey, student_name: str, response: surveys.SurveyResponse) -> str:
    lines = [f"谢谢！{student_name}家庭的测评已提交："]
    lines += [f"{name}：{surveys.OPTIONS[response.answers[code]]}" for code, name in surveys.INDICATORS
              if code in response.answers]
    if response.comment:
        lines.append(f"意见建议：{response.comment}")
    lines.append("截止前可发送「测评」修改答案（如「测评 3」改第 3 题）。")
    return "\n".join(lines)


def file_comment(session: Session, settings: Settings, response: surveys.SurveyResponse, student: Student,
                 now: dt.datetime, identity_id: int | None) -> None:
    """Turn an actionable comment into a ticket (anonymous when ``surveys.anonymous``), once per response."""
    if not response.comment or response.comment_ticket_id is not None:
        return
    ticket = comment_ticket(session, settings, response.comment, "满意度测评意见", student, now,
                            identity_id, anonymous=settings.surveys.anonymous)
    if ticket is not None:
        response.comment_ticket_id = ticket.id


def comment_ticket(session: Session, settings: Settings, comment: str, label: str, student: Student,
                   now: dt.datetime, identity_id: int | None, *, anonymous: bool) -> Ticket | None:
    """Open a ticket for an actionable feedback-form comment (测评, 开放日); None when it asks nothing."""
    try:
        from handlers.classifier import classify

        labels = classify(comment)
    except Exception:  # the answers are saved either way; a broken classifier must not lose them
        log.exception("classifier failed on a %s comment", label)
        return None
    if not labels.actionable:
        return None
    urgency = labels.urgency or "normal"
    ticket = ticket_service.open_ticket(
        session, school=student.school, kind=labels.kind, category=labels.category or "other",
        urgency=urgency, text=f"【{label}】{comment}", now=now,
        tz=settings.app.timezone, identity_id=None if anonymous else identity_id,
        student=None if anonymous else student, school_class=student.school_class,
        confidence=labels.confidence, needs_review=labels.review and urgency != "urgent")
    if ticket.needs_review:  # a possible danger in a form's comment: reviewed at once, like a message
        ticket_notify.send(session, review.flag_notices(session, ticket, settings.app.timezone,
                                                        settings.tickets.review_minutes), now)
    return ticket


@command("测评结果", roles=frozenset({TEACHER, HEAD_TEACHER, LEADER}), args=1)
def results_command(args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
    """Show results: the whole school to leaders, only their classes' aggregates to teachers."""
    from handlers.survey_text import format_results

    staff = ctx.actor.staff
    assert staff is not None
    if not args[0].isdigit():
        raise UsageError(results_command, "请写测评编号，例如「测评结果 1」。")
    survey = surveys.get_survey(ctx.session, int(args[0]), staff.school_id)
    if survey is None:
        raise HandlerError(f"没有找到测评 {args[0]}。")
    results = survey_results.compute_results(ctx.session, survey)
    own = None
    if LEADER not in ctx.actor.roles:
        own = set(scope.teaching_class_ids(ctx.session, staff.id)) & set(survey.class_ids)
        if not own:
            raise Forbidden("本次测评不涉及您任教的班级。")
    principal = staff.role == "principal"
    minimum = 0 if principal else ctx.settings.surveys.min_breakdown
    return [Reply(format_results(results, own, ctx.settings.app.timezone, minimum), private=True)]


def register(registry: Registry) -> None:
    """Add the survey commands and the in-chat answers."""
    registry.add_answer({KIND}, _is_answer, _answer, "survey_answer")
