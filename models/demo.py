"""The demo district: one kindergarten and one primary school, generated and imported as a roster.

The demo goes through the same roster import as a real school's file, so
seeding twice changes nothing. The people the docs mention are fixed:
张小明 (实验小学 一年级一班) with 妈妈 李娟 (138****1234) and 爸爸 张伟,
head teacher 王芳, principal 赵建国 and director 钱立新.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.demo_names import NameMaker
from models.directory import School, SchoolClass, Student
from models.roster import import_rows
from models.roster_file import STAFF_SHEET, STUDENT_SHEET, RawRow, RosterFile
from models.simulator import ensure_group

SEED = 20261123
PRIMARY, KINDERGARTEN = "实验小学", "阳光幼儿园"
SHARED_PHONE = "13700001111"  # two families registered one grandparent's phone
CARE_WEIGHTS = (("留守", 4), ("单亲", 2), ("家庭困难", 2), ("心理关注", 1), ("残疾", 1))

# (school, name, phone, role, duties); head teachers are added per class.
FIXED_STAFF = (
    (PRIMARY, "赵建国", "13500000001", "校长", ""),
    (PRIMARY, "钱立新", "13500000002", "主任", "教务、课后服务"),
    (PRIMARY, "王芳", "13500000003", "班主任", ""),
    (PRIMARY, "李强", "13500000005", "任课教师", "安全"),
    (PRIMARY, "周敏", "13500000006", "任课教师", "总务"),
    (PRIMARY, "吴刚", "13500000007", "任课教师", "财务"),
    (PRIMARY, "郑晓燕", "13500000008", "任课教师", ""),
    (PRIMARY, "孙志刚", "13500000010", "主任", "德育、安全、值班"),  # 值班: the on-duty leader of 疑似紧急 reviews
    (KINDERGARTEN, "陈淑华", "13600000001", "园长", ""),
    (KINDERGARTEN, "何丽", "13600000002", "主任", "教务、安全、德育、值班"),
    (KINDERGARTEN, "林晓", "13600000005", "任课教师", "总务"),
    (KINDERGARTEN, "徐静", "13600000006", "任课教师", "财务、课后服务"),
)
# (school, grade, class, size, subject teachers, a subject teacher paired with 5 of its students)
CLASSES = (
    (PRIMARY, "一年级", "一年级一班", 17, ("李强", "郑晓燕"), None),
    (PRIMARY, "一年级", "一年级二班", 17, ("李强", "郑晓燕"), "李强"),
    (PRIMARY, "二年级", "二年级一班", 18, ("李强",), "李强"),
    (PRIMARY, "三年级", "三年级一班", 17, ("周敏",), "周敏"),
    (PRIMARY, "四年级", "四年级一班", 18, ("周敏",), "周敏"),
    (PRIMARY, "五年级", "五年级一班", 17, ("吴刚",), "吴刚"),
    (PRIMARY, "六年级", "六年级一班", 18, ("吴刚",), "吴刚"),
    (KINDERGARTEN, "小班", "小一班", 14, ("林晓",), None),
    (KINDERGARTEN, "小班", "小二班", 14, ("林晓",), None),
    (KINDERGARTEN, "中班", "中一班", 14, ("林晓",), None),
    (KINDERGARTEN, "中班", "中二班", 14, ("徐静",), None),
    (KINDERGARTEN, "大班", "大一班", 14, ("徐静",), None),
    (KINDERGARTEN, "大班", "大二班", 14, ("徐静",), None),
)
ZHANG = ("张小明", "男", (("李娟", "妈妈", "13800001234"), ("张伟", "爸爸", "13900005678")))


@dataclasses.dataclass
class _Kid:
    school: str
    grade: str
    class_name: str
    name: str
    gender: str
    guardians: list[tuple[str, str, str]]
    care: str = ""
    responsible: str = ""


def build_demo_roster(seed: int = SEED) -> RosterFile:
    """Return the demo district as roster rows (the same every time for one seed)."""
    rng = random.Random(seed)
    names = NameMaker(rng, {s[1] for s in FIXED_STAFF} | {ZHANG[0]},
                      {s[2] for s in FIXED_STAFF} | {g[2] for g in ZHANG[2]} | {SHARED_PHONE})
    staff = [list(s) for s in FIXED_STAFF]
    heads: dict[str, str] = {"一年级一班": "王芳"}
    counters = {PRIMARY: 20, KINDERGARTEN: 10}
    for school, _, class_name, *_ in CLASSES:
        if class_name not in heads:
            heads[class_name] = names.unique_adult(rng.choice("女女女男"))
            counters[school] += 1
            prefix = "135" if school == PRIMARY else "136"
            staff.append([school, heads[class_name], f"{prefix}000000{counters[school]:02d}", "班主任", ""])
    kids: list[_Kid] = []
    for school, grade, class_name, size, _, pair_with in CLASSES:
        start = len(kids)
        if class_name == "一年级一班":
            kids.append(_Kid(school, grade, class_name, ZHANG[0], ZHANG[1], [tuple(g) for g in ZHANG[2]]))
        while len(kids) - start < size:
            kids.append(_family(rng, names, school, grade, class_name))
        if pair_with:
            for kid in [k for k in kids[start:] if not k.care][:5]:
                kid.responsible = pair_with
    _siblings(rng, names, kids)
    _share_grandparent_phone(kids)
    return RosterFile(students=_student_rows(kids, heads), staff=[
        RawRow(STAFF_SHEET, i, dict(zip(("学校", "姓名", "手机号", "角色", "职责"), s, strict=True)))
        for i, s in enumerate(staff, start=2)
    ])


def _family(rng: random.Random, names: NameMaker, school: str, grade: str, class_name: str) -> _Kid:
    gender = rng.choice("男女")
    surname = names.surname()
    kid = _Kid(school, grade, class_name, names.child(surname, gender), gender, [])
    mother = (names.adult("女"), "妈妈", names.phone())
    father = (names.adult("男", surname=surname), "爸爸", names.phone())
    if rng.random() < 0.065:
        kid.care = rng.choices([c for c, _ in CARE_WEIGHTS], weights=[w for _, w in CARE_WEIGHTS])[0]
    roll = rng.random()
    if kid.care == "留守":  # parents work away; grandparents bring the child up
        kid.guardians = [(names.adult("女", elder=True), "奶奶", names.phone()), father]
    elif kid.care == "单亲":
        kid.guardians = [mother if roll < 0.7 else father]
    else:
        kid.guardians = [mother, father] if roll < 0.55 else [mother] if roll < 0.85 else [father]
        if rng.random() < 0.12:
            kid.guardians.append((names.adult("女", elder=True), rng.choice(("奶奶", "外婆")), names.phone()))
    return kid


def _siblings(rng: random.Random, names: NameMaker, kids: list[_Kid]) -> None:
    """Give a few older children a younger sibling in the same school (same guardians)."""
    for school, older_grades, younger_classes in (
        (PRIMARY, ("四年级", "五年级", "六年级"), ("一年级二班", "二年级一班", "三年级一班")),
        (KINDERGARTEN, ("大班",), ("小一班",)),
    ):
        older = [k for k in kids if k.school == school and k.grade in older_grades and not k.care]
        for kid, class_name in zip(rng.sample(older, len(younger_classes)), younger_classes, strict=True):
            grade = next(c[1] for c in CLASSES if c[2] == class_name)
            gender = rng.choice("男女")
            sibling = _Kid(school, grade, class_name, names.child(kid.name[0], gender), gender, list(kid.guardians))
            kids.append(sibling)


def _share_grandparent_phone(kids: list[_Kid]) -> None:
    """Two families in different classes registered their grandmothers with one phone."""
    candidates = [k for k in kids if k.school == PRIMARY and k.class_name in ("二年级一班", "三年级一班")
                  and not k.care and len(k.guardians) == 1]
    first = next(k for k in candidates if k.class_name == "二年级一班")
    second = next(k for k in candidates if k.class_name == "三年级一班")
    first.guardians.append(("王秀英", "奶奶", SHARED_PHONE))
    second.guardians.append(("赵桂兰", "外婆", SHARED_PHONE))


def _student_rows(kids: list[_Kid], heads: dict[str, str]) -> list[RawRow]:
    teachers = {c[2]: "、".join(c[4]) for c in CLASSES}
    rows = []
    for kid in kids:
        for name, relation, phone in kid.guardians:
            cells = {
                "学校": kid.school, "班级": kid.class_name, "年级": kid.grade, "学生姓名": kid.name,
                "性别": kid.gender, "家长姓名": name, "关系": relation, "手机号": phone,
                "班主任": heads[kid.class_name], "任课教师": teachers[kid.class_name],
                "包靠教师": kid.responsible, "特殊关爱": kid.care,
            }
            rows.append(RawRow(STUDENT_SHEET, len(rows) + 2, cells))
    return rows


DEMO_CODES = {PRIMARY: "demo-primary", KINDERGARTEN: "demo-kg"}


def seed_demo(session: Session, now: dt.datetime) -> str:
    """Load (or refresh) the demo district and register its simulated class groups.

    Returns:
        A Chinese summary saying who to try in the simulator.
    """
    report = import_rows(session, build_demo_roster(), now)
    lines = ["演示学区已就绪："]
    for school in session.scalars(select(School).where(School.name.in_((PRIMARY, KINDERGARTEN)))
                                  .order_by(School.id)):
        school.is_demo = True
        if school.code.startswith("s-"):  # readable codes for URLs and --school (only if never renamed)
            school.code = DEMO_CODES[school.name]
        classes = session.scalars(select(SchoolClass).where(SchoolClass.school_id == school.id)).all()
        for cls in classes:
            ensure_group(session, cls, now)
        _reception_and_grid(session, school, now)
        count = session.scalar(select(func.count()).select_from(Student)
                               .where(Student.school_id == school.id, Student.active.is_(True)))
        lines.append(f"· {school.name}（编码 {school.code}）：{len(classes)} 个班，{count} 名学生")
    created = report.counts["学生"]["created"]
    lines.append(f"· 本次新建学生 {created} 名" if created else "· 演示数据已存在，未重复导入")
    lines += [
        "试试看（模拟器 /simulator，或 flask --app app chat --as 姓名）：",
        "· 张小明妈妈（李娟）：发送「绑定 张小明 1234」",
        "· 王芳（一年级一班班主任）：发送「绑定 王芳 0003」，再发送「生成绑定码 张小明 爸爸」，"
        "让张小明爸爸发送「绑定 绑定码」",
        "· 赵建国（校长）：「绑定 赵建国 0001」；钱立新（主任）：「绑定 钱立新 0002」",
        "· 校长接待日：每月第一个周一 14:00-17:00；家长发送「预约接待 事由」预约，校长「接待记录 编号 家长反映……」",
        "· 校门口交通、摊贩等校外事项自动转属地网格（网格员 刘卫东，幸福社区）；主任「属地反馈 编号 结果」后回访销号",
    ]
    return "\n".join(lines)


DEMO_GRID = ("刘卫东", "幸福社区", "13912340000")


def _reception_and_grid(session: Session, school: School, now: dt.datetime) -> None:
    """Give a demo school a reception day (first Monday of the month) and a grid contact, once."""
    from models import grid, reception
    from models.reception_rules import parse_rule

    if reception.active_schedule(session, school.id) is None:
        reception.set_schedule(session, school.id, parse_rule("每月第一个周一"), dt.time(14), dt.time(17), 6, [],
                               None, now)
    name, area, phone = DEMO_GRID
    grid.upsert_contact(session, school.id, name, area=area, phone=phone, source="demo")
