"""The web console's school pages: 家访 coverage, 通知 drafting and figures, 测评 results, 花名册 upload.

Thin compositions of the services chat uses (``models.visits``,
``models.notices``/``notice_acks``, ``models.survey_results``,
``models.roster``), narrowed to what the viewer may see: leaders their
school, head teachers their classes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.settings import Settings
from config.texts import refusal_text
from models import media, notices, scope, visits
from models.directory import Staff, Student
from models.media_safety import MediaRefused, check
from models.notice_acks import ClassStat, notice_stats
from models.roster import ImportReport, RosterLimits, import_roster
from models.survey_results import SurveyResults, compute_results
from models.surveys import Survey


def class_names_for(session: Session, staff: Staff) -> set[str] | None:
    """Return the class names a head teacher heads (None for leaders: the whole school)."""
    if staff.is_leader:
        return None
    ids = scope.headed_class_ids(session, staff.id)
    return {c.name for c in scope.school_classes(session, staff.school_id) if c.id in ids}


def coverage(session: Session, staff: Staff, now: dt.datetime, tz: str) -> list[visits.ClassCoverage]:
    """Return this month's visit coverage of the classes the viewer may see, lowest first."""
    rows = visits.coverage_by_class(session, staff.school_id, now=now, tz=ZoneInfo(tz))
    mine = class_names_for(session, staff)
    return [c for c in rows if mine is None or c.class_name in mine]


@dataclasses.dataclass(frozen=True)
class TeacherCoverage:
    """A 包靠 teacher's families and how many were contacted this month."""

    name: str
    students: int
    contacted: int

    @property
    def rate(self) -> float:
        """Return the contacted share (0–1)."""
        return self.contacted / self.students if self.students else 1.0


@dataclasses.dataclass(frozen=True)
class VisitsView:
    """Everything the 家访 page shows."""

    classes: list[visits.ClassCoverage]
    teachers: list[TeacherCoverage]
    due: list[visits.DueStudent]
    log: list[visits.Visit]


def visits_view(session: Session, staff: Staff, now: dt.datetime, settings: Settings, start: dt.datetime,
                end: dt.datetime) -> VisitsView:
    """Return coverage by class and by 包靠 teacher, the families due (special care first) and the log of a range."""
    tz = settings.app.timezone
    mine = class_names_for(session, staff)
    due_all = visits.due_students(session, now=now, tz=ZoneInfo(tz), care_days=settings.scheduler.care_visit_days,
                                  school_id=staff.school_id)
    due = [d for d in due_all if mine is None or d.class_name in mine]
    log = [v for v in visits.visits_between(session, staff.school_id, start, end)
           if mine is None or v.student.school_class.name in mine]
    return VisitsView(coverage(session, staff, now, tz), _teachers(session, staff, due_all, mine), due, log)


def _teachers(session: Session, staff: Staff, due: list[visits.DueStudent], mine: set[str] | None
              ) -> list[TeacherCoverage]:
    """Return coverage per 包靠 teacher (from the due list: a teacher's families minus those still due)."""
    from models.directory import SchoolClass

    totals = session.execute(
        select(Staff.name, Staff.id, SchoolClass.name, func.count(Student.id))
        .join(Student, Student.responsible_staff_id == Staff.id).join(SchoolClass, Student.class_id == SchoolClass.id)
        .where(Student.school_id == staff.school_id, Student.active.is_(True))
        .group_by(Staff.id, Staff.name, SchoolClass.name)).all()
    students: Counter[tuple[str, int]] = Counter()
    for name, staff_id, class_name, n in totals:
        if mine is None or class_name in mine:
            students[(name, staff_id)] += n
    pending = Counter(d.staff_id for d in due if mine is None or d.class_name in mine)
    rows = [TeacherCoverage(name, n, n - pending[staff_id]) for (name, staff_id), n in students.items()]
    return sorted(rows, key=lambda r: (r.rate, r.name))


def sent_notices(session: Session, staff: Staff, limit: int = 30) -> list[tuple[notices.Notice, list[ClassStat]]]:
    """Return the notices sent or scheduled that the viewer may follow, newest first, with their class figures.

    Leaders follow every notice of the school; head teachers their own notices and,
    of the others, only their classes (the rule of 通知统计).
    """
    rows = session.scalars(select(notices.Notice).where(
        notices.Notice.school_id == staff.school_id,
        notices.Notice.status.in_([notices.NoticeStatus.SENT, notices.NoticeStatus.SCHEDULED]))
        .order_by(notices.Notice.id.desc()).limit(limit * 4 if not staff.is_leader else limit))
    result = []
    for notice in rows:
        stats = notice_stats_for(session, staff, notice)
        if stats is not None:
            result.append((notice, stats))
    return result[:limit]


def notice_stats_for(session: Session, staff: Staff, notice: notices.Notice) -> list[ClassStat] | None:
    """Return a notice's per-class figures the viewer may see (None: not theirs to follow)."""
    if notice.school_id != staff.school_id or notice.status in (notices.NoticeStatus.DRAFT,
                                                                notices.NoticeStatus.CANCELLED):
        return None
    stats = notice_stats(session, notice)
    if staff.is_leader or notice.author_id == staff.id:
        return stats
    own = set(scope.headed_class_ids(session, staff.id))
    return [s for s in stats if s.class_id in own] or None


def draft(session: Session, staff: Staff, scope_text: str, text: str, important: bool,
          when: dt.datetime | None, now: dt.datetime, upload: tuple[str, bytes] | None = None,
          settings: Settings | None = None) -> tuple[notices.Notice, notices.Reach]:
    """Draft a notice with the chat's scope parser and rule; return it and who it would reach.

    ``upload`` (file name, bytes) is checked and stored like a picture sent in chat and goes out
    with the notice (``settings`` is needed then).

    Raises:
        scope.ScopeError: the scope names no class of the school, or (``ScopeForbidden``) a class a head
            teacher does not head (message in Chinese).
        ValueError: empty text, a time in the past or a refused file (message in Chinese).
    """
    parsed = scope.sender_scope(session, staff, scope_text)
    if not text.strip():
        raise ValueError("请填写通知内容。")
    if when is not None and when <= now:
        raise ValueError("定时时间已过，请填写将来的时间。")
    attachment = _stored_upload(session, staff, upload, settings, now) if upload and upload[1] else None
    notice = notices.draft_notice(session, school_id=staff.school_id, author=staff, scope=parsed, text=text.strip(),
                                  important=important, scheduled_for=when, now=now)
    if attachment is not None:
        media.attach_to_notice(session, [attachment], notice.id, now)
    return notice, notices.reach(session, notice.class_ids)


def _stored_upload(session: Session, staff: Staff, upload: tuple[str, bytes], settings: Settings | None,
                   now: dt.datetime) -> media.Attachment:
    """Check and store a compose-page upload; a refusal is a ValueError with the chat's Chinese answer."""
    assert settings is not None, "an upload needs the settings (limits, store)"
    name, data = upload
    try:
        checked = check(data, media.limits(settings))
        return media.save(session, settings, checked, school_id=staff.school_id, now=now, name=name,
                          staff_id=staff.id)
    except MediaRefused as exc:
        raise ValueError(refusal_text(exc.reason, settings.media.max_bytes)) from exc


def own_draft(session: Session, staff: Staff, notice_id: int) -> notices.Notice | None:
    """Return the viewer's own draft notice."""
    notice = notices.get_notice(session, notice_id, staff.school_id)
    ok = notice is not None and notice.author_id == staff.id and notice.status == notices.NoticeStatus.DRAFT
    return notice if ok else None


def surveys_of(session: Session, staff: Staff) -> list[Survey]:
    """Return the surveys the viewer may see, newest first (teachers: those covering a class they teach)."""
    rows = session.scalars(select(Survey).where(Survey.school_id == staff.school_id).order_by(Survey.id.desc()))
    return [s for s in rows if _own_classes(session, staff, s) != set()]


def _own_classes(session: Session, staff: Staff, survey: Survey) -> set[int] | None:
    """Return the survey's classes a teacher teaches (None for leaders: everything)."""
    if staff.is_leader:
        return None
    return set(scope.teaching_class_ids(session, staff.id)) & set(survey.class_ids)


def survey_results(session: Session, staff: Staff, survey_id: int, settings: Settings
                   ) -> tuple[SurveyResults, int, set[int] | None] | None:
    """Return a survey's results, the fewest responses a group needs to be shown, and the viewer's classes.

    Leaders see the school, grades and classes (``None`` for the classes); teachers
    only the aggregates of the classes they teach (the rule of 测评结果). The principal
    sees every breakdown; others see a group only with at least
    ``surveys.min_breakdown`` responses (测评结果 and the export do the same).
    """
    survey = session.get(Survey, survey_id)
    if survey is None or survey.school_id != staff.school_id:
        return None
    own = _own_classes(session, staff, survey)
    if own == set():
        return None
    return compute_results(session, survey), min_breakdown(staff, settings), own


def min_breakdown(staff: Staff, settings: Settings) -> int:
    """Return the fewest responses a survey group needs before ``staff`` sees its figures (principal: 0)."""
    return 0 if staff.role == "principal" else settings.surveys.min_breakdown


def upload_roster(session: Session, staff: Staff, path: Path, settings: Settings, now: dt.datetime) -> ImportReport:
    """Import a roster file for the viewer's own school; every bad row refuses the whole file.

    Raises:
        models.roster.RosterError: the rows that are wrong, nothing imported.
    """
    limits = RosterLimits(**dataclasses.asdict(settings.roster))
    return import_roster(session, path, now, limits, only_school=staff.school.name)
