"""Roster (花名册) import: validate the whole file, then upsert it in place.

The file format lives in ``models.roster_file``, row validation in
``models.roster_rows`` and the writing in ``models.roster_apply``; this module
is the service the CLI (and the demo seed) calls.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.directory import School, SchoolClass, Staff
from models.pairing import balance_responsibility
from models.roster_apply import ENTITIES, Applier
from models.roster_file import RosterFile, RosterFileError, RosterLimits, read_roster, write_template
from models.roster_rows import Known, check_roster, normalize_phone

__all__ = ["ImportReport", "RosterError", "RosterLimits", "import_roster", "import_rows", "normalize_phone", "read_roster",
           "write_template"]

_LABELS = {"created": "新建", "updated": "更新", "unchanged": "未变", "left": "离校/停用"}


# The refusal lists at most this many problems (a broken export can have a million).
MAX_LISTED = 200


class RosterError(Exception):
    """The roster was refused; ``problems`` lists every bad row, nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        head = f"花名册有 {len(problems)} 处错误，未导入任何数据。请修改后重新导入：" if len(problems) > 1 or (
            problems and "行" in problems[0]) else "花名册无法导入："
        shown = problems[:MAX_LISTED]
        more = [f"……另有 {len(problems) - MAX_LISTED} 处错误未列出。"] if len(problems) > MAX_LISTED else []
        super().__init__("\n".join([head, *shown, *more]))


@dataclasses.dataclass
class ImportReport:
    """What an import did, per kind of record, plus warnings for the operator."""

    counts: dict[str, Counter[str]]
    warnings: list[str]
    paired: int = 0

    def summary(self) -> str:
        """Return the Chinese summary printed after an import."""
        lines = ["花名册导入完成："]
        for entity in ENTITIES:
            counter = self.counts.get(entity, Counter())
            parts = [f"{_LABELS[k]} {counter[k]}" for k in _LABELS if counter[k]]
            lines.append(f"· {entity}：{'，'.join(parts) if parts else '无'}")
        if self.paired:
            lines.append(f"· 自动分配包靠教师：{self.paired} 名学生")
        if self.warnings:
            lines.append(f"提醒（{len(self.warnings)}）：")
            lines += [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)


def import_roster(session: Session, path: Path | str, now: dt.datetime,
                  limits: RosterLimits | None = None, only_school: str | None = None) -> ImportReport:
    """Import a roster file (.xlsx or .csv in UTF-8/GBK).

    Every row is validated first; if any is bad, ``RosterError`` lists them
    all (sheet and row number as the user sees them) and nothing is written.
    Otherwise schools, staff, classes, students and guardians are upserted in
    place and students missing from the file are marked as left. With
    ``only_school`` (a school's own upload from the web console) a row of any
    other school is a bad row.

    Raises:
        RosterError: the file cannot be read or has bad rows.
    """
    try:
        raw = read_roster(path, limits)
    except RosterFileError as exc:
        raise RosterError([str(exc)]) from exc
    return import_rows(session, raw, now, only_school)


def import_rows(session: Session, raw: RosterFile, now: dt.datetime, only_school: str | None = None) -> ImportReport:
    """Validate and import already-read roster rows (see ``import_roster``)."""
    plan = check_roster(raw, _known(session))
    if only_school is not None:
        plan.errors += [f"「{row.sheet}」表第 {row.row} 行：学校「{row.cells['学校']}」不是本校（{only_school}），"
                        "只能导入本校花名册" for row in (*raw.staff, *raw.students)
                        if row.cells.get("学校") and row.cells["学校"] != only_school]
    if plan.errors:
        raise RosterError(plan.errors)
    applier = Applier(session, plan, now)
    classes = applier.run()
    paired = sum(balance_responsibility(session, cls) for cls in classes)
    return ImportReport(applier.counts, applier.warnings, paired)


def _known(session: Session) -> Known:
    known = Known()
    schools = {s.id: s.name for s in session.scalars(select(School))}
    known.schools = set(schools.values())
    for cls in session.scalars(select(SchoolClass)):
        known.class_grades[(schools[cls.school_id], cls.name)] = cls.grade
    for staff in session.scalars(select(Staff).where(Staff.phone.is_not(None))):
        known.staff_with_phone.add((schools[staff.school_id], staff.name))
    return known
