"""满意度测评: the bureau's six-indicator parent satisfaction survey.

One response per family (keyed on the student: whichever bound guardian
answers, the household has one voice, as the bureau counts households), with
an answer 1 满意 / 2 基本满意 / 3 不满意 / 4 不了解 for each indicator and an
optional comment. Answers may be changed until the deadline, through the web
form or in chat; both save through :func:`save_answers`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from config.settings import Settings
from models import links, outbox, people
from models.base import Base, utcnow
from models.directory import Staff, Student
from models.notices import target_students
from models.scope import Scope

INDICATORS: tuple[tuple[str, str], ...] = (
    ("overall", "整体办学水平"),
    ("ethics", "师德表现"),
    ("teaching", "教学工作"),
    ("workload", "学生课业负担"),
    ("conditions", "学习生活条件及服务"),
    ("safety", "校园安全环境"),
)
INDICATOR_CODES = tuple(code for code, _ in INDICATORS)
INDICATOR_NAMES = dict(INDICATORS)
OPTIONS = {1: "满意", 2: "基本满意", 3: "不满意", 4: "不了解"}
OPTION_BY_NAME = {name: value for value, name in OPTIONS.items()}


class SurveyError(ValueError):
    """An answer the survey refuses (closed, not a target family, bad value); message in Chinese."""


class Survey(Base):
    """One round of the satisfaction survey for some classes."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    scope_label: Mapped[str] = mapped_column(String(200))
    class_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    deadline: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    author: Mapped[Staff] = relationship()

    def is_open(self, now: dt.datetime) -> bool:
        """Return whether answers are still accepted."""
        return now <= self.deadline


class SurveyResponse(Base):
    """One family's answers to one survey (partial until all six are answered)."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("survey_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), index=True)
    answers: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)
    comment_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    via: Mapped[str] = mapped_column(String(10), default="web")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[dt.datetime | None]

    @property
    def complete(self) -> bool:
        """Return whether every indicator is answered."""
        return all(code in self.answers for code in INDICATOR_CODES)


def survey_url(settings: Settings, survey: Survey, student_id: int) -> str:
    """Return a family's personal form link (opens read-only for a while after the deadline)."""
    expires = survey.deadline + dt.timedelta(days=settings.surveys.link_grace_days)
    token = links.make_token(settings.app.secret_key, "survey", {"v": survey.id, "s": student_id}, expires)
    return links.absolute_url(settings.app.base_url, "s", token)


def launch_survey(session: Session, *, author: Staff, scope: Scope, deadline: dt.datetime, settings: Settings,
                  now: dt.datetime) -> tuple[Survey, int]:
    """Create a survey and send every bound guardian of the target classes their form link.

    Returns:
        The survey and the number of messages queued.
    """
    survey = Survey(school_id=author.school_id, author_id=author.id, scope_label=scope.label,
                    class_ids=list(scope.class_ids), deadline=deadline, created_at=now)
    session.add(survey)
    session.flush()
    queued = 0
    for student in target_students(session, survey.class_ids):
        url = survey_url(settings, survey, student.id)
        for guardianship, recipient in people.guardian_recipients(session, student):
            text = (f"{guardianship.display_name}您好：学校开展家长满意度测评（共 6 题，约 1 分钟），"
                    f"请就{student.name}所在学校的情况作答：\n{url}\n"
                    f"也可以回复「测评」在聊天中逐题作答。截止前可修改答案。")
            row = outbox.enqueue(session, recipient, text, now=now, title="满意度测评", ref=f"survey:{survey.id}",
                                 dedupe_key=f"survey:{survey.id}:{student.id}:{recipient.identity_id}")
            queued += row is not None
    return survey, queued


def get_survey(session: Session, survey_id: int, school_id: int | None = None) -> Survey | None:
    """Return a survey (of the given school)."""
    survey = session.get(Survey, survey_id)
    if survey is None or (school_id is not None and survey.school_id != school_id):
        return None
    return survey


def open_surveys_for(session: Session, student: Student, now: dt.datetime) -> list[Survey]:
    """Return the open surveys that include the student's class, newest first."""
    rows = session.scalars(select(Survey).where(
        Survey.school_id == student.school_id, Survey.deadline >= now).order_by(Survey.id.desc())).all()
    return [s for s in rows if student.class_id in s.class_ids]


def get_response(session: Session, survey_id: int, student_id: int) -> SurveyResponse | None:
    """Return the family's response, if any."""
    return session.scalar(select(SurveyResponse).where(
        SurveyResponse.survey_id == survey_id, SurveyResponse.student_id == student_id))


def save_answers(session: Session, survey: Survey, student: Student, answers: dict[str, int], *,
                 comment: str | None = None, via: str, now: dt.datetime) -> SurveyResponse:
    """Record (or change) some of a family's answers.

    Args:
        answers: indicator code → option 1–4; indicators not given keep their answer.
        comment: new comment text; None keeps the old one, "" clears it.
        via: ``web`` or ``chat``.

    Raises:
        SurveyError: when the survey is closed, the family is not surveyed, or a value is wrong.
    """
    if not survey.is_open(now):
        raise SurveyError("测评已截止，不能再修改答案。")
    if student.class_id not in survey.class_ids or not student.active:
        raise SurveyError("您的孩子不在本次测评范围内。")
    for code, value in answers.items():
        if code not in INDICATOR_NAMES or value not in OPTIONS:
            raise SurveyError("答案无效，请选择 1 满意、2 基本满意、3 不满意、4 不了解。")
    response = get_response(session, survey.id, student.id)
    if response is None:
        response = SurveyResponse(survey_id=survey.id, student_id=student.id, class_id=student.class_id,
                                  answers={}, created_at=now)
        try:
            with session.begin_nested():
                session.add(response)
        except IntegrityError:  # the other parent answered at the same moment
            response = get_response(session, survey.id, student.id)
            assert response is not None
    response.answers = {**response.answers, **answers}  # a new dict, so the JSON change is saved
    if comment is not None:
        response.comment = comment.strip() or None
    response.via, response.updated_at = via, now
    if response.complete and response.completed_at is None:
        response.completed_at = now
    session.flush()
    return response


def parse_option(text: str) -> int | None:
    """Read one answer: ``1``–``4`` or the option's name (满意, 基本满意 …)."""
    text = text.strip().strip("。.!！")
    if text in ("1", "2", "3", "4"):
        return int(text)
    return OPTION_BY_NAME.get(text)


def family_form(session: Session, survey_id: int, student_id: int,
                ) -> tuple[Survey, Student, SurveyResponse | None] | None:
    """Return what a family's form shows: the survey, the student, their current answers."""
    survey = session.get(Survey, survey_id)
    student = session.get(Student, student_id)
    if survey is None or student is None or student.class_id not in survey.class_ids:
        return None
    return survey, student, get_response(session, survey.id, student.id)


def read_form(form: dict[str, str]) -> tuple[dict[str, int], list[str]]:
    """Read the web form's fields ``q_<code>`` into answers; return them and the names left unanswered."""
    answers: dict[str, int] = {}
    for code in INDICATOR_CODES:
        value = parse_option(form.get(f"q_{code}", ""))
        if value is not None:
            answers[code] = value
    return answers, [INDICATOR_NAMES[c] for c in INDICATOR_CODES if c not in answers]
