"""Roster (花名册) template and import: round trip, encodings, refusals, re-import in place, CLI."""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from models.directory import Guardian, School, SchoolClass, Staff, Student
from models.roster import RosterError, RosterLimits, import_roster, normalize_phone, write_template
from models.roster_file import STAFF_COLUMNS, STUDENT_COLUMNS
from tests.kit import SimBot

HEADERS = [c[0] for c in STUDENT_COLUMNS]
STAFF_HEADERS = [c[0] for c in STAFF_COLUMNS]


def row(student: str, guardian: str, relation: str, phone: str, cls: str = "一年级一班", grade: str = "一年级",
        head: str = "王芳", teachers: str = "李强", responsible: str = "", care: str = "", gender: str = "男") -> list:
    return ["实验小学", "", cls, grade, student, gender, guardian, relation, phone, head, teachers, responsible, care]


V1 = [
    row("张小明", "李娟", "妈妈", "13800001234"),
    row("张小明", "张伟", "爸爸", "13900005678"),
    row("陈大宝", "刘芳", "妈妈", "13600002222", care="留守", gender="女"),
    row("王小虎", "王秀英", "奶奶", "13700001111", cls="一年级二班", head="孙丽"),
]
STAFF = [
    ["实验小学", "赵建国", "13500000001", "校长", ""],
    ["实验小学", "王芳", "13500000003", "班主任", "德育"],
    ["实验小学", "孙丽", "13500000004", "班主任", ""],
    ["实验小学", "李强", "13500000005", "任课教师", "安全、总务"],
]


def write_xlsx(path, students: list[list], staff: list[list] | None = STAFF):
    wb = Workbook()
    ws = wb.active
    ws.title = "学生"
    ws.append(HEADERS)
    for r in students:
        ws.append(r)
    if staff is not None:
        ws2 = wb.create_sheet("教职工")
        ws2.append(STAFF_HEADERS)
        for r in staff:
            ws2.append(r)
    wb.save(path)
    return path


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def student(session, name: str) -> Student:
    return session.scalar(select(Student).where(Student.name == name))


def test_template_has_chinese_headers_help_and_frozen_header(tmp_path) -> None:
    path = write_template(tmp_path / "roster.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["学生", "教职工", "说明"]
    ws = wb["学生"]
    headers = [c.value for c in ws[1]]
    for name in ("学校", "班级", "年级", "学生姓名", "性别", "家长姓名", "关系", "手机号", "班主任", "任课教师",
                 "包靠教师", "特殊关爱"):
        assert name in headers
    assert ws["A1"].font.bold and ws.freeze_panes == "A2"
    help_text = " ".join(str(c.value) for r in wb["说明"].iter_rows() for c in r if c.value)
    assert "留守" in help_text and "妈妈" in help_text and "、" in help_text


def test_template_samples_import_cleanly(db_session, tmp_path, now) -> None:
    report = import_roster(db_session, write_template(tmp_path / "roster.xlsx"), now)
    school = db_session.scalar(select(School).where(School.name == "实验小学"))
    assert school.kind == "primary"
    cls = db_session.scalar(select(SchoolClass).where(SchoolClass.name == "一年级一班"))
    assert cls.grade == "一年级" and cls.head_teacher.name == "王芳"
    assert {ct.staff.name for ct in cls.teachers} == {"李强", "周敏"}
    zhang = student(db_session, "张小明")
    assert {(gs.relation, gs.guardian.name, gs.guardian.phone) for gs in zhang.guardianships} == {
        ("妈妈", "李娟", "13800001234"), ("爸爸", "张伟", "13900005678")}
    assert zhang.responsible_staff.name == "王芳"
    chen = student(db_session, "陈大宝")
    assert chen.care_names == ["留守"] and chen.responsible_staff.name == "王芳"  # special care → head teacher
    principal = db_session.scalar(select(Staff).where(Staff.name == "赵建国"))
    assert principal.role == "principal" and principal.phone == "13500000001"
    assert "学生：新建 2" in report.summary()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_in_utf8_and_gbk(db_session, tmp_path, now, encoding) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows(V1)
    path = tmp_path / "roster.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    import_roster(db_session, path, now)
    assert count(db_session, Student) == 3
    assert {gs.guardian.name for gs in student(db_session, "张小明").guardianships} == {"李娟", "张伟"}
    assert student(db_session, "王小虎").school_class.head_teacher.name == "孙丽"


def test_bad_rows_are_all_named_and_nothing_is_written(db_session, tmp_path, now) -> None:
    bad = [
        row("张小明", "李娟", "妈妈", "13800001234"),             # row 2: fine
        row("李小红", "李娟娟", "妈妈", "1380000123"),            # row 3: bad phone
        row("刘小花", "刘强", "爸爸", "13911112222", grade="二年级"),  # row 4: class with another grade
        row("张小明", "李娟", "妈妈", "138 0000 1234"),           # row 5: duplicate of row 2
        row("孙小美", "孙丽丽", "妈妈", "13622223333", care="贫困"),   # row 6: unknown care flag
        row("周小兵", "周大", "舅舅", "13633334444"),              # row 7: unknown relation
        row("吴小宝", "吴某", "爸爸", "13644445555", cls="三年级一班", grade=""),  # row 8: unknown class
    ]
    path = write_xlsx(tmp_path / "bad.xlsx", bad)
    with pytest.raises(RosterError) as caught:
        import_roster(db_session, path, now)
    message = str(caught.value)
    for line_no, reason in ((3, "手机号"), (4, "年级"), (5, "重复"), (6, "贫困"), (7, "舅舅"), (8, "三年级一班")):
        assert re.search(rf"「学生」表第 {line_no} 行：[^\n]*{reason}", message), (line_no, message)
    assert "表第 2 行" not in message
    assert count(db_session, School) == 0 and count(db_session, Student) == 0


def test_missing_required_header_is_named(db_session, tmp_path, now) -> None:
    wb = Workbook()
    wb.active.title = "学生"
    wb.active.append([h for h in HEADERS if h != "手机号"])
    wb.save(tmp_path / "r.xlsx")
    with pytest.raises(RosterError, match="缺少必需的列：手机号"):
        import_roster(db_session, tmp_path / "r.xlsx", now)


def test_reimport_updates_in_place_and_marks_leavers(ext, db_session, tmp_path, now) -> None:
    import_roster(db_session, write_xlsx(tmp_path / "v1.xlsx", V1), now)
    db_session.commit()
    bot = SimBot(ext, db_session)
    assert any("绑定成功" in r for r in bot.say("张小明妈妈", "绑定 张小明 1234"))
    assert any("绑定成功" in r for r in bot.say("陈大宝妈妈", "绑定 陈大宝 2222"))
    zhang_id, chen_id = student(db_session, "张小明").id, student(db_session, "陈大宝").id
    v2 = [
        row("张小明", "李娟", "妈妈", "13800009999", cls="一年级二班", head="孙丽"),  # moved, new phone
        row("张小明", "张伟", "爸爸", "13900005678", cls="一年级二班", head="孙丽"),
        row("王小虎", "王秀英", "奶奶", "13700001111", cls="一年级二班", head="孙丽"),
    ]
    report = import_roster(db_session, write_xlsx(tmp_path / "v2.xlsx", v2), now)
    db_session.commit()
    assert count(db_session, Student) == 3 and count(db_session, Guardian) == 4  # no duplicates
    zhang = student(db_session, "张小明")
    assert zhang.id == zhang_id and zhang.school_class.name == "一年级二班"
    mum = next(gs for gs in zhang.guardianships if gs.relation == "妈妈")
    assert mum.guardian.phone == "13800009999"
    chen = student(db_session, "陈大宝")
    assert chen.id == chen_id and not chen.active and chen.left_at == now
    assert len(chen.guardianships) == 1  # the leaver's family record is kept
    assert "学生：更新 1，未变 1，离校/停用 1" in report.summary()
    # 张小明妈妈's binding survived the move and the phone change.
    assert any("张小明妈妈" in r for r in bot.say("张小明妈妈", "帮助"))
    # Importing the same file again changes nothing.
    again = import_roster(db_session, tmp_path / "v2.xlsx", now)
    assert "学生：未变 2" in again.summary()


def test_teacher_missing_from_staff_sheet_is_created_with_a_warning(db_session, tmp_path, now) -> None:
    rows = [row("张小明", "李娟", "妈妈", "13800001234", teachers="李强、钱新来")]
    report = import_roster(db_session, write_xlsx(tmp_path / "r.xlsx", rows), now)
    created = db_session.scalar(select(Staff).where(Staff.name == "钱新来"))
    assert created.phone is None and created.role == "teacher"
    assert "钱新来" in report.summary() and "无法绑定" in report.summary()


def test_cli_template_and_import(runner, tmp_path) -> None:
    path = tmp_path / "t.xlsx"
    result = runner.invoke(args=["roster", "template", str(path)])
    assert result.exit_code == 0 and path.exists()
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "花名册导入完成" in result.output


def test_cli_refuses_bad_file_with_exit_code_1(runner, tmp_path) -> None:
    path = write_xlsx(tmp_path / "bad.xlsx", [row("张小明", "李娟", "妈妈", "12345")])
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 1
    assert "第 2 行" in result.output and "手机号" in result.output and "未导入" in result.output


def test_unsupported_file_type_is_explained(db_session, tmp_path, now) -> None:
    (tmp_path / "r.xls").write_bytes(b"old excel")
    with pytest.raises(RosterError, match=".xlsx"):
        import_roster(db_session, tmp_path / "r.xls", now)


_SEPARATOR = st.sampled_from(["", " ", "-", " - "])


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.lists(_SEPARATOR, min_size=10, max_size=10),
       st.sampled_from(["", "+86", "+86 ", "0086", "86"]))
def test_phone_normaliser_accepts_formatted_numbers(digits, seps, prefix) -> None:
    formatted = prefix + "".join(d + s for d, s in zip(digits, [*seps, ""], strict=True))
    assert normalize_phone(formatted) == digits


@given(st.text(max_size=20))
def test_phone_normaliser_returns_only_valid_mobiles(text) -> None:
    result = normalize_phone(text)
    assert result is None or re.fullmatch(r"1[3-9]\d{9}", result)


@pytest.mark.parametrize("bad", ["1380000123", "23800001234", "12800001234", "138000012345", "电话", ""])
def test_phone_normaliser_rejects(bad) -> None:
    assert normalize_phone(bad) is None


@pytest.mark.parametrize("content", [b"this is not a workbook", b"PK\x03\x04 broken zip", b""])
def test_an_unreadable_xlsx_gets_one_clear_line(runner, tmp_path, content) -> None:
    path = tmp_path / "花名册.xlsx"
    path.write_bytes(content)
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "BadZipFile" not in result.output
    assert "无法打开 Excel 文件" in result.output and len(result.output.strip().splitlines()) == 2


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(db_session, tmp_path, now) -> None:
    path = tmp_path / "huge.csv"
    path.write_bytes(("，".join(HEADERS) + "\n").encode() + b"x" * 2_000)
    with pytest.raises(RosterError, match="文件过大.*1 KB"):
        import_roster(db_session, path, now, limits=RosterLimits(max_bytes=1_000, max_rows=100))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_file_over_the_row_cap_is_refused_and_named(db_session, tmp_path, now, suffix) -> None:
    rows = [row(f"学生{i}", f"家长{i}", "妈妈", f"1380000{i:04d}") for i in range(30)]
    path = write_xlsx(tmp_path / "r.xlsx", rows) if suffix == ".xlsx" else tmp_path / "r.csv"
    if suffix == ".csv":
        path.write_text("\n".join(",".join(r) for r in [HEADERS, *rows]), encoding="utf-8")
    with pytest.raises(RosterError, match="超过 20 行"):
        import_roster(db_session, path, now, limits=RosterLimits(max_bytes=10_000_000, max_rows=20))
    assert count(db_session, Student) == 0


def test_a_workbook_that_unzips_to_far_more_than_its_size_is_refused(db_session, tmp_path, now) -> None:
    import zipfile

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/sharedStrings.xml", b"<sst>" + b"A" * 5_000_000 + b"</sst>")
    assert path.stat().st_size < 100_000
    with pytest.raises(RosterError, match="解压后过大"):
        import_roster(db_session, path, now,
                      limits=RosterLimits(max_bytes=1_000_000, max_rows=1_000, max_unzipped_bytes=2_000_000))


def test_a_long_error_list_stops_at_200_lines_with_a_count(db_session, tmp_path, now) -> None:
    rows = [row(f"学生{i}", f"家长{i}", "妈妈", "12345") for i in range(250)]  # every phone is bad
    with pytest.raises(RosterError) as caught:
        import_roster(db_session, write_xlsx(tmp_path / "r.xlsx", rows), now)
    lines = str(caught.value).splitlines()
    assert len(lines) == 202 and "250 处错误" in lines[0] and lines[-1] == "……另有 50 处错误未列出。"
    assert len(caught.value.problems) == 250
