"""The roster (花名册) file: its columns, the Excel template, and reading .xlsx/.csv."""

from __future__ import annotations

import csv
import dataclasses
import io
import unicodedata
import zipfile
from pathlib import Path

STUDENT_SHEET = "学生"
STAFF_SHEET = "教职工"
HELP_SHEET = "说明"

# (header, required, width, explanation)
STUDENT_COLUMNS: tuple[tuple[str, bool, int, str], ...] = (
    ("学校", True, 14, "学校或幼儿园全称，如 实验小学、阳光幼儿园；新学校会自动建立"),
    ("学校类型", False, 10, "可选：幼儿园 / 小学 / 初中；不填时按校名判断"),
    ("班级", True, 14, "班级名称，如 一年级一班、小一班；同一班级各行的年级、班主任须一致"),
    ("年级", False, 10, "如 一年级、小班；新班级必填，已有班级或同班其他行已填写时可留空"),
    ("学生姓名", True, 10, "同一班级内学生姓名唯一"),
    ("性别", False, 6, "男 / 女，可留空"),
    ("家长姓名", True, 10, "一行一位家长；有两位家长的学生写两行"),
    ("关系", True, 8, "妈妈、爸爸、爷爷、奶奶、外公、外婆、姥姥、姥爷、哥哥、姐姐、监护人、家长"),
    ("手机号", True, 14, "11 位手机号，可带空格、横线或 +86；家长凭后四位绑定"),
    ("班主任", False, 10, "班主任姓名；不在「教职工」表中的老师会自动建立（无手机号）"),
    ("任课教师", False, 18, "可写多位，用「、」或逗号分隔"),
    ("包靠教师", False, 10, "负责联系这户家庭的老师；留空则在本班老师中自动分配（特殊关爱学生优先给班主任）"),
    ("特殊关爱", False, 14, "留守、家庭困难、残疾、单亲、心理关注，可写多项，用「、」分隔"),
)
STAFF_COLUMNS: tuple[tuple[str, bool, int, str], ...] = (
    ("学校", True, 14, "学校全称，与「学生」表一致"),
    ("姓名", True, 10, "同一学校内姓名唯一"),
    ("手机号", False, 14, "11 位手机号；老师凭后四位绑定，没有手机号则无法绑定"),
    ("角色", True, 10, "班主任 / 任课教师 / 主任 / 校长 / 园长 / 管理员 / 网格员（社区网格联系人，职责栏写社区或街道）"),
    ("职责", False, 22, "可写多项，用「、」分隔：总务、安全、德育、教务、财务、课后服务 …（问题按职责转给负责人）"),
)
STUDENT_SAMPLES = (
    ("实验小学", "小学", "一年级一班", "一年级", "张小明", "男", "李娟", "妈妈", "138 0000 1234",
     "王芳", "李强、周敏", "王芳", ""),
    ("实验小学", "小学", "一年级一班", "一年级", "张小明", "男", "张伟", "爸爸", "139-0000-5678",
     "王芳", "李强、周敏", "王芳", ""),
    ("实验小学", "小学", "一年级一班", "", "陈大宝", "女", "刘芳", "妈妈", "+86 13600002222",
     "王芳", "李强、周敏", "", "留守"),
)
STAFF_SAMPLES = (
    ("实验小学", "赵建国", "13500000001", "校长", ""),
    ("实验小学", "王芳", "13500000003", "班主任", "德育"),
    ("实验小学", "李强", "13500000005", "任课教师", "安全"),
    ("实验小学", "周敏", "13500000006", "任课教师", "总务"),
)
# Headers people actually write, mapped to ours.
HEADER_ALIASES = {
    "家长手机号": "手机号", "联系电话": "手机号", "电话": "手机号", "手机": "手机号", "家长电话": "手机号",
    "班级名称": "班级", "学校名称": "学校", "与学生关系": "关系", "家长关系": "关系",
    "监护人姓名": "家长姓名", "监护人": "家长姓名", "包靠老师": "包靠教师", "任课老师": "任课教师",
    "特殊关爱类型": "特殊关爱", "教师姓名": "姓名", "职务": "角色",
}


class RosterFileError(Exception):
    """The file cannot be read at all (wrong type, missing header, over a limit)."""


@dataclasses.dataclass(frozen=True)
class RosterLimits:
    """What a roster file may be (settings ``roster.*``): checked before and while reading it.

    ``max_unzipped_bytes`` caps what an .xlsx (a zip of XML) may expand to, so a
    small file cannot unpack into gigabytes.
    """

    max_bytes: int = 20_000_000
    max_rows: int = 50_000
    max_unzipped_bytes: int = 200_000_000


@dataclasses.dataclass(frozen=True)
class RawRow:
    """One data row as typed by the school, with where it came from."""

    sheet: str
    row: int
    cells: dict[str, str]


@dataclasses.dataclass
class RosterFile:
    """The rows of a roster file, split by kind."""

    students: list[RawRow] = dataclasses.field(default_factory=list)
    staff: list[RawRow] = dataclasses.field(default_factory=list)


def clean_cell(value: object) -> str:
    """Return a cell as text: full-width folded, spaces trimmed, ``13800001234.0`` repaired."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _header_key(value: object) -> str:
    key = "".join(clean_cell(value).split()).strip("*＊")
    return HEADER_ALIASES.get(key, key)


def write_template(path: Path | str) -> Path:
    """Write the Excel template: student sheet, staff sheet and an instructions sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    from models.sheet_safety import save_workbook

    path = Path(path)
    wb = Workbook()
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    sheets = ((STUDENT_SHEET, STUDENT_COLUMNS, STUDENT_SAMPLES), (STAFF_SHEET, STAFF_COLUMNS, STAFF_SAMPLES))
    for index, (title, columns, samples) in enumerate(sheets):
        ws = wb.active if index == 0 else wb.create_sheet()
        ws.title = title
        ws.append([c[0] for c in columns])
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
        for sample in samples:
            ws.append(list(sample))
        for col, (_, _, width, _) in enumerate(columns, start=1):
            ws.column_dimensions[ws.cell(1, col).column_letter].width = width
        ws.freeze_panes = "A2"
    help_ws = wb.create_sheet(HELP_SHEET)
    help_ws.append(["表", "列", "必填", "说明"])
    for cell in help_ws[1]:
        cell.font, cell.fill = bold, fill
    for title, columns, _ in sheets:
        for header, required, _, text in columns:
            help_ws.append([title, header, "是" if required else "", text])
    for note in _NOTES:
        help_ws.append(["", "", "", note])
    for col, width in zip("ABCD", (8, 12, 6, 90), strict=True):
        help_ws.column_dimensions[col].width = width
    for row in help_ws.iter_rows(min_row=2):
        row[3].alignment = Alignment(wrap_text=True)
    help_ws.freeze_panes = "A2"
    return save_workbook(wb, path)


_NOTES = (
    "「学生」表一行是一对「家长—学生」：有两位家长的学生写两行，兄弟姐妹各写一行（同一家长手机号相同）。",
    "导入前会检查每一行；只要有一行有误，整个文件都不导入，并列出每个错误所在的表和行号。",
    "重新导入修改后的花名册会原地更新：不会重复建立；花名册中已没有的学生标记为「已离校」，不会删除其记录。",
    "示例行可直接删除或覆盖。",
)


def read_roster(path: Path | str, limits: RosterLimits | None = None) -> RosterFile:
    """Read a roster: .xlsx (sheets 学生 / 教职工, by name or headers) or a student .csv.

    Raises:
        RosterFileError: unreadable, of another type, or over ``limits`` (one line in Chinese).
    """
    path, limits = Path(path), limits or RosterLimits()
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".csv", ".txt"):
        raise RosterFileError(f"不支持的文件类型「{path.suffix}」：请使用 .xlsx 或 .csv（另存为 Excel 工作簿即可）。")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise RosterFileError(f"文件过大（{_kb(size)}，上限 {_kb(limits.max_bytes)}）：请按学校分成几个文件分别导入。")
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, limits)
    return RosterFile(students=_rows(STUDENT_SHEET, _csv_rows(path.read_bytes(), limits.max_rows), STUDENT_COLUMNS))


def _kb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{max(size // 1_000, 1)} KB"


def _too_many(sheet: str, max_rows: int) -> RosterFileError:
    return RosterFileError(f"「{sheet}」表超过 {max_rows} 行：请按学校分成几个文件分别导入。")


def _csv_rows(data: bytes, max_rows: int) -> list[tuple[object, ...]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        rows: list[tuple[object, ...]] = []
        for r in csv.reader(io.StringIO(text)):
            if len(rows) > max_rows:  # the header plus max_rows data rows
                raise _too_many(STUDENT_SHEET, max_rows)
            rows.append(tuple(r))
        return rows
    raise RosterFileError("无法识别 CSV 文件的编码：请另存为 UTF-8 或 GBK 编码。")


def _check_zip(path: Path, limits: RosterLimits) -> None:
    """Refuse a file that is not a zip (every .xlsx is one) or that would unpack too large."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise RosterFileError("无法打开 Excel 文件：文件已损坏或不是 Excel 工作簿（.xlsx），请用 Excel 另存为后重试。") from exc
    if unpacked > limits.max_unzipped_bytes:
        raise RosterFileError(f"无法打开 Excel 文件：解压后过大（{_kb(unpacked)}），不像正常的花名册。")


def _read_xlsx(path: Path, limits: RosterLimits) -> RosterFile:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _check_zip(path, limits)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise RosterFileError("无法打开 Excel 文件：文件已损坏或不是 Excel 工作簿（.xlsx），请用 Excel 另存为后重试。") from exc
    result = RosterFile()
    try:
        for ws in wb.worksheets:
            rows = []
            for r in ws.iter_rows(values_only=True):
                if len(rows) > limits.max_rows:
                    raise _too_many(ws.title, limits.max_rows)
                rows.append(tuple(r))
            kind = _sheet_kind(ws.title, rows)
            if kind == "students":
                result.students += _rows(ws.title, rows, STUDENT_COLUMNS)
            elif kind == "staff":
                result.staff += _rows(ws.title, rows, STAFF_COLUMNS)
    finally:
        wb.close()
    if not result.students and not result.staff:
        raise RosterFileError(f"文件中没有找到「{STUDENT_SHEET}」或「{STAFF_SHEET}」表的数据。")
    return result


def _sheet_kind(title: str, rows: list[tuple[object, ...]]) -> str | None:
    name = clean_cell(title)
    if HELP_SHEET in name:
        return None
    if "学生" in name or "花名册" in name or "幼儿" in name:
        return "students"
    if "教职工" in name or "教师" in name or "老师" in name:
        return "staff"
    headers = {_header_key(v) for v in _first_nonempty(rows)[1]}
    if "学生姓名" in headers:
        return "students"
    if "角色" in headers and "姓名" in headers:
        return "staff"
    return None


def _first_nonempty(rows: list[tuple[object, ...]]) -> tuple[int, tuple[object, ...]]:
    for index, row in enumerate(rows):
        if any(clean_cell(v) for v in row):
            return index, row
    return len(rows), ()


def _rows(sheet: str, rows: list[tuple[object, ...]], columns: tuple[tuple[str, bool, int, str], ...]) -> list[RawRow]:
    start, header = _first_nonempty(rows)
    if not header:
        return []
    keys = [_header_key(v) for v in header]
    missing = [name for name, required, _, _ in columns if required and name not in keys]
    if missing:
        raise RosterFileError(f"「{sheet}」表缺少必需的列：{'、'.join(missing)}（表头在第 {start + 1} 行）。")
    known = {c[0] for c in columns}
    result = []
    for offset, row in enumerate(rows[start + 1 :], start=start + 2):
        cells = {k: clean_cell(v) for k, v in zip(keys, row, strict=False) if k in known}
        if any(cells.values()):
            result.append(RawRow(sheet, offset, cells))
    return result
