"""Survey results with the bureau's formula.

满意率 = (满意 + 基本满意) / (满意 + 基本满意 + 不满意); 不了解 is left out of
both sides. Only complete responses (all six indicators answered) count. A
class's, grade's or school's overall rate pools every answer to every
indicator. The response rate is complete responses over target families.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.class_order import sort_classes
from models.directory import SchoolClass
from models.notices import target_students
from models.surveys import INDICATOR_CODES, Survey, SurveyResponse


@dataclasses.dataclass(frozen=True)
class Tally:
    """Counts of the four options."""

    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    unknown: int = 0

    @property
    def rate(self) -> float | None:
        """Return the bureau's satisfaction rate, or None when nobody gave an opinion."""
        opinions = self.satisfied + self.basic + self.unsatisfied
        return (self.satisfied + self.basic) / opinions if opinions else None

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.satisfied + other.satisfied, self.basic + other.basic,
                     self.unsatisfied + other.unsatisfied, self.unknown + other.unknown)


def tally(responses: Iterable[SurveyResponse], codes: Iterable[str] = INDICATOR_CODES) -> Tally:
    """Count the answers of the given indicators."""
    counts = [0, 0, 0, 0]
    codes = tuple(codes)
    for response in responses:
        for code in codes:
            value = response.answers.get(code)
            if value in (1, 2, 3, 4):
                counts[value - 1] += 1
    return Tally(*counts)


@dataclasses.dataclass(frozen=True)
class GroupResult:
    """Results of a class, a grade or the whole school."""

    name: str
    families: int
    responded: int
    indicators: dict[str, Tally]
    overall: Tally

    @property
    def response_rate(self) -> float | None:
        """Return complete responses over target families."""
        return self.responded / self.families if self.families else None


@dataclasses.dataclass(frozen=True)
class SurveyResults:
    """Everything ``测评结果`` and the export show."""

    survey: Survey
    school: GroupResult
    grades: list[GroupResult]
    classes: list[tuple[int, GroupResult]]  # (class id, result), roster order
    previous: SurveyResults | None = None

    @property
    def ranking(self) -> list[tuple[int, GroupResult]]:
        """Return classes best first by overall rate (classes with no opinions last; ties in grade order)."""
        return sorted(self.classes, key=lambda item: (item[1].overall.rate is None, -(item[1].overall.rate or 0)))


def _group(name: str, families: int, responses: list[SurveyResponse]) -> GroupResult:
    indicators = {code: tally(responses, (code,)) for code in INDICATOR_CODES}
    return GroupResult(name, families, len(responses), indicators, tally(responses))


def compute_results(session: Session, survey: Survey, with_previous: bool = True) -> SurveyResults:
    """Compute the results of a survey (and of the school's previous survey, for comparison)."""
    responses = [r for r in session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey.id))
                 if r.complete]
    students = target_students(session, survey.class_ids)
    classes = sort_classes(session.scalars(select(SchoolClass).where(SchoolClass.id.in_(survey.class_ids))))
    per_class = []
    for school_class in classes:
        mine = [r for r in responses if r.class_id == school_class.id]
        families = sum(s.class_id == school_class.id for s in students)
        per_class.append((school_class.id, _group(school_class.name, families, mine)))
    grades = []
    for grade in dict.fromkeys(c.grade for c in classes):
        ids = {c.id for c in classes if c.grade == grade}
        grades.append(_group(grade, sum(s.class_id in ids for s in students),
                             [r for r in responses if r.class_id in ids]))
    school = _group("全校", len(students), responses)
    previous = None
    if with_previous:
        before = previous_survey(session, survey)
        previous = compute_results(session, before, with_previous=False) if before is not None else None
    return SurveyResults(survey, school, grades, per_class, previous)


def previous_survey(session: Session, survey: Survey) -> Survey | None:
    """Return the school's survey before this one."""
    return session.scalar(select(Survey).where(Survey.school_id == survey.school_id, Survey.id < survey.id)
                          .order_by(Survey.id.desc()).limit(1))


def too_few(group: GroupResult, min_responses: int) -> bool:
    """Return whether a group has too few responses to show its breakdown without revealing answers."""
    return group.responded < min_responses


def hidden_note(min_responses: int) -> str:
    """Return why a breakdown is not shown."""
    return f"不足 {min_responses} 份，为保护家长匿名不显示明细"


def percent(value: float | None) -> str:
    """Format a rate as ``95.2%`` (``—`` when undefined)."""
    return "—" if value is None else f"{value * 100:.1f}%"


def digest_lines(session: Session, school_id: int, now: dt.datetime, tz: str,
                 min_responses: int = 0) -> list[str]:
    """Return one line per open survey for the daily digest (no rate below ``min_responses`` responses)."""
    lines = []
    open_surveys = session.scalars(select(Survey).where(Survey.school_id == school_id, Survey.deadline >= now,
                                                        Survey.created_at <= now)
                                   .order_by(Survey.id)).all()
    for survey in open_surveys:
        result = compute_results(session, survey, with_previous=False).school
        deadline = survey.deadline.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M")
        rate = hidden_note(min_responses) if too_few(result, min_responses) else \
            f"满意率 {percent(result.overall.rate)}"
        lines.append(f"满意度测评 {survey.id}（截止 {deadline}）：已回收 {result.responded}/{result.families} 户"
                     f"（{percent(result.response_rate)}），{rate}")
    return lines
