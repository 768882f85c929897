"""Excel exports (台账) to a file, and expiring download links for directors.

``write_export`` builds one workbook (``ledger``, ``visits``, ``care``,
``survey``) for the operator CLI and for chat. ``create_download`` writes the
file under the instance folder and records who asked; its link is signed for
that staff member and that file only, works once (a page with a download
button, so link previews do not use it up) and expires after
``exports.link_ttl_minutes`` (see docs/exports.md for the threat model).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from config.settings import Settings
from models import export_sheets, links
from models.base import Base, utcnow
from models.directory import School, Staff
from models.sheet_safety import save_workbook
from models.surveys import Survey

KINDS = {"ledger": "问题整改台账", "visits": "入户访问登记表", "care": "特殊关爱清单", "survey": "满意度测评结果",
         "reception": "来访接待登记表", "referral": "属地转办单", "open_day": "开放日签到及反馈表"}


class ExportError(ValueError):
    """An export that cannot be made (no survey yet …); message in Chinese."""


class ExportFile(Base):
    """A workbook written for one staff member, downloadable until it expires."""

    __tablename__ = "export_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    downloads: Mapped[int] = mapped_column(default=0)

    @property
    def download_name(self) -> str:
        """Return the Chinese file name the browser saves."""
        return f"{({**KINDS, 'weekly': '周调度'}).get(self.kind, self.kind)}-{self.created_at:%Y%m%d}.xlsx"


def plain_download_name(name: str) -> str:
    """Return the ASCII name for browsers that cannot read ``filename*`` (周调度-20261205.xlsx → weekly-20261205.xlsx)."""
    codes = {chinese: code for code, chinese in {**KINDS, "weekly": "周调度"}.items()}
    stem, _, rest = name.partition("-")
    return f"{codes.get(stem, 'export')}-{rest}" if rest else "export.xlsx"




def latest_survey(session: Session, school_id: int) -> Survey | None:
    """Return the school's newest survey."""
    return session.scalar(select(Survey).where(Survey.school_id == school_id).order_by(Survey.id.desc()).limit(1))


def write_export(session: Session, kind: str, school: School, path: Path, *, tz: str,
                 start: dt.datetime | None = None, end: dt.datetime | None = None,
                 survey_id: int | None = None, now: dt.datetime | None = None, min_responses: int = 0,
                 where: Sequence[Any] = (), ticket_id: int | None = None, open_day_id: int | None = None) -> int:
    """Write one ledger as an .xlsx file; return the number of data rows.

    The ledger gets a second sheet, 统计指标, with the range's figures as of
    ``now`` (``models.figures``, the definitions the digest and 周调度 use).
    ``where`` narrows the ledger's tickets (the web console's filters and scope).

    Raises:
        ExportError: for an unknown kind or a survey export without any survey.
    """
    if kind not in KINDS:
        raise ExportError(f"未知的导出类型：{kind}（可选：{'、'.join(KINDS)}）")
    from openpyxl import Workbook  # here: a web worker that never exports spares ~8 MB (numpy too if present)
    workbook = Workbook()
    ws = workbook.active
    ws.title = KINDS[kind]
    if kind == "ledger":
        count = export_sheets.ledger_sheet(ws, session, school, start, end, tz, where)
        export_sheets.figures_sheet(workbook.create_sheet("统计指标"), session, school, start, end,
                                    now or dt.datetime.now(dt.UTC), tz)
    elif kind == "visits":
        count = export_sheets.visits_sheet(ws, session, school, start, end, tz)
    elif kind == "referral":
        from models import grid, grid_notify
        from models.tickets import Ticket

        ticket = session.get(Ticket, ticket_id) if ticket_id else None
        referral = grid.referral_of(session, ticket.id) if ticket is not None else None
        if ticket is None or referral is None or ticket.school_id != school.id:
            raise ExportError("这条工单没有转属地，没有转办单。")
        count = grid_notify.sheet(ws, session, ticket, referral, tz)
    elif kind == "open_day":
        from models import open_days

        event = open_days.get(session, open_day_id or 0, school.id)
        if event is None:
            raise ExportError("没有找到这次开放日或家长课程。")
        count = export_sheets.open_day_sheet(ws, session, event, tz)
    elif kind == "reception":
        count = export_sheets.reception_sheet(ws, session, school, start, end, tz)
    elif kind == "care":
        count = export_sheets.care_sheet(ws, session, school)
    else:
        survey = session.get(Survey, survey_id) if survey_id else latest_survey(session, school.id)
        if survey is None or survey.school_id != school.id:
            raise ExportError("还没有满意度测评可导出。")
        count = export_sheets.survey_sheets(ws, session, survey, tz, min_responses)
    save_workbook(workbook, path)
    return count


def export_dir(settings: Settings) -> Path:
    """Return the folder where chat exports are written."""
    path = Path(settings.exports.directory)
    return path if path.is_absolute() else settings.instance_dir / path


def create_download(session: Session, staff: Staff, kind: str, settings: Settings, now: dt.datetime, *,
                    start: dt.datetime | None = None, end: dt.datetime | None = None,
                    survey_id: int | None = None, where: Sequence[Any] = (), ticket_id: int | None = None,
                    open_day_id: int | None = None) -> tuple[ExportFile, str]:
    """Write an export for a staff member; return its record and the expiring link."""
    filename = f"{kind}-{uuid.uuid4().hex}.xlsx"
    minimum = 0 if staff.role == "principal" else settings.surveys.min_breakdown  # survey anonymity
    write_export(session, kind, staff.school, export_dir(settings) / filename, tz=settings.app.timezone,
                 start=start, end=end, survey_id=survey_id, now=now, min_responses=minimum, where=where,
                 ticket_id=ticket_id, open_day_id=open_day_id)
    expires = now + dt.timedelta(minutes=settings.exports.link_ttl_minutes)
    record = ExportFile(school_id=staff.school_id, staff_id=staff.id, kind=kind, filename=filename,
                        created_at=now, expires_at=expires)
    session.add(record)
    session.flush()
    token = links.make_token(settings.app.secret_key, "export", {"e": record.id, "st": staff.id}, expires)
    return record, links.absolute_url(settings.app.base_url, "x", token)


def find_download(session: Session, settings: Settings, export_id: int, staff_id: int,
                  now: dt.datetime) -> ExportFile | None:
    """Return the export a link points to if it belongs to that staff member and is still valid.

    A used link still returns its record (``downloads`` > 0): the page says it was used.
    """
    record = session.get(ExportFile, export_id)
    if record is None or record.staff_id != staff_id or record.expires_at < now:
        return None
    staff = session.get(Staff, staff_id)
    if staff is None or not staff.active or not (export_dir(settings) / record.filename).is_file():
        return None
    return record


def take_download(session: Session, settings: Settings, record: ExportFile) -> tuple[Path, str] | None:
    """Use a download link once: return the file and its name, or None when it was used before.

    One conditional update, so two clicks (or a forwarded link racing its
    owner) never both get the file.
    """
    taken = session.execute(update(ExportFile).where(ExportFile.id == record.id, ExportFile.downloads == 0)
                            .values(downloads=ExportFile.downloads + 1)).rowcount
    if not taken:
        return None
    return export_dir(settings) / record.filename, record.download_name
