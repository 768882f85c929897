"""A school's contacts directory (家校通讯录) applied like a roster import, plus the identities it proves.

The platform adapter reads classes, students and parents into the neutral
``Directory`` below; ``sync_directory`` turns it into roster rows and runs
``models.roster.import_rows`` on them, so a directory gets exactly the
roster's validation, report and "left" marking (students missing from the
directory are marked left, never deleted). Then every parent the directory
lists gets an identity on the school-notice platform (their parent user id),
bound to their children's guardian–student pairs, and — where the directory
gives it — their WeChat external user id is bound the same way, so the
parent is recognised when writing through 微信客服 without a binding command.
Bindings made here carry ``method = "contacts"`` and are the only ones a
later sync removes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.directory import Guardian, Guardianship, School, SchoolClass, Student
from models.identity import Identity, IdentityBinding
from models.roster import ImportReport, RosterError, import_rows
from models.roster_file import RawRow, RosterFile
from models.roster_rows import RELATION_ALIASES, RELATIONS, normalize_phone

SHEET = "家校通讯录"
METHOD = "contacts"
_ROW_REF = re.compile(r"「" + SHEET + r"」表第 (\d+) 行")
_OTHER_ROW = re.compile(r"第 (\d+) 行")


@dataclasses.dataclass(frozen=True)
class DirectoryParent:
    """A parent as the directory lists them under one student."""

    parent_id: str
    relation: str
    mobile: str
    external_id: str = ""  # their WeChat external user id, when the directory gives it


@dataclasses.dataclass(frozen=True)
class DirectoryStudent:
    """A student with the class they are in and their parents."""

    student_id: str
    name: str
    class_name: str
    grade: str
    parents: tuple[DirectoryParent, ...]


@dataclasses.dataclass
class Directory:
    """What was read from the platform, plus what could not be used (warnings)."""

    students: list[DirectoryStudent] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class SyncReport:
    """The roster import's report plus the identities the directory proved."""

    roster: ImportReport
    parents_linked: int = 0
    bindings_added: int = 0
    bindings_removed: int = 0
    external_linked: int = 0

    def summary(self) -> str:
        """Return the Chinese summary printed after a sync."""
        lines = self.roster.summary().splitlines()
        lines[0] = "家校通讯录同步完成："
        lines.insert(len(lines) - (len(self.roster.warnings) + 1 if self.roster.warnings else 0),
                     f"· 家长免绑定：{self.parents_linked} 位家长（新增绑定 {self.bindings_added}，解除 "
                     f"{self.bindings_removed}），其中 {self.external_linked} 位已关联微信客服")
        return "\n".join(lines)


def parent_names(directory: Directory, known: dict[tuple[str, str, str], str] | None = None) -> dict[str, str]:
    """Name each parent: as the school already knows them, else after their first child, e.g. 「张三妈妈」.

    The directory has no parent names. A guardian already on file for one of
    the parent's children with the same phone keeps their name (``known``:
    (class, student, phone) → name), so a roster imported before keeps its
    guardians, their bindings and history. Otherwise the first child (smallest
    student id) and the relation name them, the same on every sync, so one
    parent of two children stays one guardian.
    """
    known = known or {}
    firsts: dict[str, tuple[str, str, str]] = {}
    found: dict[str, str] = {}
    for student in sorted(directory.students, key=lambda s: s.student_id):
        for parent in student.parents:
            name = known.get((student.class_name, student.name, normalize_phone(parent.mobile) or ""))
            if name and parent.parent_id not in found:
                found[parent.parent_id] = name
            candidate = (student.student_id, student.name, relation_of(parent.relation))
            if parent.parent_id not in firsts or candidate < firsts[parent.parent_id]:
                firsts[parent.parent_id] = candidate
    return {pid: found.get(pid) or f"{name}{relation}" for pid, (_, name, relation) in firsts.items()}


def known_guardians(session: Session, school_id: int) -> dict[tuple[str, str, str], str]:
    """Return (class, student, phone) → guardian name for the school's current guardian–student pairs."""
    rows = session.execute(
        select(SchoolClass.name, Student.name, Guardian.phone, Guardian.name)
        .join(Student, Student.class_id == SchoolClass.id)
        .join(Guardianship, Guardianship.student_id == Student.id)
        .join(Guardian, Guardian.id == Guardianship.guardian_id)
        .where(Student.school_id == school_id)
    ).all()
    return {(c, s, phone): name for c, s, phone, name in rows}


def relation_of(text: str) -> str:
    """Map the directory's free-text relation to the roster's (anything else: 家长)."""
    relation = RELATION_ALIASES.get(text.strip(), text.strip())
    return relation if relation in RELATIONS else "家长"


def known_care(session: Session, school_id: int) -> dict[tuple[str, str], str]:
    """Return (class, student) → the 特殊关爱 cell of the school's active students (the directory has none)."""
    students = session.scalars(select(Student).where(Student.school_id == school_id, Student.active.is_(True))).all()
    return {(st.school_class.name, st.name): "、".join(st.care_names) for st in students if st.care_flags}


def roster_rows(school_name: str, directory: Directory, names: dict[str, str],
                care: dict[tuple[str, str], str] | None = None) -> tuple[RosterFile, dict[int, str]]:
    """Return the directory as roster rows and, per row number, how to name that row in an error.

    ``care`` carries the 特殊关爱 flags the school set (the directory has no such field), so a sync
    keeps them instead of clearing them as a roster without that column would.
    """
    care = care or {}
    rows: list[RawRow] = []
    where: dict[int, str] = {}
    for student in sorted(directory.students, key=lambda s: (s.class_name, s.name, s.student_id)):
        for parent in student.parents:
            number = len(rows) + 1
            rows.append(RawRow(SHEET, number, {
                "学校": school_name, "班级": student.class_name, "年级": student.grade, "学生姓名": student.name,
                "家长姓名": names[parent.parent_id], "关系": relation_of(parent.relation), "手机号": parent.mobile,
                "特殊关爱": care.get((student.class_name, student.name), ""),
            }))
            where[number] = f"{student.class_name}「{student.name}」的家长 {parent.parent_id}"
    return RosterFile(students=rows), where


def _relation_notes(directory: Directory) -> list[str]:
    """Name every relation the roster does not know (imported as 家长)."""
    return [f"{s.class_name}「{s.name}」的家长 {p.parent_id} 关系「{p.relation}」不在可选值中，按「家长」导入"
            for s in directory.students for p in s.parents
            if relation_of(p.relation) == "家长" and p.relation.strip() not in ("家长", "")]


def _readable(problems: list[str], where: dict[int, str]) -> list[str]:
    """Name the directory entry instead of a row number the school never saw."""
    def one(problem: str) -> str:
        problem = _ROW_REF.sub(lambda m: f"家校通讯录中{where.get(int(m.group(1)), '')}", problem)
        return _OTHER_ROW.sub(lambda m: where.get(int(m.group(1)), m.group(0)), problem)

    return [one(p) for p in problems]


def sync_directory(session: Session, school: School, directory: Directory, now: dt.datetime, *,
                   parent_platform: str, external_platform: str | None) -> SyncReport:
    """Apply a directory to a school like a roster import and bind its parents' identities.

    Args:
        parent_platform: the identity platform of the directory's parent ids
            (the school-notice channel).
        external_platform: the identity platform of the parents' external ids
            (微信客服), or None when the school has none configured.

    Raises:
        RosterError: the directory has no students, or entries the roster refuses;
            nothing is written.
    """
    if not directory.students:
        raise RosterError(["家校通讯录中没有读到任何学生（应用是否有读取家校通讯录的权限？）：未做任何修改"])
    names = parent_names(directory, known_guardians(session, school.id))
    raw, where = roster_rows(school.name, directory, names, known_care(session, school.id))
    try:
        report = import_rows(session, raw, now)
    except RosterError as exc:
        raise RosterError(_readable(exc.problems, where)) from exc
    report.warnings[:0] = directory.warnings + _relation_notes(directory)
    result = SyncReport(report)
    parents: dict[str, DirectoryParent] = {}
    for student in directory.students:
        for parent in student.parents:
            parents.setdefault(parent.parent_id, parent)
    for parent_id, parent in sorted(parents.items()):
        guardian = _guardian(session, school.id, names[parent_id], parent.mobile)
        if guardian is None:
            continue
        wanted = {gs.id for gs in guardian.guardianships if gs.student.active}
        result.parents_linked += 1
        _bind(session, result, _identity(session, parent_platform, school.id, parent_id, guardian.name, now), wanted, now)
        if external_platform and parent.external_id:
            result.external_linked += 1
            _bind(session, result, _identity(session, external_platform, school.id, parent.external_id, None, now),
                  wanted, now)
    session.flush()
    return result


def _guardian(session: Session, school_id: int, name: str, mobile: str) -> Guardian | None:
    phone = normalize_phone(mobile)
    return session.scalar(select(Guardian).where(
        Guardian.school_id == school_id, Guardian.name == name, Guardian.phone == phone)) if phone else None


def _identity(session: Session, platform: str, school_id: int, external_id: str, name: str | None,
              now: dt.datetime) -> Identity:
    identity = session.scalar(select(Identity).where(
        Identity.platform == platform, Identity.school_id == school_id, Identity.external_id == external_id))
    if identity is None:
        identity = Identity(platform=platform, school_id=school_id, external_id=external_id, display_name=name,
                            created_at=now)
        session.add(identity)
        session.flush()
    return identity


def _bind(session: Session, result: SyncReport, identity: Identity, wanted: set[int], now: dt.datetime) -> None:
    """Add the wanted bindings; remove only what an earlier sync added and the directory no longer says."""
    have = {b.guardianship_id: b for b in identity.bindings}
    for gs_id in sorted(wanted - set(have)):
        identity.bindings.append(IdentityBinding(guardianship_id=gs_id, bound_at=now, method=METHOD))
        result.bindings_added += 1
    for gs_id, binding in have.items():
        if gs_id not in wanted and binding.method == METHOD:
            identity.bindings.remove(binding)
            result.bindings_removed += 1
