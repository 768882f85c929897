"""Roster validation: every row checked, every problem named, before anything is written."""

from __future__ import annotations

import dataclasses
import re

from models.directory import CARE_FLAG_BY_NAME, Role, SchoolKind
from models.roster_file import RawRow, RosterFile

RELATIONS = ("妈妈", "爸爸", "爷爷", "奶奶", "外公", "外婆", "姥姥", "姥爷", "哥哥", "姐姐", "监护人", "家长")
RELATION_ALIASES = {
    "母亲": "妈妈", "妈": "妈妈", "母": "妈妈", "父亲": "爸爸", "爸": "爸爸", "父": "爸爸",
    "祖父": "爷爷", "祖母": "奶奶", "外祖父": "外公", "外祖母": "外婆", "其他": "监护人", "其他监护人": "监护人",
}
ROLE_BY_NAME = {
    "班主任": Role.HEAD_TEACHER, "任课教师": Role.TEACHER, "任课老师": Role.TEACHER, "教师": Role.TEACHER,
    "老师": Role.TEACHER, "配班教师": Role.TEACHER, "保育员": Role.TEACHER, "主任": Role.DIRECTOR,
    "校长": Role.PRINCIPAL, "副校长": Role.DIRECTOR, "园长": Role.PRINCIPAL, "副园长": Role.DIRECTOR,
    "书记": Role.PRINCIPAL, "管理员": Role.ADMIN,
}
KIND_BY_NAME = {"幼儿园": SchoolKind.KINDERGARTEN, "小学": SchoolKind.PRIMARY, "初中": SchoolKind.JUNIOR,
                "中学": SchoolKind.JUNIOR}
GENDERS = {"男": "男", "女": "女", "男生": "男", "女生": "女", "M": "男", "F": "女"}
_PHONE = re.compile(r"1[3-9]\d{9}")
_PHONE_JUNK = re.compile(r"[\s\-‐‑–—()（）.]")
_LIST_SPLIT = re.compile(r"[、,，;；/\s]+")


def normalize_phone(text: str) -> str | None:
    """Return the 11-digit mainland mobile number in ``text``, or None if it is not one.

    Spaces, dashes, brackets and a ``+86`` / ``0086`` prefix are tolerated.
    """
    digits = _PHONE_JUNK.sub("", text or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == 11 + len(prefix):
            digits = digits[len(prefix) :]
            break
    return digits if _PHONE.fullmatch(digits) else None


def split_list(text: str) -> list[str]:
    """Split ``李强、周敏`` (or commas, semicolons, spaces) into unique names, in order."""
    return list(dict.fromkeys(p for p in _LIST_SPLIT.split(text or "") if p))


def infer_kind(name: str) -> str | None:
    """Guess a school's kind from its name (幼儿园 / 小学 / 中学)."""
    if "幼儿园" in name or "幼稚园" in name or name.endswith("园"):
        return SchoolKind.KINDERGARTEN
    if "小学" in name:
        return SchoolKind.PRIMARY
    if "中学" in name or "初中" in name:
        return SchoolKind.JUNIOR
    return None


@dataclasses.dataclass
class Known:
    """What the database already holds, as far as validation needs it."""

    schools: set[str] = dataclasses.field(default_factory=set)
    class_grades: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    staff_with_phone: set[tuple[str, str]] = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class GuardianLine:
    name: str
    relation: str
    phone: str
    row: int


@dataclasses.dataclass
class StudentPlan:
    school: str
    class_name: str
    name: str
    row: int
    gender: str | None = None
    responsible: str | None = None
    care: set[str] = dataclasses.field(default_factory=set)
    guardians: list[GuardianLine] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ClassPlan:
    school: str
    name: str
    row: int
    grade: str | None = None
    grade_row: int = 0
    head: str | None = None
    head_row: int = 0
    teachers: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class StaffPlan:
    school: str
    name: str
    row: int
    phone: str | None = None
    role: str | None = None
    duties: list[str] | None = None


GRID_ROLES = frozenset({"网格员", "社区网格员", "网格长", "网格联系人"})


@dataclasses.dataclass
class GridPlan:
    """A community grid contact (角色 网格员): not staff, the school's contact for off-campus matters."""

    school: str
    name: str
    row: int
    phone: str | None = None
    area: str = ""


@dataclasses.dataclass
class Plan:
    """The validated roster, ready to apply; ``errors`` must be empty first."""

    schools: dict[str, str | None] = dataclasses.field(default_factory=dict)
    staff: dict[tuple[str, str], StaffPlan] = dataclasses.field(default_factory=dict)
    classes: dict[tuple[str, str], ClassPlan] = dataclasses.field(default_factory=dict)
    students: dict[tuple[str, str, str], StudentPlan] = dataclasses.field(default_factory=dict)
    staff_sheet_schools: set[str] = dataclasses.field(default_factory=set)
    grid: dict[tuple[str, str], GridPlan] = dataclasses.field(default_factory=dict)
    errors: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)


class _Checker:
    def __init__(self, known: Known) -> None:
        self.known, self.plan = known, Plan()
        self._kind_rows: dict[str, tuple[str, str, int]] = {}

    def error(self, raw: RawRow, reason: str) -> None:
        self.plan.errors.append(f"「{raw.sheet}」表第 {raw.row} 行：{reason}")

    def required(self, raw: RawRow, names: tuple[str, ...]) -> bool:
        missing = [n for n in names if not raw.cells.get(n)]
        if missing:
            self.error(raw, f"「{'」「'.join(missing)}」未填写")
        return not missing

    def school(self, raw: RawRow) -> str:
        name, kind_text = raw.cells["学校"], raw.cells.get("学校类型", "")
        self.plan.schools.setdefault(name, None)
        if not kind_text:
            return name
        kind = KIND_BY_NAME.get(kind_text)
        if kind is None:
            self.error(raw, f"学校类型「{kind_text}」无法识别，可填：{'、'.join(KIND_BY_NAME)}")
            return name
        seen = self._kind_rows.get(name)
        if seen and seen[0] != kind:
            self.error(raw, f"「{name}」的学校类型与「{seen[2]}」表第 {seen[1]} 行不一致")
        self._kind_rows.setdefault(name, (kind, str(raw.row), raw.sheet))
        self.plan.schools[name] = kind
        return name

    def staff_row(self, raw: RawRow) -> None:
        if not self.required(raw, ("学校", "姓名", "角色")):
            return
        school, name, cells = self.school(raw), raw.cells["姓名"], raw.cells
        self.plan.staff_sheet_schools.add(school)
        if (school, name) in self.plan.staff:
            first = self.plan.staff[(school, name)].row
            self.error(raw, f"教职工「{name}」与第 {first} 行重复（同一学校内姓名须唯一）")
            return
        if cells["角色"] in GRID_ROLES:
            self.grid_row(raw, school, name)
            return
        role = ROLE_BY_NAME.get(cells["角色"]) or (Role.DIRECTOR if cells["角色"].endswith("主任") else None)
        if role is None:
            self.error(raw, f"角色「{cells['角色']}」无法识别，可填：班主任、任课教师、主任、校长、园长、管理员")
        phone = None
        if cells.get("手机号"):
            phone = normalize_phone(cells["手机号"])
            if phone is None:
                self.error(raw, f"手机号「{cells['手机号']}」不是有效的 11 位手机号")
            else:
                for other in self.plan.staff.values():
                    if other.school == school and other.phone == phone:
                        self.error(raw, f"手机号与第 {other.row} 行「{other.name}」相同")
        else:
            self.plan.warnings.append(f"教职工「{name}」（{school}）没有手机号，暂时无法绑定")
        duties = split_list(cells.get("职责", ""))
        if any(len(d) > 20 for d in duties):
            self.error(raw, "职责名称过长（每项不超过 20 字，多项用「、」分隔）")
        self.plan.staff[(school, name)] = StaffPlan(school, name, raw.row, phone, role, duties)

    def grid_row(self, raw: RawRow, school: str, name: str) -> None:
        phone = None
        if raw.cells.get("手机号"):
            phone = normalize_phone(raw.cells["手机号"])
            if phone is None:
                self.error(raw, f"手机号「{raw.cells['手机号']}」不是有效的 11 位手机号")
        if (school, name) in self.plan.grid:
            self.error(raw, f"网格员「{name}」与第 {self.plan.grid[(school, name)].row} 行重复")
        if len(raw.cells.get("职责", "")) > 100:
            self.error(raw, "网格员的职责栏写所在社区或街道，不超过 100 字")
        self.plan.grid[(school, name)] = GridPlan(school, name, raw.row, phone, raw.cells.get("职责", "").strip())

    def student_row(self, raw: RawRow) -> None:
        cells = raw.cells
        if not self.required(raw, ("学校", "班级", "学生姓名", "家长姓名", "关系", "手机号")):
            return
        school, class_name, name = self.school(raw), cells["班级"], cells["学生姓名"]
        ok = self._class(raw, school, class_name)
        phone = normalize_phone(cells["手机号"])
        if phone is None:
            ok = False
            self.error(raw, f"手机号「{cells['手机号']}」不是有效的 11 位手机号")
        relation = RELATION_ALIASES.get(cells["关系"], cells["关系"])
        if relation not in RELATIONS:
            ok = False
            self.error(raw, f"关系「{cells['关系']}」无法识别，可填：{'、'.join(RELATIONS)}")
        gender = None
        if cells.get("性别"):
            gender = GENDERS.get(cells["性别"])
            if gender is None:
                ok = False
                self.error(raw, f"性别「{cells['性别']}」应为 男 或 女")
        care = set()
        for flag in split_list(cells.get("特殊关爱", "")):
            if flag in CARE_FLAG_BY_NAME:
                care.add(CARE_FLAG_BY_NAME[flag])
            else:
                ok = False
                self.error(raw, f"特殊关爱「{flag}」无法识别，可填：{'、'.join(CARE_FLAG_BY_NAME)}")
        if ok:
            self._student(raw, school, class_name, name, gender, care, GuardianLine(
                cells["家长姓名"], relation, phone or "", raw.row))

    def _class(self, raw: RawRow, school: str, class_name: str) -> bool:
        cells, key = raw.cells, (school, class_name)
        plan = self.plan.classes.setdefault(key, ClassPlan(school, class_name, raw.row))
        ok = True
        grade, head = cells.get("年级", ""), cells.get("班主任", "")
        if grade and plan.grade and grade != plan.grade:
            ok = False
            self.error(raw, f"班级「{class_name}」的年级「{grade}」与第 {plan.grade_row} 行「{plan.grade}」不一致")
        elif grade and not plan.grade:
            plan.grade, plan.grade_row = grade, raw.row
        if head and plan.head and head != plan.head:
            ok = False
            self.error(raw, f"班级「{class_name}」的班主任「{head}」与第 {plan.head_row} 行「{plan.head}」不一致")
        elif head and not plan.head:
            plan.head, plan.head_row = head, raw.row
        for teacher in split_list(cells.get("任课教师", "")):
            if teacher not in plan.teachers:
                plan.teachers.append(teacher)
        return ok

    def _student(self, raw: RawRow, school: str, class_name: str, name: str, gender: str | None,
                 care: set[str], guardian: GuardianLine) -> None:
        key = (school, class_name, name)
        student = self.plan.students.get(key)
        if student is None:
            for other in self.plan.students.values():
                if other.school == school and other.name == name and any(
                        g.phone == guardian.phone for g in other.guardians):
                    self.error(raw, f"学生「{name}」已在第 {other.row} 行列入「{other.class_name}」，"
                                    f"同一学生不能同时在两个班")
                    return
            student = self.plan.students[key] = StudentPlan(school, class_name, name, raw.row)
        if gender and student.gender and gender != student.gender:
            self.error(raw, f"学生「{name}」与第 {student.row} 行同名但性别不同，疑似两个同名学生："
                            f"请在姓名后加以区分，如「{name}(大)」")
            return
        for g in student.guardians:
            if g.name == guardian.name and g.phone == guardian.phone:
                self.error(raw, f"与第 {g.row} 行重复（同一学生「{name}」、同一家长「{g.name}」）")
                return
            if g.name == guardian.name:
                self.error(raw, f"家长「{g.name}」在第 {g.row} 行填写了另一个手机号，请只保留一个")
                return
        responsible = raw.cells.get("包靠教师") or None
        if responsible and student.responsible and responsible != student.responsible:
            self.error(raw, f"学生「{name}」的包靠教师「{responsible}」与第 {student.row} 行"
                            f"「{student.responsible}」不一致")
            return
        student.gender = student.gender or gender
        student.responsible = student.responsible or responsible
        student.care |= care
        student.guardians.append(guardian)

    def finish(self, students: list[RawRow]) -> None:
        first_row = {(r.cells.get("学校"), r.cells.get("班级")): r for r in reversed(students)}
        for key, cls in self.plan.classes.items():
            if not cls.grade and key not in self.known.class_grades:
                raw = first_row.get(key) or RawRow("学生", cls.row, {})
                self.error(raw, f"班级「{cls.name}」是新班级，但各行都没有填写「年级」")
        for name, kind in list(self.plan.schools.items()):
            if kind is None and name not in self.known.schools:
                self.plan.schools[name] = infer_kind(name)
                if self.plan.schools[name] is None:
                    self.plan.errors.append(f"学校「{name}」：无法从校名判断学校类型，请填写「学校类型」列")
        self._teacher_warnings()

    def _teacher_warnings(self) -> None:
        named: dict[tuple[str, str], None] = {}
        for cls in self.plan.classes.values():
            for teacher in ([cls.head] if cls.head else []) + cls.teachers:
                named[(cls.school, teacher)] = None
        for st in self.plan.students.values():
            if st.responsible:
                named[(st.school, st.responsible)] = None
        for school, name in named:
            if (school, name) not in self.plan.staff and (school, name) not in self.known.staff_with_phone:
                self.plan.warnings.append(
                    f"老师「{name}」（{school}）不在「教职工」表中，已按老师登记但没有手机号，暂时无法绑定")


def check_roster(raw: RosterFile, known: Known) -> Plan:
    """Validate every row of a roster file and return the plan (errors listed, not raised)."""
    checker = _Checker(known)
    for row in raw.staff:
        checker.staff_row(row)
    for row in raw.students:
        checker.student_row(row)
    checker.finish(raw.students)
    return checker.plan
